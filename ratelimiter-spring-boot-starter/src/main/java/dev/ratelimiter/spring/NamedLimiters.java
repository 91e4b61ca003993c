package dev.ratelimiter.spring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import dev.ratelimiter.spring.autoconfigure.LimitDefinition;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.Backend;

/**
 * Every limiter configured under {@code ratelimiter.limits}, by name: the bean the annotation, the
 * HTTP rules and the Actuator endpoint use. Limits changed at run time
 * ({@link #apply(List)}) reconfigure the running limiters, keeping each key's state. Thread-safe.
 */
public final class NamedLimiters {

    private final Map<Backend, LimiterBackend> backends;
    private volatile Map<String, NamedLimiter> byName;

    /**
     * @param definitions the limits, checked
     * @param backends    the backend of each kind the definitions use
     * @throws IllegalStateException if a definition's backend is not available
     */
    public NamedLimiters(List<LimitDefinition> definitions, Map<Backend, LimiterBackend> backends) {
        this.backends = Collections.unmodifiableMap(new EnumMap<>(backends));
        Map<String, NamedLimiter> made = new LinkedHashMap<>();
        for (LimitDefinition d : definitions) {
            made.put(d.name(), create(d));
        }
        this.byName = Collections.unmodifiableMap(made);
    }

    private NamedLimiter create(LimitDefinition d) {
        LimiterBackend backend = backends.get(d.backend());
        if (backend == null) {
            throw new IllegalStateException("limit \"" + d.name() + "\" runs on the " + d.backend().name().toLowerCase()
                    + " backend, which is not available: for redis, add dev.ratelimiter:ratelimiter-redis and "
                    + "spring-boot-starter-data-redis (its spring.data.redis.* connection), or a Lettuce "
                    + "RedisClient bean");
        }
        return backend.create(d);
    }

    /**
     * @param name a limit's name
     * @return its limiter
     * @throws IllegalArgumentException if no limit has that name, listing the names there are
     */
    public NamedLimiter get(String name) {
        NamedLimiter limiter = byName.get(Objects.requireNonNull(name, "name"));
        if (limiter == null) {
            throw new IllegalArgumentException("no limit is named \"" + name + "\" under ratelimiter.limits; the "
                    + "names are " + byName.keySet());
        }
        return limiter;
    }

    /**
     * @param name a limit's name
     * @return its limiter, if there is one
     */
    public Optional<NamedLimiter> find(String name) {
        return Optional.ofNullable(byName.get(Objects.requireNonNull(name, "name")));
    }

    /** @return every limiter, in the order of the properties */
    public Collection<NamedLimiter> all() {
        return byName.values();
    }

    /**
     * Applies new definitions, as read again from the properties: a changed limit reconfigures
     * its running limiter (each key's state carries over), a new name gets a new limiter. A name no
     * longer defined keeps its limiter (an annotation may still use it).
     *
     * @param definitions the definitions now
     * @return the names reconfigured or added
     * @throws IllegalArgumentException      if a change cannot be made at run time (a backend, a
     *                                       key bound, a failure policy); nothing is changed then
     * @throws UnsupportedOperationException if a composite's limits change; nothing is changed then
     */
    public synchronized List<String> apply(List<LimitDefinition> definitions) {
        // Check every change first, so a refused one changes nothing.
        List<LimitDefinition> changed = new ArrayList<>();
        List<LimitDefinition> added = new ArrayList<>();
        for (LimitDefinition d : definitions) {
            NamedLimiter now = byName.get(d.name());
            if (now == null) {
                added.add(d);
            } else if (!now.definition().equals(d)) {
                check(now.definition(), d);
                changed.add(d);
            }
        }
        List<String> names = new ArrayList<>();
        for (LimitDefinition d : changed) {
            byName.get(d.name()).reconfigure(d);
            names.add(d.name());
        }
        if (!added.isEmpty()) {
            Map<String, NamedLimiter> next = new LinkedHashMap<>(byName);
            for (LimitDefinition d : added) {
                next.put(d.name(), create(d));
                names.add(d.name());
            }
            byName = Collections.unmodifiableMap(next);
        }
        return names;
    }

    static void check(LimitDefinition now, LimitDefinition next) {
        if (next.backend() != now.backend() || next.maxKeys() != now.maxKeys()
                || next.failurePolicy() != now.failurePolicy()) {
            throw new IllegalArgumentException("limit \"" + now.name() + "\": only its algorithm and numbers change at "
                    + "run time, not its backend, max-keys or failure policy (restart for those): " + now + " -> "
                    + next);
        }
        if (now.composite() || next.composite()) {
            throw new UnsupportedOperationException("limit \"" + now.name() + "\" is a composite (all-of), whose "
                    + "limits are fixed; restart to change them: " + now.limits() + " -> " + next.limits());
        }
    }

    @Override
    public String toString() {
        return "NamedLimiters" + byName.values();
    }
}

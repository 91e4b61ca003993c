package dev.ratelimiter;

import dev.ratelimiter.internal.Listeners;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Limiters by name, created on first use by a {@link RateLimiterFactory} and the same object
 * ever after: the one place an application (or a framework integration) finds its limiters,
 * lists them and changes their limits.
 *
 * <p>A name holds one limiter, single or keyed, with one limit. Asking for a name again with the
 * same limit returns the same limiter; with another limit (or the other kind) it is refused with
 * an {@link IllegalArgumentException} naming the name and both limits, since two parts of an
 * application silently sharing a name under different limits is a bug. A limit is changed
 * explicitly, with {@link #reconfigure(String, Limit)}; the limit a name is compared with is
 * the one its limiter enforces now.
 *
 * <p>Thread-safe: concurrent first requests for one name create one limiter, which all of them
 * get; lookups of a registered name take no lock.
 *
 * <pre>{@code
 * RateLimiterRegistry registry = RateLimiterRegistry.of(LocalRateLimiters.factory());
 * RateLimiter search = registry.limiter("search", TokenBucket.of(50, 10, Duration.ofSeconds(1)));
 * registry.find("search").ifPresent(l -> log(l.availablePermits()));
 * registry.reconfigure("search", TokenBucket.of(100, 20, Duration.ofSeconds(1)));
 * }</pre>
 */
public final class RateLimiterRegistry {

    /** Whether a name holds a single or a keyed limiter. */
    public enum Kind {
        /** A {@link RateLimiter}. */
        SINGLE,
        /** A {@link KeyedRateLimiter}. */
        KEYED
    }

    /**
     * One registered limiter, as listed by {@link #entries()}.
     *
     * @param name  its name
     * @param limit the limit it enforces now
     * @param kind  single or keyed
     */
    public record Entry(String name, Limit limit, Kind kind) {
        /**
         * @param name  its name
         * @param limit the limit it enforces now
         * @param kind  single or keyed
         * @throws NullPointerException if an argument is {@code null}
         */
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(limit, "limit");
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** What a name holds: exactly one of the two is set. */
    private record Registered(RateLimiter single, KeyedRateLimiter<String> keyed) {
        Kind kind() {
            return single != null ? Kind.SINGLE : Kind.KEYED;
        }

        Limit limit() {
            return single != null ? single.limit() : keyed.limit();
        }
    }

    private final RateLimiterFactory factory;
    private final ConcurrentHashMap<String, Registered> limiters = new ConcurrentHashMap<>();

    private RateLimiterRegistry(RateLimiterFactory factory) {
        this.factory = factory;
    }

    /**
     * @param factory makes the limiters (and decides their backend and listeners)
     * @return an empty registry
     * @throws NullPointerException if {@code factory} is {@code null}
     */
    public static RateLimiterRegistry of(RateLimiterFactory factory) {
        return new RateLimiterRegistry(Objects.requireNonNull(factory, "factory"));
    }

    /** @return the factory this registry creates its limiters with */
    public RateLimiterFactory factory() {
        return factory;
    }

    /**
     * The limiter named {@code name}, created with {@code limit} if there is none yet.
     *
     * @param name  the name
     * @param limit its limit
     * @return the limiter; the same object for every call with this name
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} holds a keyed limiter, or a limiter with
     *                                  another limit (the message names both limits), or the
     *                                  factory refuses the name or the limit
     */
    public RateLimiter limiter(String name, Limit limit) {
        return lookUp(name, limit, Kind.SINGLE).single();
    }

    /**
     * The keyed limiter named {@code name}, created with {@code limit} if there is none yet.
     *
     * @param name  the name
     * @param limit the limit of every key
     * @return the keyed limiter; the same object for every call with this name
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} holds a single limiter, or a keyed limiter
     *                                  with another limit, or the factory refuses the name or limit
     */
    public KeyedRateLimiter<String> keyed(String name, Limit limit) {
        return lookUp(name, limit, Kind.KEYED).keyed();
    }

    private Registered lookUp(String name, Limit limit, Kind kind) {
        Listeners.name(name);
        Objects.requireNonNull(limit, "limit");
        Registered registered = limiters.get(name);
        if (registered == null) {
            registered = limiters.computeIfAbsent(name, n -> kind == Kind.SINGLE
                    ? new Registered(Objects.requireNonNull(factory.create(n, limit), "factory.create"), null)
                    : new Registered(null, Objects.requireNonNull(factory.keyed(n, limit), "factory.keyed")));
        }
        if (registered.kind() != kind) {
            throw new IllegalArgumentException("name " + name + " holds a " + describe(registered.kind())
                    + " limiter, not a " + describe(kind) + " one: name=" + name + ", limit=" + limit
                    + ", registered limit=" + registered.limit());
        }
        Limit current = registered.limit();
        if (!current.equals(limit)) {
            throw new IllegalArgumentException("name " + name + " is already registered with another limit "
                    + "(use reconfigure to change it): name=" + name + ", limit=" + limit
                    + ", registered limit=" + current);
        }
        return registered;
    }

    private static String describe(Kind kind) {
        return kind == Kind.SINGLE ? "single" : "keyed";
    }

    /**
     * @param name a name
     * @return the single limiter registered under {@code name}, if any
     * @throws NullPointerException if {@code name} is {@code null}
     */
    public Optional<RateLimiter> find(String name) {
        Registered r = limiters.get(Objects.requireNonNull(name, "name"));
        return r == null ? Optional.empty() : Optional.ofNullable(r.single());
    }

    /**
     * @param name a name
     * @return the keyed limiter registered under {@code name}, if any
     * @throws NullPointerException if {@code name} is {@code null}
     */
    public Optional<KeyedRateLimiter<String>> findKeyed(String name) {
        Registered r = limiters.get(Objects.requireNonNull(name, "name"));
        return r == null ? Optional.empty() : Optional.ofNullable(r.keyed());
    }

    /**
     * @return every registered limiter, sorted by name, with the limit it enforces now; a
     *     snapshot (limiters registered meanwhile may or may not be listed)
     */
    public List<Entry> entries() {
        List<Entry> entries = new ArrayList<>(limiters.size());
        limiters.forEach((name, r) -> entries.add(new Entry(name, r.limit(), r.kind())));
        entries.sort(Comparator.comparing(Entry::name));
        return List.copyOf(entries);
    }

    /**
     * Replaces the limit of the limiter named {@code name}, keeping its state by the rules of
     * {@link RateLimiter#reconfigure(Limit)}; later calls of {@link #limiter} or {@link #keyed}
     * for this name must then give the new limit.
     *
     * @param name  the name of a registered limiter
     * @param limit the new limit
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if no limiter is registered under {@code name}, or the
     *                                  limiter refuses the new limit (another family, ...)
     */
    public void reconfigure(String name, Limit limit) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(limit, "limit");
        Registered r = limiters.get(name);
        if (r == null) {
            throw new IllegalArgumentException("name must be a registered limiter's: name=" + name);
        }
        if (r.single() != null) {
            r.single().reconfigure(limit);
        } else {
            r.keyed().reconfigure(limit);
        }
    }

    @Override
    public String toString() {
        return "RateLimiterRegistry{" + factory + ", limiters=" + limiters.size() + '}';
    }
}

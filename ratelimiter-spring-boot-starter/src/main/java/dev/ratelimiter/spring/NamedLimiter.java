package dev.ratelimiter.spring;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.spring.autoconfigure.LimitDefinition;

/**
 * A limiter configured by name ({@code ratelimiter.limits.<name>}): a keyed limiter of one limit,
 * or of several decided as one, on the local or the Redis backend. The annotation, the HTTP
 * filters and the Actuator endpoint all decide through it. Thread-safe.
 */
public final class NamedLimiter {

    private final String name;
    private volatile LimitDefinition definition;
    private final KeyedRateLimiter<String> limiter;
    private final BiFunction<String, Long, CompletionStage<Decision>> async;
    private final LongSupplier keysHeld;

    /**
     * @param definition the limit as configured
     * @param limiter    the limiter deciding it
     * @param async      decides without blocking the caller (Redis), or {@code null} to decide on the
     *                   caller's thread (local: a decision never blocks)
     * @param keysHeld   how many keys the limiter holds in process, or {@code null} when it keeps
     *                   them elsewhere (Redis)
     * @throws NullPointerException if {@code definition} or {@code limiter} is {@code null}
     */
    public NamedLimiter(LimitDefinition definition, KeyedRateLimiter<String> limiter,
                        BiFunction<String, Long, CompletionStage<Decision>> async, LongSupplier keysHeld) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.name = definition.name();
        this.limiter = Objects.requireNonNull(limiter, "limiter");
        this.async = async;
        this.keysHeld = keysHeld;
    }

    /** @return how many keys the limiter holds in this process, if it holds them here */
    public OptionalLong keysHeld() {
        return keysHeld == null ? OptionalLong.empty() : OptionalLong.of(keysHeld.getAsLong());
    }

    /** @return the name, as in {@code ratelimiter.limits.<name>} */
    public String name() {
        return name;
    }

    /** @return the limit as configured now (changed by {@link #reconfigure(LimitDefinition)}) */
    public LimitDefinition definition() {
        return definition;
    }

    /** @return the limits decided: one, or the parts of a composite */
    public List<Limit> limits() {
        return definition.limits();
    }

    /** @return the keyed limiter itself, for every operation of {@link KeyedRateLimiter} */
    public KeyedRateLimiter<String> limiter() {
        return limiter;
    }

    /**
     * @param key     the key
     * @param permits the permits asked for, {@code > 0}
     * @return the decision, the permits taken if it is allowed
     */
    public Decision decide(String key, long permits) {
        return limiter.decide(key, permits);
    }

    /**
     * Decides without blocking the calling thread on a remote backend: Redis is asked
     * asynchronously; a local limiter decides at once.
     *
     * @param key     the key
     * @param permits the permits asked for, {@code > 0}
     * @return the decision
     */
    public CompletionStage<Decision> decideAsync(String key, long permits) {
        if (async == null) {
            try {
                return CompletableFuture.completedFuture(limiter.decide(key, permits));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return async.apply(key, permits);
    }

    /**
     * Changes the limit keeping each key's state (see {@link KeyedRateLimiter#reconfigure(Limit)}
     * for what carries over per algorithm).
     *
     * @param next the new definition, of the same name
     * @throws IllegalArgumentException      if it names another limit, changes the backend or the
     *                                       number of limits, or the limiter refuses the change
     * @throws UnsupportedOperationException for a composite, whose limits are fixed
     */
    public synchronized void reconfigure(LimitDefinition next) {
        Objects.requireNonNull(next, "next");
        LimitDefinition now = definition;
        if (!next.name().equals(name)) {
            throw new IllegalArgumentException("next must be a definition of \"" + name + "\": next=" + next.name());
        }
        if (next.equals(now)) {
            return;
        }
        NamedLimiters.check(now, next);
        limiter.reconfigure(next.limits().get(0));
        definition = next;
    }

    @Override
    public String toString() {
        return "NamedLimiter[" + name + ", " + definition.backend() + ", " + definition.limits() + "]";
    }
}

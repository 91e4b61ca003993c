package dev.ratelimiter;

import java.time.Duration;
import java.util.Objects;

/**
 * A family of independent limits, one per key (a user, a tenant, an endpoint), all with the
 * same {@link Limit}. Each key behaves like its own {@link RateLimiter}, except where an
 * implementation documents a bound on the number of keys it holds.
 *
 * <p>Implementations are thread-safe and keep memory bounded: state for keys that are idle and
 * back to their full state may be dropped, which is invisible to callers because a fresh state
 * is full too.
 *
 * <pre>{@code
 * KeyedRateLimiter<String> perUser = LocalRateLimiters.keyed(TokenBucket.of(20, 20, Duration.ofMinutes(1)));
 * if (!perUser.tryAcquire(userId)) {
 *     return tooManyRequests();
 * }
 * }</pre>
 *
 * @param <K> the key type; keys must have consistent {@code equals} and {@code hashCode}
 */
@CheckReturnValue
public interface KeyedRateLimiter<K> {

    /**
     * Acquires one permit for {@code key} if it is available now.
     *
     * @param key the key
     * @return {@code true} if the permit was granted
     * @throws NullPointerException if {@code key} is {@code null}
     */
    default boolean tryAcquire(K key) {
        return tryAcquire(key, 1);
    }

    /**
     * Acquires {@code permits} permits for {@code key} if they are all available now.
     *
     * @param key     the key
     * @param permits the number of permits, {@code > 0}
     * @return {@code true} if the permits were granted
     * @throws NullPointerException     if {@code key} is {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    boolean tryAcquire(K key, long permits);

    /**
     * Like {@link #tryAcquire(Object, long)}, reporting the whole decision.
     *
     * @param key     the key
     * @param permits the number of permits, {@code > 0}
     * @return the decision; never {@code null}
     * @throws NullPointerException     if {@code key} is {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    Decision decide(K key, long permits);

    /**
     * Acquires permits for {@code key}, waiting up to {@code timeout}; see
     * {@link RateLimiter#tryAcquire(long, Duration)}.
     *
     * @param key     the key
     * @param permits the number of permits, {@code > 0}
     * @param timeout the longest time to wait
     * @return {@code true} if the permits were granted
     * @throws NullPointerException     if {@code key} or {@code timeout} is {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     * @throws InterruptedException     if the thread is interrupted while waiting
     */
    boolean tryAcquire(K key, long permits, Duration timeout) throws InterruptedException;

    /**
     * Returns the limit every key is held to.
     *
     * @return the limit; never {@code null}
     */
    Limit limit();

    /**
     * Returns a {@link RateLimiter} view of one key, for use with the {@link Decorators}.
     * The view holds no state of its own: it delegates every call to this keyed limiter.
     *
     * @param key the key
     * @return a limiter for {@code key}
     * @throws NullPointerException if {@code key} is {@code null}
     */
    default RateLimiter forKey(K key) {
        Objects.requireNonNull(key, "key");
        KeyedRateLimiter<K> keyed = this;
        return new RateLimiter() {
            @Override
            public boolean tryAcquire(long permits) {
                return keyed.tryAcquire(key, permits);
            }

            @Override
            public Decision decide(long permits) {
                return keyed.decide(key, permits);
            }

            @Override
            public boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
                return keyed.tryAcquire(key, permits, timeout);
            }

            @Override
            public Limit limit() {
                return keyed.limit();
            }

            @Override
            public String toString() {
                return "RateLimiter{key=" + key + ", " + keyed + '}';
            }
        };
    }
}

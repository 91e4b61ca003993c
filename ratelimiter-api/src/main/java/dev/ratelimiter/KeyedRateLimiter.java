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
     * Answers what {@link #decide(Object, long) decide(key, permits)} would answer now, consuming
     * and writing nothing; see {@link RateLimiter#peek(long)}. A key that holds no state is
     * reported full and stays absent.
     *
     * @param key     the key
     * @param permits the number of permits, {@code > 0}
     * @return the decision {@code decide(key, permits)} would return at this instant
     * @throws NullPointerException     if {@code key} is {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    Decision peek(K key, long permits);

    /**
     * Returns how many permits one request for {@code key} could be granted now; see
     * {@link RateLimiter#availablePermits()}.
     *
     * @param key the key
     * @return the permits available now for {@code key}, {@code >= 0}
     * @throws NullPointerException if {@code key} is {@code null}
     */
    long availablePermits(K key);

    /**
     * Puts {@code key} back in its initial state (full, its history forgotten); see
     * {@link RateLimiter#reset()}.
     *
     * @param key the key
     * @throws NullPointerException if {@code key} is {@code null}
     */
    void reset(K key);

    /**
     * Gives back {@code permits} permits of earlier grants to {@code key}, never beyond full; see
     * {@link RateLimiter#refund(long)} for what it means per algorithm.
     *
     * @param key     the key
     * @param permits the number of permits to give back, {@code > 0}
     * @throws NullPointerException     if {@code key} is {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    void refund(K key, long permits);

    /**
     * Takes every permit available now for {@code key} and returns how many were taken; see
     * {@link RateLimiter#drain()}.
     *
     * @param key the key
     * @return the permits taken, {@code >= 0}
     * @throws NullPointerException if {@code key} is {@code null}
     */
    long drain(K key);

    /**
     * Replaces the limit every key is held to, keeping each key's state by the rules of
     * {@link RateLimiter#reconfigure(Limit)}. A decision for any key made at the same time as the
     * change is decided wholly under the old limit or wholly under the new one.
     *
     * @param limit the new limit
     * @throws NullPointerException     if {@code limit} is {@code null}
     * @throws IllegalArgumentException if {@code limit} is of another family, or a counter's
     *                                  window length differs
     */
    void reconfigure(Limit limit);

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
            public Decision peek(long permits) {
                return keyed.peek(key, permits);
            }

            @Override
            public long availablePermits() {
                return keyed.availablePermits(key);
            }

            @Override
            public void reset() {
                keyed.reset(key);
            }

            @Override
            public void refund(long permits) {
                keyed.refund(key, permits);
            }

            @Override
            public long drain() {
                return keyed.drain(key);
            }

            /**
             * Refused: the limit belongs to every key, so change it on the keyed limiter.
             *
             * @throws UnsupportedOperationException always
             */
            @Override
            public void reconfigure(Limit limit) {
                throw new UnsupportedOperationException("reconfigure the keyed limiter " + keyed
                        + ", not the view of its key " + key + ": its limit is every key's");
            }

            @Override
            public String toString() {
                return "RateLimiter{key=" + key + ", " + keyed + '}';
            }
        };
    }
}

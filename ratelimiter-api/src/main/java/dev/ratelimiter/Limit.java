package dev.ratelimiter;

/**
 * An immutable, validated description of a rate limit, independent of where it is enforced.
 * The same {@code Limit} means exactly the same thing in process and in Redis.
 *
 * <p>The families:
 * <ul>
 *   <li>{@link TokenBucket}: capacity C, refilled continuously; allows bursts up to C.
 *   <li>{@link LeakyBucket}: a meter (GCRA, rate with a burst tolerance) or a queue
 *       (evenly spaced admissions, bounded wait).
 *   <li>{@link SlidingWindow}: an exact log, or an O(1) counter approximation.
 * </ul>
 *
 * <p>All values are validated when built: zero, negative, NaN, overflowing or {@code null}
 * settings throw {@link IllegalArgumentException} or {@link NullPointerException} naming the
 * parameter and its value. Periods and windows range from 1 ms to 30 days, counts of permits up
 * to {@code Long.MAX_VALUE / 2}, rates up to 10^9 permits per second.
 */
public sealed interface Limit permits TokenBucket, LeakyBucket, SlidingWindow {

    /**
     * The most permits a single request can ever be granted. A larger request is refused at
     * once with {@link Decision#exceedsLimit()}.
     *
     * @return the largest grantable request, {@code > 0}
     */
    long maxPermits();
}

package dev.ratelimiter.local;

import dev.ratelimiter.Limit;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import java.util.Objects;

/**
 * Creates lock-free in-process limiters.
 *
 * <p>Every limiter made here is thread-safe; {@code tryAcquire} and {@code decide} are
 * lock-free (one clock read and one CAS; a refusal consumes nothing and, for the buckets, writes
 * nothing; the sliding windows may move their window forward on a refusal). Token bucket, leaky bucket
 * and sliding window counter allocate nothing per {@code tryAcquire}; the sliding window log
 * allocates one small entry per granted request, kept while it is inside the window.
 * {@code reconfigure}, {@code refund} and {@code reset} replace the limiter's engine by one built
 * from its state; they are serialized among themselves, while decisions stay lock-free and are
 * each decided wholly under the old or the new limit.
 *
 * <pre>{@code
 * RateLimiter api = LocalRateLimiters.create(TokenBucket.of(100, 10, Duration.ofSeconds(1)));
 * KeyedRateLimiter<String> perUser = LocalRateLimiters.keyed(SlidingWindow.log(60, Duration.ofMinutes(1)));
 * }</pre>
 */
public final class LocalRateLimiters {

    private LocalRateLimiters() {
    }

    /**
     * A limiter on the system clock.
     *
     * @param limit the limit to enforce
     * @return a new limiter, starting full
     * @throws NullPointerException if {@code limit} is {@code null}
     */
    public static RateLimiter create(Limit limit) {
        return create(limit, Ticker.system(), Sleeper.system());
    }

    /**
     * A limiter on the given clock; blocking waits really sleep.
     *
     * @param limit  the limit to enforce
     * @param ticker the clock
     * @return a new limiter, starting full
     * @throws NullPointerException if an argument is {@code null}
     */
    public static RateLimiter create(Limit limit, Ticker ticker) {
        return create(limit, ticker, Sleeper.system());
    }

    /**
     * A limiter on the given clock and sleeper (tests pass a fake clock whose sleeper advances it).
     *
     * @param limit   the limit to enforce
     * @param ticker  the clock
     * @param sleeper how blocking acquires wait
     * @return a new limiter, starting full
     * @throws NullPointerException if an argument is {@code null}
     */
    public static RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return new ReconfigurableLimiter(newLimiter(limit, ticker, sleeper));
    }

    /**
     * A keyed limiter on the system clock, with the default bound of
     * {@value LocalKeyedRateLimiter#DEFAULT_MAX_KEYS} keys.
     *
     * @param limit the limit every key is held to
     * @param <K>   the key type
     * @return a new keyed limiter
     * @throws NullPointerException if {@code limit} is {@code null}
     */
    public static <K> LocalKeyedRateLimiter<K> keyed(Limit limit) {
        return LocalKeyedRateLimiter.builder(limit).build();
    }

    static LocalLimiter newLimiter(Limit limit, Ticker ticker, Sleeper sleeper) {
        Objects.requireNonNull(limit, "limit");
        Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(sleeper, "sleeper");
        return newLimiter(limit, ticker, sleeper, ticker.read());
    }

    /**
     * A limiter that starts full at ticker reading {@code origin} (readings before it count as
     * the clock going backwards).
     */
    static LocalLimiter newLimiter(Limit limit, Ticker ticker, Sleeper sleeper, long origin) {
        if (limit instanceof TokenBucket tb) {
            return ExactGcraLimiter.wholeNanosPerPermit(tb.refillPermits(), tb.refillPeriodNanos())
                    ? GcraLimiter.tokenBucket(tb, ticker, sleeper, origin)
                    : ExactGcraLimiter.tokenBucket(tb, ticker, sleeper, origin);
        }
        if (limit instanceof LeakyBucket lb) {
            return ExactGcraLimiter.wholeNanosPerPermit(lb.permits(), lb.periodNanos())
                    ? GcraLimiter.leakyBucket(lb, ticker, sleeper, origin)
                    : ExactGcraLimiter.leakyBucket(lb, ticker, sleeper, origin);
        }
        SlidingWindow sw = (SlidingWindow) limit;
        return sw.mode() == SlidingWindow.Mode.LOG
                ? new SlidingWindowLogLimiter(sw, ticker, sleeper, origin)
                : new SlidingWindowCounterLimiter(sw, ticker, sleeper, origin);
    }

    /**
     * The in-process {@link dev.ratelimiter.RateLimiterFactory}: system clock and sleeper,
     * {@value LocalKeyedRateLimiter#DEFAULT_MAX_KEYS} keys at most per keyed limiter, no
     * listener (add one with {@code withListener}).
     *
     * @return the factory
     */
    public static LocalRateLimiterFactory factory() {
        return LocalRateLimiterFactory.builder().build();
    }

    /**
     * A builder of in-process factories, to set their clock, sleeper, bound on keys and listener.
     *
     * @return the builder
     */
    public static LocalRateLimiterFactory.Builder factoryBuilder() {
        return LocalRateLimiterFactory.builder();
    }

    /**
     * A composite limiter on the system clock: every limit on one key, decided as one. A request
     * is granted only if every limit grants it, and then every limit consumes it; refused, nothing
     * is consumed. The {@link dev.ratelimiter.Decision} reports the smallest remaining, the largest
     * retry-after of the refusing limits and the largest reset; its limit is the smallest capacity.
     * Lock-free; a grant allocates one small snapshot of the limits' state.
     *
     * <pre>{@code
     * RateLimiter api = LocalRateLimiters.composite(
     *         TokenBucket.of(10, 10, Duration.ofSeconds(1)),
     *         TokenBucket.of(1000, 1000, Duration.ofHours(1)));
     * }</pre>
     *
     * @param limits the limits, at least one: token buckets, leaky buckets, sliding window counters
     * @return a new composite limiter, starting full
     * @throws NullPointerException     if {@code limits} or one of them is {@code null}
     * @throws IllegalArgumentException if there is no limit, or one is a sliding window log
     */
    public static RateLimiter composite(Limit... limits) {
        Objects.requireNonNull(limits, "limits");
        return composite(java.util.Arrays.asList(limits), Ticker.system(), Sleeper.system());
    }

    /**
     * Like {@link #composite(Limit...)}, on the given clock and sleeper.
     *
     * @param limits  the limits, at least one: token buckets, leaky buckets, sliding window counters
     * @param ticker  the clock
     * @param sleeper how blocking acquires wait (they poll)
     * @return a new composite limiter, starting full
     * @throws NullPointerException     if an argument or a limit is {@code null}
     * @throws IllegalArgumentException if there is no limit, or one is a sliding window log
     */
    public static RateLimiter composite(java.util.List<Limit> limits, Ticker ticker, Sleeper sleeper) {
        return new LocalCompositeLimiter(limits, ticker, sleeper);
    }

    /**
     * A keyed composite on the system clock, with the shape of the Redis composite: limits shared
     * by the keys of a group and limits of each key, all decided as one; see
     * {@link LocalCompositeKeyedRateLimiter} (and its builder for a clock and a key bound).
     *
     * @param groupOf     the group of a key; must not return {@code null}
     * @param groupLimits the limits shared by the keys of a group (may be empty)
     * @param keyLimits   the limits of each key (may be empty, not both)
     * @param <K>         the key type
     * @param <G>         the group type
     * @return a new keyed composite
     * @throws NullPointerException     if an argument or a limit is {@code null}
     * @throws IllegalArgumentException if both lists are empty, or a limit is a sliding window log
     */
    public static <K, G> LocalCompositeKeyedRateLimiter<K, G> composite(
            java.util.function.Function<? super K, ? extends G> groupOf, java.util.List<Limit> groupLimits,
            java.util.List<Limit> keyLimits) {
        return LocalCompositeKeyedRateLimiter.<K, G>builder(groupOf, groupLimits, keyLimits).build();
    }
}

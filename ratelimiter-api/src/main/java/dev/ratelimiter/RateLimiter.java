package dev.ratelimiter;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One rate limit: decides whether a caller may proceed now, consuming permits when it may.
 *
 * <p>Implementations are thread-safe. The in-process implementations are lock-free on every
 * non-blocking method (one clock read and one CAS per decision); the Redis implementations make
 * one round trip per decision. A refused request consumes nothing.
 *
 * <p>A request for more permits than the limit can ever grant ({@link Limit#maxPermits()}) is
 * refused at once, never waits, and its {@link Decision} says so ({@link Decision#exceedsLimit()}).
 *
 * <pre>{@code
 * RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(100, 10, Duration.ofSeconds(1)));
 * if (limiter.tryAcquire()) {
 *     handle(request);
 * } else {
 *     reject(request);
 * }
 * }</pre>
 */
@CheckReturnValue
public interface RateLimiter {

    /**
     * Acquires one permit if it is available now.
     *
     * @return {@code true} if the permit was granted
     */
    default boolean tryAcquire() {
        return tryAcquire(1);
    }

    /**
     * Acquires {@code permits} permits if they are all available now; otherwise consumes nothing.
     *
     * @param permits the number of permits, {@code > 0}
     * @return {@code true} if the permits were granted
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    boolean tryAcquire(long permits);

    /**
     * Like {@link #tryAcquire()}, reporting the whole decision.
     *
     * @return the decision; never {@code null}
     */
    default Decision decide() {
        return decide(1);
    }

    /**
     * Like {@link #tryAcquire(long)}, reporting the whole decision: permits remaining, how long
     * until a retry can succeed, how long until the limiter is full again.
     *
     * @param permits the number of permits, {@code > 0}
     * @return the decision; never {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    Decision decide(long permits);

    /**
     * Acquires {@code permits} permits, waiting up to {@code timeout} for them. Returns
     * {@code false} at once, consuming nothing, when the permits cannot be had within the timeout
     * (or ever). If the wait is interrupted, whatever was reserved for this caller is given back
     * before {@link InterruptedException} is thrown, so a later caller can have it.
     *
     * <p>The buckets reserve the caller's permits before waiting, so a wait they start ends
     * granted. The sliding windows reserve nothing: they sleep until the retry-after and decide
     * again, so under contention, when other callers take the permits they slept for, they can
     * end refused after waiting part of the timeout (never past it).
     *
     * @param permits the number of permits, {@code > 0}
     * @param timeout the longest time to wait; zero or negative means do not wait
     * @return {@code true} if the permits were granted
     * @throws IllegalArgumentException if {@code permits <= 0}
     * @throws NullPointerException     if {@code timeout} is {@code null}
     * @throws InterruptedException     if the thread is interrupted while waiting
     */
    boolean tryAcquire(long permits, Duration timeout) throws InterruptedException;

    /**
     * Like {@link #tryAcquire(long, Duration)} with the timeout given as an amount and a unit.
     *
     * @param permits the number of permits, {@code > 0}
     * @param timeout the longest time to wait, in {@code unit}
     * @param unit    the unit of {@code timeout}
     * @return {@code true} if the permits were granted
     * @throws IllegalArgumentException if {@code permits <= 0}
     * @throws NullPointerException     if {@code unit} is {@code null}
     * @throws InterruptedException     if the thread is interrupted while waiting
     */
    default boolean tryAcquire(long permits, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        return tryAcquire(permits, Duration.ofNanos(unit.toNanos(timeout)));
    }

    /**
     * Returns the limit this limiter enforces.
     *
     * @return the limit; never {@code null}
     */
    Limit limit();

    /**
     * Answers what {@link #decide(long) decide(1)} would answer now, consuming nothing.
     *
     * @return the decision {@code decide(1)} would return at this instant; never {@code null}
     */
    default Decision peek() {
        return peek(1);
    }

    /**
     * Answers what {@link #decide(long) decide(permits)} would answer now, consuming and writing
     * nothing: a {@code decide(permits)} at the same instant returns an equal {@link Decision}.
     * In Redis this is a read-only script call: no key is created, changed or has its TTL touched.
     *
     * @param permits the number of permits, {@code > 0}
     * @return the decision {@code decide(permits)} would return at this instant; never {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    Decision peek(long permits);

    /**
     * Returns how many permits one request could be granted now: the largest {@code n} for which
     * {@code decide(n)} would be granted at this instant (0 if none), consuming nothing.
     *
     * @return the permits available now, {@code >= 0}
     */
    long availablePermits();

    /**
     * Puts this limiter back in its initial state, as if just created: full, its history
     * forgotten. In Redis the shared key is deleted, so every process sharing it sees the reset.
     */
    void reset();

    /**
     * Gives back {@code permits} permits of earlier grants, for instance when the work they paid
     * for was not done. The limiter never becomes fuller than full: permits beyond what is
     * currently consumed are ignored. Per algorithm:
     * <ul>
     *   <li>token bucket and leaky bucket (meter and queue): the time at which the bucket is
     *       full again moves back by the time {@code permits} permits take to refill, not before
     *       now;</li>
     *   <li>sliding window log: the newest {@code permits} granted permits still in the window are
     *       removed, as if the most recent grants had been for fewer permits;</li>
     *   <li>sliding window counter: the current fixed window's count goes down by
     *       {@code permits}, then the previous window's, neither below zero.</li>
     * </ul>
     *
     * @param permits the number of permits to give back, {@code > 0}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    void refund(long permits);

    /**
     * Takes every permit available now, as one grant of {@link #availablePermits()} permits would,
     * and returns how many were taken. Taking none writes nothing. Useful when an upstream answers
     * "too many requests": drain, and later callers wait for the refill.
     *
     * @return the permits taken, {@code >= 0}
     */
    long drain();

    /**
     * Replaces the limit this limiter enforces, keeping its state: a decision made at the same
     * time as the change is decided wholly under the old limit or wholly under the new one, never
     * a mix. What carries over, per family (the new limit must be of the same family):
     * <ul>
     *   <li>{@link TokenBucket} and {@link LeakyBucket} (meter and queue, interchangeable): the
     *       instant at which the bucket is full again. Under the new limit the permits available
     *       are its capacity less that debt in time at its rate (a sub-nanosecond remainder the
     *       new rate cannot express rounds the instant up). Lowering the limit below the debt
     *       keeps the bucket empty until the debt is paid; {@link #reset()} if that is not wanted.</li>
     *   <li>{@link SlidingWindow#log sliding window log}: the granted permits it still holds; the
     *       new limit counts them in its own window. Grants the old window had already forgotten
     *       are not counted, so a longer window starts counting at most at what the old one held.</li>
     *   <li>{@link SlidingWindow#counter sliding window counter}: the counts of the current and
     *       previous fixed windows; the window length must not change (the fixed windows would
     *       not line up), only the limit.</li>
     * </ul>
     * No permit is created by a reconfiguration that is not the new limit's own: from the change
     * on, grants never exceed what the new limit allows from the carried state. In Redis the
     * change applies to the decisions of this process; other processes sharing the key keep
     * deciding with their own limit on the same stored state until they are reconfigured too.
     *
     * @param limit the new limit
     * @throws NullPointerException     if {@code limit} is {@code null}
     * @throws IllegalArgumentException if {@code limit} is of another family, or a counter's
     *                                  window length differs
     */
    void reconfigure(Limit limit);
}

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
}

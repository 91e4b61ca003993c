package dev.ratelimiter;

import dev.ratelimiter.internal.Checks;
import java.time.Duration;

/**
 * A token bucket: holds at most {@code capacity} permits, refilled continuously at
 * {@code refillPermits} per {@code refillPeriod}, and starts full. A request for n permits is
 * granted when the bucket holds at least n, which then leave the bucket.
 *
 * <p>Time is kept in whole nanoseconds. When {@code refillPeriod} is not a multiple of
 * {@code refillPermits}, each granted request is charged its cost rounded up to the next
 * nanosecond, so the limit is never exceeded and a client at full rate gets at most one
 * nanosecond less refill per granted request than the exact rate (a shortfall of
 * {@code 1 / (n * period / permits)} for requests of n permits; e.g. 0.0003% at 3 per second,
 * but up to half the rate for single permits near 10^9 per second).
 *
 * <p>Over any interval of length t, a token bucket grants at most
 * {@code capacity + refillPermits * t / refillPeriod} permits.
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * // bursts of up to 100, 10 per second sustained
 * TokenBucket limit = TokenBucket.of(100, 10, Duration.ofSeconds(1));
 * TokenBucket same  = TokenBucket.builder().capacity(100).refill(10, Duration.ofSeconds(1)).build();
 * }</pre>
 */
public final class TokenBucket implements Limit {

    private final long capacity;
    private final long refillPermits;
    private final long refillPeriodNanos;

    private TokenBucket(long capacity, long refillPermits, long refillPeriodNanos) {
        this.capacity = capacity;
        this.refillPermits = refillPermits;
        this.refillPeriodNanos = refillPeriodNanos;
    }

    /**
     * A bucket of {@code capacity} permits refilled at {@code refillPermits} per
     * {@code refillPeriod}.
     *
     * @param capacity      the most permits the bucket holds, {@code 1..Long.MAX_VALUE/2}
     * @param refillPermits permits added per period, {@code 1..Long.MAX_VALUE/2}
     * @param refillPeriod  the period, from 1 ms to 30 days
     * @return the limit
     * @throws IllegalArgumentException if a value is out of range, the rate exceeds 10^9 per
     *                                  second, or refilling from empty would take over 2^62 ns
     *                                  (about 146 years)
     * @throws NullPointerException     if {@code refillPeriod} is {@code null}
     */
    public static TokenBucket of(long capacity, long refillPermits, Duration refillPeriod) {
        Checks.permits("capacity", capacity);
        Checks.permits("refillPermits", refillPermits);
        long periodNanos = Checks.period("refillPeriod", refillPeriod);
        Checks.rate("refillPermits", refillPermits, periodNanos);
        Checks.fillTime("capacity", capacity, refillPermits, periodNanos);
        return new TokenBucket(capacity, refillPermits, periodNanos);
    }

    /**
     * A bucket of {@code capacity} permits refilled at {@code permitsPerSecond}. The rate is
     * turned into whole permits per period: one permit per {@code round(1e9 / rate)} ns below
     * 1000 per second, else {@code round(rate * 1000)} permits per 1000 s; either way within
     * 5e-7 of the given rate.
     *
     * @param capacity         the most permits the bucket holds, {@code 1..Long.MAX_VALUE/2}
     * @param permitsPerSecond the refill rate, finite, from one per 30 days to 10^9 per second
     * @return the limit
     * @throws IllegalArgumentException if a value is NaN, infinite or out of range
     */
    public static TokenBucket ofRate(long capacity, double permitsPerSecond) {
        Checks.permits("capacity", capacity);
        long[] rate = Rates.perSecond("permitsPerSecond", permitsPerSecond);
        Checks.fillTime("capacity", capacity, rate[0], rate[1]);
        return new TokenBucket(capacity, rate[0], rate[1]);
    }

    /** @return a builder; {@code capacity} and {@code refill} must be set before {@code build} */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the most permits the bucket holds */
    public long capacity() {
        return capacity;
    }

    /** @return permits added per refill period */
    public long refillPermits() {
        return refillPermits;
    }

    /** @return the refill period, in nanoseconds */
    public long refillPeriodNanos() {
        return refillPeriodNanos;
    }

    /** @return the refill period */
    public Duration refillPeriod() {
        return Duration.ofNanos(refillPeriodNanos);
    }

    @Override
    public long maxPermits() {
        return capacity;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenBucket t && t.capacity == capacity && t.refillPermits == refillPermits
                && t.refillPeriodNanos == refillPeriodNanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(capacity) * 961 + Long.hashCode(refillPermits) * 31 + Long.hashCode(refillPeriodNanos);
    }

    @Override
    public String toString() {
        return "TokenBucket{capacity=" + capacity + ", refill=" + refillPermits + " per " + refillPeriod() + '}';
    }

    /**
     * Builds a {@link TokenBucket}; every setter validates at once. Not thread-safe.
     */
    public static final class Builder {
        private long capacity;
        private long refillPermits;
        private Duration refillPeriod;

        private Builder() {
        }

        /**
         * @param capacity the most permits the bucket holds, {@code 1..Long.MAX_VALUE/2}
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder capacity(long capacity) {
            this.capacity = Checks.permits("capacity", capacity);
            return this;
        }

        /**
         * @param permits permits added per period, {@code 1..Long.MAX_VALUE/2}
         * @param period  the period, from 1 ms to 30 days
         * @return this builder
         * @throws IllegalArgumentException if out of range
         * @throws NullPointerException     if {@code period} is {@code null}
         */
        public Builder refill(long permits, Duration period) {
            Checks.permits("refillPermits", permits);
            Checks.rate("refillPermits", permits, Checks.period("refillPeriod", period));
            this.refillPermits = permits;
            this.refillPeriod = period;
            return this;
        }

        /**
         * @return the limit
         * @throws IllegalStateException if {@code capacity} or {@code refill} was not set
         */
        public TokenBucket build() {
            if (capacity == 0) {
                throw new IllegalStateException("capacity must be set");
            }
            if (refillPeriod == null) {
                throw new IllegalStateException("refill must be set");
            }
            return of(capacity, refillPermits, refillPeriod);
        }
    }
}

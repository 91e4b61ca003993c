package dev.ratelimiter;

import dev.ratelimiter.internal.Checks;
import java.time.Duration;

/**
 * A leaky bucket that leaks {@code permits} per {@code period}, used in one of two ways.
 *
 * <ul>
 *   <li><b>Meter</b> ({@link #meter}): the generic cell rate algorithm (GCRA). Requests
 *       conforming to the rate, with a burst tolerance of {@code burst} permits, are granted at
 *       once; others are refused. Over any interval of length t it grants at most
 *       {@code burst + rate * t}; it starts empty (a full burst is available at once).
 *   <li><b>Queue</b> ({@link #queue}): admitted calls leave evenly spaced, one permit every
 *       {@code period / permits}. {@code tryAcquire} succeeds only when the caller may leave
 *       now; a blocking {@code tryAcquire(permits, timeout)} waits for its turn, and is
 *       refused at once if more than {@code queueCapacity} permits would then be waiting
 *       (itself included) or its turn comes after the timeout.
 * </ul>
 *
 * <p>Time is kept in whole nanoseconds; a request's cost is rounded up to the next nanosecond
 * as described for {@link TokenBucket}. Draining the bucket from full to empty may take at most
 * 2^62 ns (about 146 years).
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * LeakyBucket api   = LeakyBucket.meter(50, Duration.ofSeconds(1), 10);   // 50/s, bursts of 10
 * LeakyBucket paced = LeakyBucket.queue(5, Duration.ofSeconds(1), 20);    // one every 200 ms, 20 may wait
 * }</pre>
 */
public final class LeakyBucket implements Limit {

    /** How the bucket is used. */
    public enum Mode {
        /** Grant conforming requests at once, refuse the rest (GCRA). */
        METER,
        /** Space admissions evenly; blocking callers wait for their turn. */
        QUEUE
    }

    private final Mode mode;
    private final long permits;
    private final long periodNanos;
    private final long capacity;

    private LeakyBucket(Mode mode, long permits, long periodNanos, long capacity) {
        this.mode = mode;
        this.permits = permits;
        this.periodNanos = periodNanos;
        this.capacity = capacity;
    }

    /**
     * A GCRA meter: {@code permits} per {@code period}, with bursts of up to {@code burst}.
     *
     * @param permits permits leaked per period, {@code 1..Long.MAX_VALUE/2}
     * @param period  the period, from 1 ms to 30 days
     * @param burst   the burst tolerance: the most permits granted at once, {@code 1..Long.MAX_VALUE/2}
     * @return the limit
     * @throws IllegalArgumentException if a value is out of range or the rate exceeds 10^9 per second
     * @throws NullPointerException     if {@code period} is {@code null}
     */
    public static LeakyBucket meter(long permits, Duration period, long burst) {
        return create(Mode.METER, permits, period, "burst", burst);
    }

    /**
     * A GCRA meter at {@code permitsPerSecond} (converted as in {@link TokenBucket#ofRate}).
     *
     * @param permitsPerSecond the rate, finite, from one per 30 days to 10^9 per second
     * @param burst            the burst tolerance, {@code 1..Long.MAX_VALUE/2}
     * @return the limit
     * @throws IllegalArgumentException if a value is NaN, infinite or out of range
     */
    public static LeakyBucket meter(double permitsPerSecond, long burst) {
        Checks.permits("burst", burst);
        long[] rate = Rates.perSecond("permitsPerSecond", permitsPerSecond);
        Checks.fillTime("burst", burst, rate[0], rate[1]);
        return new LeakyBucket(Mode.METER, rate[0], rate[1], burst);
    }

    /**
     * A queue: admissions leave evenly spaced at {@code permits} per {@code period}; at most
     * {@code queueCapacity} permits wait at once.
     *
     * @param permits       permits leaked per period, {@code 1..Long.MAX_VALUE/2}
     * @param period        the period, from 1 ms to 30 days
     * @param queueCapacity the most permits waiting at once (the caller's own included),
     *                      {@code 1..Long.MAX_VALUE/2}
     * @return the limit
     * @throws IllegalArgumentException if a value is out of range or the rate exceeds 10^9 per second
     * @throws NullPointerException     if {@code period} is {@code null}
     */
    public static LeakyBucket queue(long permits, Duration period, long queueCapacity) {
        return create(Mode.QUEUE, permits, period, "queueCapacity", queueCapacity);
    }

    private static LeakyBucket create(Mode mode, long permits, Duration period, String capacityName,
                                      long capacity) {
        Checks.permits("permits", permits);
        long periodNanos = Checks.period("period", period);
        Checks.rate("permits", permits, periodNanos);
        Checks.permits(capacityName, capacity);
        Checks.fillTime(capacityName, capacity, permits, periodNanos);
        return new LeakyBucket(mode, permits, periodNanos, capacity);
    }

    /** @return meter or queue */
    public Mode mode() {
        return mode;
    }

    /** @return permits leaked per period */
    public long permits() {
        return permits;
    }

    /** @return the period, in nanoseconds */
    public long periodNanos() {
        return periodNanos;
    }

    /** @return the period */
    public Duration period() {
        return Duration.ofNanos(periodNanos);
    }

    /** @return the burst tolerance of a meter, or the queue capacity of a queue */
    public long capacity() {
        return capacity;
    }

    @Override
    public long maxPermits() {
        return capacity;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LeakyBucket b && b.mode == mode && b.permits == permits
                && b.periodNanos == periodNanos && b.capacity == capacity;
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 29791 + Long.hashCode(permits) * 961 + Long.hashCode(periodNanos) * 31
                + Long.hashCode(capacity);
    }

    @Override
    public String toString() {
        return "LeakyBucket{" + mode + ", " + permits + " per " + period()
                + (mode == Mode.METER ? ", burst=" : ", queueCapacity=") + capacity + '}';
    }
}

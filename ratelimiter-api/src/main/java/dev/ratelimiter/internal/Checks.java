package dev.ratelimiter.internal;

import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Objects;

/**
 * Argument checks shared by the modules. Not API: may change without notice.
 */
public final class Checks {

    /** The most permits any limit or request may name: {@code Long.MAX_VALUE / 2}. */
    public static final long MAX_PERMITS = Long.MAX_VALUE / 2;

    /** The shortest period or window a limit may have: 1 ms. */
    public static final long MIN_PERIOD_NANOS = 1_000_000L;

    /** The longest period or window a limit may have: 30 days. */
    public static final long MAX_PERIOD_NANOS = 30L * 24 * 3600 * 1_000_000_000L;

    /** The longest time a limit may need to refill from empty: 2^62 ns, about 146 years. */
    public static final long MAX_FILL_NANOS = 1L << 62;

    private Checks() {
    }

    /**
     * Checks a count of permits given in a configuration.
     *
     * @param name  the parameter's name, for the message
     * @param value the value
     * @return {@code value}
     * @throws IllegalArgumentException unless {@code 0 < value <= MAX_PERMITS}
     */
    public static long permits(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0: " + name + "=" + value);
        }
        if (value > MAX_PERMITS) {
            throw new IllegalArgumentException(
                    name + " must be <= Long.MAX_VALUE / 2 (" + MAX_PERMITS + "): " + name + "=" + value);
        }
        return value;
    }

    /**
     * Checks the permits of one request. Requests larger than the limit are not an error (they
     * are refused and say so); only non-positive counts are.
     *
     * @param permits the requested permits
     * @return {@code permits}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    public static long requested(long permits) {
        if (permits <= 0) {
            throw new IllegalArgumentException("permits must be > 0: permits=" + permits);
        }
        return permits;
    }

    /**
     * Checks a period or window and converts it to nanoseconds.
     *
     * @param name  the parameter's name, for the message
     * @param value the duration
     * @return the duration in nanoseconds
     * @throws NullPointerException     if {@code value} is {@code null}
     * @throws IllegalArgumentException unless {@code 1 ms <= value <= 30 days}
     */
    public static long period(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0: " + name + "=" + value);
        }
        if (value.compareTo(Duration.ofNanos(MIN_PERIOD_NANOS)) < 0) {
            throw new IllegalArgumentException(name + " must be >= 1 ms: " + name + "=" + value);
        }
        if (value.compareTo(Duration.ofNanos(MAX_PERIOD_NANOS)) > 0) {
            throw new IllegalArgumentException(name + " must be <= 30 days: " + name + "=" + value);
        }
        return value.toNanos();
    }

    /**
     * Checks that {@code permits} per {@code periodNanos} is at most one permit per nanosecond
     * (10^9 per second), the finest rate the nanosecond clock can express.
     *
     * @param permitsName the name of the permits parameter
     * @param permits     permits per period
     * @param periodNanos the period in nanoseconds
     * @throws IllegalArgumentException if the rate is above 10^9 permits per second
     */
    public static void rate(String permitsName, long permits, long periodNanos) {
        if (permits > periodNanos) {
            throw new IllegalArgumentException("rate must be at most 10^9 permits per second: " + permitsName
                    + "=" + permits + " per " + periodNanos + " ns");
        }
    }

    /**
     * Checks that refilling {@code capacity} permits at {@code permits} per {@code periodNanos}
     * takes at most {@link #MAX_FILL_NANOS}: beyond that the time arithmetic of the limiters
     * (nanoseconds in a {@code long}) could not represent the debt of an emptied bucket.
     *
     * @param capacityName the name of the capacity parameter
     * @param capacity     the capacity, {@code > 0}
     * @param permits      permits per period, {@code > 0}
     * @param periodNanos  the period in nanoseconds, {@code > 0}
     * @throws IllegalArgumentException if the refill time exceeds {@link #MAX_FILL_NANOS}
     */
    public static void fillTime(String capacityName, long capacity, long permits, long periodNanos) {
        // capacity * periodNanos / permits > 2^62  <=>  capacity * periodNanos > 2^62 * permits
        BigInteger fill = BigInteger.valueOf(capacity).multiply(BigInteger.valueOf(periodNanos));
        if (fill.compareTo(BigInteger.valueOf(permits).shiftLeft(62)) > 0) {
            throw new IllegalArgumentException("the time to refill " + capacityName
                    + " from empty must be at most 2^62 ns (about 146 years): " + capacityName + "=" + capacity
                    + ", rate=" + permits + " per " + periodNanos + " ns");
        }
    }

    /**
     * Checks a rate given as a {@code double} of permits per second.
     *
     * @param name  the parameter's name
     * @param value the rate
     * @return {@code value}
     * @throws IllegalArgumentException if the rate is NaN, infinite, not positive, below one
     *                                  permit per 30 days or above 10^9 per second
     */
    public static double ratePerSecond(String name, double value) {
        if (Double.isNaN(value) || Double.isInfinite(value) || value <= 0) {
            throw new IllegalArgumentException(name + " must be a finite number > 0: " + name + "=" + value);
        }
        if (value > 1e9) {
            throw new IllegalArgumentException(name + " must be <= 1e9 permits per second: " + name + "=" + value);
        }
        if (value < 1e9 / MAX_PERIOD_NANOS) {
            throw new IllegalArgumentException(
                    name + " must be at least one permit per 30 days: " + name + "=" + value);
        }
        return value;
    }

    /**
     * Checks a non-null reference.
     *
     * @param name  the parameter's name
     * @param value the value
     * @param <T>   its type
     * @return {@code value}
     * @throws NullPointerException if {@code value} is {@code null}, with {@code name} as message
     */
    public static <T> T notNull(String name, T value) {
        return Objects.requireNonNull(value, name);
    }

    /**
     * A blocking acquire's timeout in nanoseconds.
     *
     * @param timeout the timeout
     * @return it in nanoseconds, saturated to {@code Long.MAX_VALUE}, and 0 when it is zero or
     *     negative (however large its magnitude): do not wait
     * @throws NullPointerException if {@code timeout} is {@code null}
     */
    public static long timeoutNanos(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            return 0;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Checks that a limiter enforcing {@code current} may be reconfigured to {@code next} keeping
     * its state: both of the GCRA family ({@link dev.ratelimiter.TokenBucket},
     * {@link dev.ratelimiter.LeakyBucket}), both sliding window logs, or both sliding window
     * counters with the same window length.
     *
     * @param current the limit enforced now
     * @param next    the new limit
     * @return {@code next}
     * @throws NullPointerException     if {@code next} is {@code null}
     * @throws IllegalArgumentException if the change would not keep the state
     */
    public static Limit reconfiguration(Limit current, Limit next) {
        Objects.requireNonNull(next, "limit");
        String from = family(current);
        String to = family(next);
        if (!from.equals(to)) {
            throw new IllegalArgumentException("limit must be of the same family as the current one ("
                    + from + ") to keep the state: limit=" + next + ", current=" + current);
        }
        if (current instanceof SlidingWindow c && next instanceof SlidingWindow n
                && c.mode() == SlidingWindow.Mode.COUNTER && c.windowNanos() != n.windowNanos()) {
            throw new IllegalArgumentException("a sliding window counter keeps its window length when "
                    + "reconfigured (its fixed windows would not line up): limit=" + next + ", current=" + current);
        }
        return next;
    }

    private static String family(Limit limit) {
        if (limit instanceof SlidingWindow w) {
            return w.mode() == SlidingWindow.Mode.LOG ? "sliding window log" : "sliding window counter";
        }
        return "token bucket / leaky bucket";
    }
}

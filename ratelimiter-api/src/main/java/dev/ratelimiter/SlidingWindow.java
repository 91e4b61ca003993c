package dev.ratelimiter;

import dev.ratelimiter.internal.Checks;
import java.time.Duration;

/**
 * At most {@code limit} permits in a window of length {@code window} that slides with time.
 *
 * <ul>
 *   <li><b>Log</b> ({@link #log}): exact. Never more than {@code limit} permits in any
 *       half-open interval {@code (t - window, t]}. Memory grows with the number of granted
 *       requests still inside the window (at most {@code limit} entries).
 *   <li><b>Counter</b> ({@link #counter}): O(1) memory. Time is cut into fixed windows; a
 *       request is granted when {@code previous * (1 - elapsed / window) + current + permits <= limit},
 *       where {@code previous} and {@code current} are the permits granted in the previous and
 *       current fixed windows and {@code elapsed} is the time since the current one began.
 *       <b>Worst-case error:</b> it assumes the previous window's permits were spread evenly;
 *       when they all came at its very end, a sliding window straddling the boundary can hold
 *       up to {@code 2 * limit - 1} permits (never more: each fixed window holds at most
 *       {@code limit}). When requests are spread evenly it is exact up to rounding.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * SlidingWindow exact  = SlidingWindow.log(100, Duration.ofMinutes(1));
 * SlidingWindow cheap  = SlidingWindow.counter(100, Duration.ofMinutes(1));
 * }</pre>
 */
public final class SlidingWindow implements Limit {

    /** How the window is kept. */
    public enum Mode {
        /** Exact: remembers each granted request while it is inside the window. */
        LOG,
        /** O(1): two fixed-window counts, the previous one weighted. */
        COUNTER
    }

    private final Mode mode;
    private final long limit;
    private final long windowNanos;

    private SlidingWindow(Mode mode, long limit, long windowNanos) {
        this.mode = mode;
        this.limit = limit;
        this.windowNanos = windowNanos;
    }

    /**
     * An exact sliding window log.
     *
     * @param limit  the most permits in any window, {@code 1..Long.MAX_VALUE/2}
     * @param window the window length, from 1 ms to 30 days
     * @return the limit
     * @throws IllegalArgumentException if a value is out of range
     * @throws NullPointerException     if {@code window} is {@code null}
     */
    public static SlidingWindow log(long limit, Duration window) {
        return new SlidingWindow(Mode.LOG, Checks.permits("limit", limit), Checks.period("window", window));
    }

    /**
     * An O(1) sliding window counter; see the class comment for its worst-case error.
     *
     * @param limit  the most permits in any window, {@code 1..Long.MAX_VALUE/2}
     * @param window the window length, from 1 ms to 30 days
     * @return the limit
     * @throws IllegalArgumentException if a value is out of range
     * @throws NullPointerException     if {@code window} is {@code null}
     */
    public static SlidingWindow counter(long limit, Duration window) {
        return new SlidingWindow(Mode.COUNTER, Checks.permits("limit", limit), Checks.period("window", window));
    }

    /** @return log or counter */
    public Mode mode() {
        return mode;
    }

    /** @return the most permits in any window */
    public long limit() {
        return limit;
    }

    /** @return the window length, in nanoseconds */
    public long windowNanos() {
        return windowNanos;
    }

    /** @return the window length */
    public Duration window() {
        return Duration.ofNanos(windowNanos);
    }

    @Override
    public long maxPermits() {
        return limit;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlidingWindow w && w.mode == mode && w.limit == limit && w.windowNanos == windowNanos;
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 961 + Long.hashCode(limit) * 31 + Long.hashCode(windowNanos);
    }

    @Override
    public String toString() {
        return "SlidingWindow{" + mode + ", limit=" + limit + " per " + window() + '}';
    }
}

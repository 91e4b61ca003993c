package dev.ratelimiter.local;

import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;

/**
 * What the two sliding window limiters share: the limit, and time measured from an origin as
 * the wrapping difference {@code reading - origin} (the {@code System.nanoTime()} idiom, as the
 * buckets do), so that a ticker wrapping around {@code Long.MAX_VALUE} keeps measuring time; a
 * reading before the origin counts as the clock having gone back, which the windows treat
 * conservatively. Blocking acquires poll (see {@link LocalLimiter}): windows
 * reserve nothing while a caller waits.
 */
abstract class SlidingWindowLimiter extends LocalLimiter {

    final SlidingWindow limit;
    /** L: the most permits in a window. */
    final long max;
    /** W: the window length, in nanoseconds. */
    final long windowNanos;
    /** The ticker reading at which this limiter's time starts. */
    final long origin;

    SlidingWindowLimiter(SlidingWindow limit, Ticker ticker, Sleeper sleeper, long origin) {
        super(ticker, sleeper);
        this.limit = limit;
        this.max = limit.limit();
        this.windowNanos = limit.windowNanos();
        this.origin = origin;
    }

    /**
     * @param now a ticker reading
     * @return nanoseconds since the origin, the wrapping difference
     */
    final long elapsed(long now) {
        return now - origin;
    }

    @Override
    public final Limit limit() {
        return limit;
    }
}

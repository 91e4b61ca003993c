package dev.ratelimiter.local;

import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;

/**
 * What the two sliding window limiters share: the limit, and time measured from an origin,
 * saturating (a ticker reading far before the origin counts as the clock having gone back, which
 * the windows treat conservatively). Blocking acquires poll (see {@link LocalLimiter}): windows
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
     * @return nanoseconds since the origin, saturated
     */
    final long elapsed(long now) {
        return Math128.saturatedSubtract(now, origin);
    }

    @Override
    public final Limit limit() {
        return limit;
    }
}

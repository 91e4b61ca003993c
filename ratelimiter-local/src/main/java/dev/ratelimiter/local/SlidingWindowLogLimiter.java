package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;

/** STUB: to be implemented. */
final class SlidingWindowLogLimiter extends LocalLimiter {
    private final SlidingWindow limit;

    SlidingWindowLogLimiter(SlidingWindow limit, Ticker ticker, Sleeper sleeper) {
        super(ticker, sleeper);
        this.limit = limit;
    }

    @Override
    int tryAcquireAt(long permits, long now) {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    Decision decideAt(long permits, long now) {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    boolean retireIfFull(long now) {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public Limit limit() {
        return limit;
    }
}

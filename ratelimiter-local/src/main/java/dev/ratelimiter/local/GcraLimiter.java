package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;

/** STUB: to be implemented. */
final class GcraLimiter extends LocalLimiter {
    private final Limit limit;

    private GcraLimiter(Limit limit, Ticker ticker, Sleeper sleeper) {
        super(ticker, sleeper);
        this.limit = limit;
    }

    static GcraLimiter tokenBucket(TokenBucket limit, Ticker ticker, Sleeper sleeper) {
        return new GcraLimiter(limit, ticker, sleeper);
    }

    static GcraLimiter leakyBucket(LeakyBucket limit, Ticker ticker, Sleeper sleeper) {
        return new GcraLimiter(limit, ticker, sleeper);
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

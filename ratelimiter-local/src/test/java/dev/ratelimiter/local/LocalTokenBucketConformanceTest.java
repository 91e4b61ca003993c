package dev.ratelimiter.local;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.conformance.TokenBucketConformance;

/** The in-process limiters against the {@link TokenBucketConformance} suite. */
class LocalTokenBucketConformanceTest extends TokenBucketConformance {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return LocalRateLimiters.create(limit, ticker, sleeper);
    }
}

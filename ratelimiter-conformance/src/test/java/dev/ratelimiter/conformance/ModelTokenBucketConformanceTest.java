package dev.ratelimiter.conformance;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;

/** The reference model against its own {@link TokenBucketConformance} suite. */
class ModelTokenBucketConformanceTest extends TokenBucketConformance {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return new ModelLimiter(limit, ticker, sleeper);
    }
}

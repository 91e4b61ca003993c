package dev.ratelimiter.local;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.conformance.LeakyBucketQueueConformance;

/** The in-process limiters against the {@link LeakyBucketQueueConformance} suite. */
class LocalLeakyBucketQueueConformanceTest extends LeakyBucketQueueConformance {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return LocalRateLimiters.create(limit, ticker, sleeper);
    }
}

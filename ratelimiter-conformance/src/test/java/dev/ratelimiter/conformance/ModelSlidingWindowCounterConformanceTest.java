package dev.ratelimiter.conformance;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;

/** The reference model against its own {@link SlidingWindowCounterConformance} suite. */
class ModelSlidingWindowCounterConformanceTest extends SlidingWindowCounterConformance {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return new ModelLimiter(limit, ticker, sleeper);
    }
}

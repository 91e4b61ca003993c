package dev.ratelimiter.redis;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.conformance.LeakyBucketQueueConformance;

/**
 * The LeakyBucketQueue conformance suite against Redis, in client-time mode driven by the fake clock in
 * nanoseconds. It runs the limits {@link SharedConnection#runsExactly} accepts: Lua computes in
 * doubles, exact only below 2^53; the largest limits are checked to be refused at creation.
 */
class RedisLeakyBucketQueueConformanceTest extends LeakyBucketQueueConformance {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return SharedConnection.clientTime(limit, ticker, sleeper);
    }

    @Override
    protected boolean accepts(Limit limit) {
        return SharedConnection.runsExactly(limit, SharedConnection.timeScaleOf(limit, this::timeScale));
    }

    @Override
    protected boolean acceptsReconfiguration(Limit current, Limit target) {
        return SharedConnection.keepsTheRate(current, target) && accepts(target);
    }
}

package dev.ratelimiter.redis;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;

/**
 * The same suite as {@link RedisLeakyBucketQueueConformanceTest}, on the three-master Redis Cluster
 * through a Lettuce cluster connection: each limiter's key is routed to the master owning its
 * hash slot, whose script cache is its own.
 */
class RedisClusterLeakyBucketQueueConformanceTest extends RedisLeakyBucketQueueConformanceTest {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return ClusterConnection.clientTime(limit, ticker, sleeper);
    }
}

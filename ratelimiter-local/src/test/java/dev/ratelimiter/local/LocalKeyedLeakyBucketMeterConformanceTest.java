package dev.ratelimiter.local;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.conformance.LeakyBucketMeterConformance;

/**
 * One key of a {@link LocalKeyedRateLimiter} against the {@link LeakyBucketMeterConformance} suite,
 * reconfigure included (applied to the keyed limiter). The counter is not run this way: a key's
 * fixed windows start when the key is created (or re-created after a sweep or a reset), not when
 * the keyed limiter is.
 */
class LocalKeyedLeakyBucketMeterConformanceTest extends LeakyBucketMeterConformance {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return KeyedAsLimiter.of(limit, ticker, sleeper);
    }
}

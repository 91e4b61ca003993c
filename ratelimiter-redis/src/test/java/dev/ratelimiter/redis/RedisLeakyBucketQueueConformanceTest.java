package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.conformance.LeakyBucketQueueConformance;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Test;

/**
 * The LeakyBucketQueue conformance suite against Redis, in client-time mode driven by the fake clock in
 * nanoseconds.
 *
 * <p>Two departures, both because Lua computes in doubles, exact only below 2^53: the generated
 * limits are those whose time scale (refill time or window) is at most 2^44 ns, about 4.9 hours,
 * so that the clock of a whole generated script (up to 160 time scales) stays within the exact
 * range, and {@link #largestPermitCountsDoNotOverflow} checks that a limit of
 * {@code Long.MAX_VALUE / 2} permits is refused at creation, naming the value, instead of run.
 */
class RedisLeakyBucketQueueConformanceTest extends LeakyBucketQueueConformance {

    @Override
    protected RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper) {
        return SharedConnection.clientTime(limit, ticker, sleeper);
    }

    @Override
    protected Arbitrary<Limit> limits() {
        // A script advances the clock by up to 160 time scales: keep its readings below 2^52 ns.
        return super.limits().filter(l -> SharedConnection.fitsNanoseconds(l) && timeScale(l) <= 1L << 44);
    }

    @Test
    @Override
    public void largestPermitCountsDoNotOverflow() {
        Limit largest;
        try {
            largest = limit(Checks.MAX_PERMITS, 1_000_000_000L, Duration.ofSeconds(1));
        } catch (IllegalArgumentException refusedByTheApi) {
            return;
        }
        assertThatThrownBy(() -> create(largest, () -> 0L, nanos -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most 2^52")
                .hasMessageContaining("=" + Checks.MAX_PERMITS);
    }
}

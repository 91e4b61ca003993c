package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * Eight threads decide while another reconfigures the limiter back and forth between two limits
 * of one family, on a clock that does not move. With no refill and no expiry, the k-th permit
 * granted leaves exactly {@code limit - k} remaining under whichever limit granted it, so the
 * grants must report the values {@code k = 1..total} once each, each within its own limit: a
 * decision that mixed the two limits, or a grant lost or duplicated by a swap, breaks that. And
 * the exact bound holds across the reconfigurations: what was granted plus what a final drain
 * takes is exactly the final limit.
 */
class ReconfigureStressTest {

    private static final int DECIDERS = 8;
    private static final int DECISIONS_PER_THREAD = 400;
    private static final int RECONFIGURATIONS = 200;
    private static final long SMALL = 1_200;
    private static final long LARGE = 2_000;

    @Test
    void tokenBucketWithWholeNanosecondsPerPermit() throws InterruptedException {
        check(TokenBucket.of(SMALL, 1, Duration.ofHours(1)), TokenBucket.of(LARGE, 1, Duration.ofHours(1)));
    }

    @Test
    void tokenBucketWithAFractionalCostAndTheMeter() throws InterruptedException {
        check(TokenBucket.of(SMALL, 7, Duration.ofSeconds(1)),
                dev.ratelimiter.LeakyBucket.meter(7, Duration.ofSeconds(1), LARGE));
    }

    @Test
    void slidingWindowLogWithTwoWindows() throws InterruptedException {
        check(SlidingWindow.log(SMALL, Duration.ofHours(1)), SlidingWindow.log(LARGE, Duration.ofHours(2)));
    }

    @Test
    void slidingWindowCounter() throws InterruptedException {
        check(SlidingWindow.counter(SMALL, Duration.ofHours(1)), SlidingWindow.counter(LARGE, Duration.ofHours(1)));
    }

    private void check(Limit small, Limit large) throws InterruptedException {
        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(small, clock, clock);
        Queue<long[]> grants = new ConcurrentLinkedQueue<>(); // {limit, remaining}
        StressSupport.runWorkers(DECIDERS + 1, index -> {
            if (index == DECIDERS) {
                for (int i = 0; i < RECONFIGURATIONS; i++) {
                    limiter.reconfigure(i % 2 == 0 ? large : small);
                    Thread.yield();
                }
                limiter.reconfigure(large);
                return;
            }
            for (int i = 0; i < DECISIONS_PER_THREAD; i++) {
                Decision d = limiter.decide(1);
                assertThat(d.limit()).isIn(SMALL, LARGE);
                if (d.isAllowed()) {
                    grants.add(new long[] {d.limit(), d.remaining()});
                }
            }
        });
        assertThat(limiter.limit()).isEqualTo(large);
        BitSet seen = new BitSet();
        for (long[] g : grants) {
            long k = g[0] - g[1];
            assertThat(k).as("the k-th grant, within the limit %s that granted it", g[0]).isBetween(1L, g[0]);
            assertThat(seen.get((int) k)).as("grant number %s reported twice", k).isFalse();
            seen.set((int) k);
        }
        int total = grants.size();
        assertThat(seen.cardinality()).isEqualTo(total);
        assertThat(seen.nextClearBit(1)).as("the grants are numbered 1..total").isEqualTo(total + 1);
        long drained = limiter.drain();
        assertThat(total + drained).as("granted plus drained, under the final limit").isEqualTo(LARGE);
        assertThat(limiter.availablePermits()).isZero();
        assertThat(List.of(limiter.decide(1).isAllowed())).containsExactly(false);
    }
}

package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The limiter {@link LocalRateLimiters#create} returns, around its engine. */
class ReconfigurableLimiterTest {

    private final FakeClock clock = new FakeClock();

    @Test
    void tryAcquireThroughTheFrontAllocatesNothingBeforeAndAfterAReconfiguration() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(1_000_000, 1, Duration.ofSeconds(7)), clock, clock);
        long id = Thread.currentThread().getId();
        int sink = 0;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 20_000; i++) {
                sink += limiter.tryAcquire(1 + (i & 7)) ? 1 : 0;
            }
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 100_000; i++) {
                sink += limiter.tryAcquire(1 + (i & 7)) ? 1 : 0;
            }
            assertThat(threads.getThreadAllocatedBytes(id) - before).as("round %s", round).isLessThan(10_000);
            limiter.reconfigure(TokenBucket.of(2_000_000, 1, Duration.ofSeconds(7)));
        }
        assertThat(sink).isPositive();
    }

    @Test
    void aQueuedReservationCarriesOverAReconfiguration() throws InterruptedException {
        RateLimiter queue = LocalRateLimiters.create(LeakyBucket.queue(1, Duration.ofSeconds(1), 5), clock, clock);
        assertThat(queue.tryAcquire(1)).isTrue();
        queue.reconfigure(LeakyBucket.queue(1, Duration.ofSeconds(2), 5)); // the debt, 1 s, carries over
        long before = clock.read();
        assertThat(queue.tryAcquire(1, Duration.ofSeconds(5))).isTrue();
        assertThat(clock.read() - before).as("waited the carried debt").isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(queue.availablePermits()).isZero();
        clock.advance(Duration.ofSeconds(2));
        assertThat(queue.availablePermits()).isEqualTo(5);
    }

    @Test
    void lowerCapacityKeepsTheBucketEmptyUntilTheDebtIsPaid() {
        RateLimiter bucket = LocalRateLimiters.create(TokenBucket.of(10, 1, Duration.ofSeconds(1)), clock, clock);
        assertThat(bucket.drain()).isEqualTo(10);
        bucket.reconfigure(TokenBucket.of(4, 1, Duration.ofSeconds(1)));
        clock.advance(Duration.ofSeconds(6));
        assertThat(bucket.availablePermits()).as("10 s of debt, 6 paid: 4 s left of a 4 s bucket").isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(bucket.availablePermits()).isEqualTo(1);
        bucket.reset();
        assertThat(bucket.availablePermits()).isEqualTo(4);
    }

    @Test
    void aLogRefundRemovesTheNewestGrants() {
        RateLimiter log = LocalRateLimiters.create(SlidingWindow.log(5, Duration.ofSeconds(10)), clock, clock);
        assertThat(log.tryAcquire(2)).isTrue();
        clock.advance(Duration.ofSeconds(5));
        assertThat(log.tryAcquire(3)).isTrue();
        log.refund(4); // the 3 of t = 5 s, then 1 of the 2 of t = 0
        assertThat(log.availablePermits()).isEqualTo(4);
        clock.advance(Duration.ofSeconds(5));
        assertThat(log.availablePermits()).as("the permit left of t = 0 expired").isEqualTo(5);
    }
}

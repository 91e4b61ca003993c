package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The single-key local composite, on a fake clock. */
class LocalCompositeLimiterTest {

    private static final long SECOND = 1_000_000_000L;

    private final FakeClock clock = new FakeClock();

    /** 10 per second with a burst of 5, and 20 per minute. */
    private final TokenBucket perSecond = TokenBucket.of(5, 10, Duration.ofSeconds(1));
    private final TokenBucket perMinute = TokenBucket.of(20, 20, Duration.ofMinutes(1));

    private RateLimiter composite(Limit... limits) {
        return LocalRateLimiters.composite(Arrays.asList(limits), clock, clock);
    }

    @Test
    void grantsOnlyWhatEveryLimitGrants() {
        RateLimiter c = composite(perSecond, perMinute);
        int granted = 0;
        for (int i = 0; i < 100; i++) {
            if (c.tryAcquire()) {
                granted++;
            }
            clock.advance(SECOND / 10); // the per-second bucket would grant all 100 over 10 s
        }
        // 10 s: the per-minute bucket allows 20 + 10 * 20 / 60 = 23 (floor).
        assertThat(granted).isEqualTo(23);
    }

    /**
     * A one-permit {@code tryAcquire} on two buckets whose state is one word each takes its own
     * path: it must decide as {@code decide} does, on a twin composite sharing the clock, also
     * when the clock goes back (three parts, and a part with a remainder, take the general path).
     */
    @Test
    void oneWordFastPathDecidesAsDecide() {
        List<List<Limit>> shapes = List.of(
                List.of(perSecond, perMinute),
                List.of(TokenBucket.of(1, 1, Duration.ofSeconds(1)), LeakyBucket.queue(2, Duration.ofSeconds(1), 3)),
                List.of(perSecond, perMinute, LeakyBucket.meter(30, Duration.ofMinutes(1), 10)),
                List.of(perSecond, TokenBucket.of(7, 3, Duration.ofNanos(1_000_000_007L)))); // r > 1
        java.util.Random random = new java.util.Random(20261203);
        for (List<Limit> limits : shapes) {
            RateLimiter fast = LocalRateLimiters.composite(limits, clock, clock);
            RateLimiter generic = LocalRateLimiters.composite(limits, clock, clock);
            int granted = 0;
            for (int i = 0; i < 5_000; i++) {
                boolean expected = generic.decide(1).isAllowed();
                assertThat(fast.tryAcquire(1)).as("%s, call %d", limits, i).isEqualTo(expected);
                granted += expected ? 1 : 0;
                clock.advance(random.nextInt(10) == 0 ? -random.nextInt(200_000_000) : random.nextInt(150_000_000));
            }
            assertThat(fast.availablePermits()).isEqualTo(generic.availablePermits());
            assertThat(granted).as("%s: some granted, some refused", limits).isBetween(1, 4_999);
        }
    }

    @Test
    void refusalByOneLimitConsumesNothingFromTheOthers() {
        RateLimiter c = composite(TokenBucket.of(10, 1, Duration.ofSeconds(1)), TokenBucket.of(3, 1, Duration.ofSeconds(1)));
        assertThat(c.tryAcquire(3)).isTrue();
        // The second bucket is empty: a refusal must leave the first one at 7.
        for (int i = 0; i < 5; i++) {
            assertThat(c.tryAcquire(1)).isFalse();
        }
        clock.advance(3 * SECOND);
        // Both refilled by 3: the first holds 10, the second 3.
        assertThat(c.decide(3)).isEqualTo(Decision.allowed(3, 0, 3 * SECOND, 3));
        clock.advance(3 * SECOND);
        assertThat(c.availablePermits()).isEqualTo(3);
    }

    @Test
    void refusalReportsTheLatestRetryAfterOfTheRefusingLimits() {
        RateLimiter c = composite(TokenBucket.of(2, 1, Duration.ofSeconds(1)), TokenBucket.of(2, 1, Duration.ofSeconds(4)));
        assertThat(c.tryAcquire(2)).isTrue();
        Decision d = c.decide(1);
        // The first refills one permit in 1 s, the second in 4 s; reset is the second's 8 s.
        assertThat(d).isEqualTo(Decision.denied(1, 0, 4 * SECOND, 8 * SECOND, 2));
        clock.advance(4 * SECOND - 1);
        assertThat(c.tryAcquire()).isFalse();
        clock.advance(1);
        assertThat(c.tryAcquire()).isTrue();
    }

    @Test
    void grantReportsTheSmallestRemainingAndTheLargestReset() {
        RateLimiter c = composite(perSecond, perMinute);
        // After 2: the per-second bucket holds 3 (reset 200 ms), the per-minute one 18 (reset 6 s).
        assertThat(c.decide(2)).isEqualTo(Decision.allowed(2, 3, 6 * SECOND, 5));
    }

    @Test
    void requestAboveTheSmallestCapacityExceedsTheLimit() {
        RateLimiter c = composite(perSecond, perMinute);
        Decision d = c.decide(6);
        assertThat(d.exceedsLimit()).isTrue();
        assertThat(d).isEqualTo(Decision.exceeding(6, 5, 0, 5));
        assertThat(c.tryAcquire(6)).isFalse();
        assertThat(c.availablePermits()).isEqualTo(5);
    }

    @Test
    void peekEqualsTheDecisionThatFollowsAndConsumesNothing() {
        RateLimiter c = composite(perSecond, perMinute);
        assertThat(c.tryAcquire(4)).isTrue();
        clock.advance(SECOND / 20);
        for (long n = 1; n <= 6; n++) {
            Decision peeked = c.peek(n);
            assertThat(c.peek(n)).isEqualTo(peeked);
            assertThat(c.availablePermits()).isEqualTo(1);
        }
        Decision peeked = c.peek(1);
        assertThat(c.decide(1)).isEqualTo(peeked);
        assertThat(c.peek(1)).isEqualTo(c.decide(1));
    }

    @Test
    void drainTakesWhatEveryLimitHasAndWritesNothingWhenEmpty() {
        RateLimiter c = composite(perSecond, perMinute);
        assertThat(c.tryAcquire(1)).isTrue();
        assertThat(c.drain()).isEqualTo(4);
        assertThat(c.availablePermits()).isZero();
        assertThat(c.drain()).isZero();
        clock.advance(SECOND / 10);
        assertThat(c.availablePermits()).isEqualTo(1);
        // The per-minute bucket paid for the 5 taken: 15 left there.
        clock.advance(10 * SECOND);
        assertThat(c.availablePermits()).isEqualTo(5);
        assertThat(c.drain()).isEqualTo(5);
        clock.advance(10 * SECOND);
        assertThat(c.availablePermits()).isEqualTo(5);
    }

    @Test
    void resetMakesEveryLimitFullAgain() {
        RateLimiter c = composite(perSecond, perMinute);
        assertThat(c.drain()).isEqualTo(5);
        c.reset();
        assertThat(c.decide(1)).isEqualTo(composite(perSecond, perMinute).decide(1));
    }

    @Test
    void refundGivesBackToEveryLimitNeverBeyondFull() {
        RateLimiter c = composite(perSecond, perMinute);
        assertThat(c.tryAcquire(4)).isTrue();
        c.refund(3);
        assertThat(c.availablePermits()).isEqualTo(4);
        c.refund(100);
        assertThat(c.peek(1)).isEqualTo(composite(perSecond, perMinute).peek(1));
    }

    @Test
    void blockingAcquireWaitsForTheLatestRefusingLimit() throws InterruptedException {
        RateLimiter c = composite(TokenBucket.of(1, 1, Duration.ofSeconds(1)), TokenBucket.of(1, 1, Duration.ofSeconds(3)));
        assertThat(c.tryAcquire()).isTrue();
        long start = clock.read();
        assertThat(c.tryAcquire(1, Duration.ofSeconds(2))).isFalse();
        assertThat(clock.read()).isEqualTo(start); // refused at once: 3 s > 2 s, no wait
        assertThat(c.tryAcquire(1, Duration.ofSeconds(3))).isTrue();
        assertThat(clock.read() - start).isEqualTo(3 * SECOND);
        assertThat(c.tryAcquire(2, Duration.ofDays(1))).isFalse(); // never grantable: no wait
        assertThat(clock.read() - start).isEqualTo(3 * SECOND);
    }

    @Test
    void interruptedWaitConsumesNothing() {
        RateLimiter c = composite(TokenBucket.of(1, 1, Duration.ofSeconds(1)), perMinute);
        assertThat(c.tryAcquire()).isTrue();
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> c.tryAcquire(1, Duration.ofSeconds(5))).isInstanceOf(InterruptedException.class);
        assertThat(c.peek(1).isAllowed()).isFalse();
        clock.advance(SECOND);
        assertThat(c.decide(1).remaining()).isZero();
    }

    @Test
    void fractionalRatesAreExact() {
        // 3 per second: a permit costs 333,333,333 1/3 ns.
        RateLimiter c = composite(TokenBucket.of(3, 3, Duration.ofSeconds(1)), LeakyBucket.meter(3, Duration.ofSeconds(1), 3));
        assertThat(c.drain()).isEqualTo(3);
        clock.advance(SECOND - 1);
        assertThat(c.availablePermits()).isEqualTo(2);
        clock.advance(1);
        assertThat(c.availablePermits()).isEqualTo(3);
    }

    @Test
    void queueInACompositeGrantsOnlyWhenEmpty() {
        RateLimiter c = composite(LeakyBucket.queue(2, Duration.ofSeconds(1), 4), perMinute);
        assertThat(c.tryAcquire()).isTrue();
        Decision d = c.decide(1);
        // The queue leaks one in 500 ms; the per-minute bucket is full again in 3 s.
        assertThat(d).isEqualTo(Decision.denied(1, 0, SECOND / 2, 3 * SECOND, 4));
        clock.advance(SECOND / 2);
        assertThat(c.tryAcquire()).isTrue();
    }

    @Test
    void slidingWindowCounterInAComposite() {
        // 4 per second, weighted; with a bucket of 10 at 10 per second.
        RateLimiter c = composite(SlidingWindow.counter(4, Duration.ofSeconds(1)), TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        assertThat(c.tryAcquire(4)).isTrue();
        // In the next window the 4 weigh (W - e) / W: one permit fits once e = W / 4.
        assertThat(c.decide(1)).isEqualTo(Decision.denied(1, 0, 5 * SECOND / 4, 2 * SECOND, 4));
        clock.advance(SECOND + SECOND / 2); // half of the previous window's 4 still weighs: 2 left
        assertThat(c.availablePermits()).isEqualTo(2);
        assertThat(c.drain()).isEqualTo(2);
        assertThat(c.tryAcquire()).isFalse();
    }

    @Test
    void timeGoingBackwardsCreatesNoPermits() {
        RateLimiter c = composite(perSecond, perMinute);
        assertThat(c.drain()).isEqualTo(5);
        clock.advance(-10 * SECOND);
        assertThat(c.tryAcquire()).isFalse();
        clock.advance(10 * SECOND + SECOND / 10);
        assertThat(c.tryAcquire()).isTrue();
        assertThat(c.tryAcquire()).isFalse();
    }

    @Test
    void badInputIsRefusedNamingIt() {
        RateLimiter c = composite(perSecond);
        assertThatThrownBy(() -> c.tryAcquire(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> c.decide(-3)).hasMessage("permits must be > 0: permits=-3");
        assertThatThrownBy(() -> c.refund(0)).hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> c.tryAcquire(1, null)).isInstanceOf(NullPointerException.class).hasMessage("timeout");
        assertThatThrownBy(() -> composite()).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a composite needs at least one limit: limits=[]");
        assertThatThrownBy(() -> composite(perSecond, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("limits[1]");
        assertThatThrownBy(() -> composite(perSecond, SlidingWindow.log(10, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limits[1]=SlidingWindow");
        assertThatThrownBy(() -> LocalRateLimiters.composite(List.of(perSecond), null, clock))
                .isInstanceOf(NullPointerException.class).hasMessage("ticker");
        assertThatThrownBy(() -> c.reconfigure(perMinute)).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("cannot be reconfigured");
    }

    @Test
    void limitIsTheFirstGiven() {
        assertThat(composite(perSecond, perMinute).limit()).isEqualTo(perSecond);
        assertThat(LocalRateLimiters.composite(perMinute, perSecond).limit()).isEqualTo(perMinute);
    }
}

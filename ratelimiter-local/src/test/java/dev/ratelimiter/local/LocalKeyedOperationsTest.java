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
import java.util.List;
import org.junit.jupiter.api.Test;

/** Peek, availability, reset, refund, drain and reconfigure of {@link LocalKeyedRateLimiter}, per key. */
class LocalKeyedOperationsTest {

    private final FakeClock clock = new FakeClock();

    private LocalKeyedRateLimiter<String> keyed(Limit limit) {
        return LocalKeyedRateLimiter.builder(limit).maxKeys(100).ticker(clock).sleeper(clock).build(String.class);
    }

    private static final List<Limit> LIMITS = List.of(
            TokenBucket.of(5, 1, Duration.ofSeconds(1)),
            TokenBucket.of(5, 3, Duration.ofSeconds(1)),
            LeakyBucket.meter(1, Duration.ofSeconds(1), 5),
            SlidingWindow.log(5, Duration.ofSeconds(1)),
            SlidingWindow.counter(5, Duration.ofSeconds(1)));

    @Test
    void peekingAnAbsentKeyAnswersFullAndDoesNotCreateIt() {
        for (Limit limit : LIMITS) {
            LocalKeyedRateLimiter<String> perUser = keyed(limit);
            Decision peeked = perUser.peek("alice", 2);
            assertThat(peeked.isAllowed()).isTrue();
            assertThat(perUser.availablePermits("alice")).isEqualTo(5);
            assertThat(perUser.size()).as("%s", limit).isZero();
            assertThat(perUser.decide("alice", 2)).as("the decision after the peek").isEqualTo(peeked);
            assertThat(perUser.size()).isEqualTo(1);
        }
    }

    @Test
    void peekOfAPresentKeyEqualsTheNextDecisionAndTakesNothing() {
        for (Limit limit : LIMITS) {
            LocalKeyedRateLimiter<String> perUser = keyed(limit);
            assertThat(perUser.tryAcquire("alice", 3)).isTrue();
            assertThat(perUser.availablePermits("alice")).as("%s", limit).isEqualTo(2);
            Decision peeked = perUser.peek("alice", 3);
            assertThat(peeked.isAllowed()).isFalse();
            assertThat(perUser.peek("alice", 3)).isEqualTo(peeked);
            assertThat(perUser.decide("alice", 3)).isEqualTo(peeked);
            assertThat(perUser.decide("alice", 2).isAllowed()).isTrue();
        }
    }

    @Test
    void resetRemovesTheKeySoItComesBackFresh() {
        for (Limit limit : LIMITS) {
            LocalKeyedRateLimiter<String> perUser = keyed(limit);
            assertThat(perUser.tryAcquire("alice", 5)).isTrue();
            assertThat(perUser.tryAcquire("bob", 1)).isTrue();
            perUser.reset("alice");
            assertThat(perUser.size()).as("%s", limit).isEqualTo(1);
            perUser.reset("carol"); // absent: nothing to do
            assertThat(perUser.size()).isEqualTo(1);
            assertThat(perUser.availablePermits("alice")).isEqualTo(5);
            assertThat(perUser.tryAcquire("alice", 5)).isTrue();
            assertThat(perUser.availablePermits("bob")).as("other keys keep their state").isEqualTo(4);
        }
    }

    @Test
    void refundAndDrainActOnOneKey() {
        for (Limit limit : LIMITS) {
            LocalKeyedRateLimiter<String> perUser = keyed(limit);
            assertThat(perUser.tryAcquire("alice", 4)).isTrue();
            perUser.refund("alice", 3);
            assertThat(perUser.availablePermits("alice")).as("%s", limit).isEqualTo(4);
            perUser.refund("bob", 3); // absent: full already, stays absent
            assertThat(perUser.size()).isEqualTo(1);
            assertThat(perUser.drain("alice")).isEqualTo(4);
            assertThat(perUser.drain("alice")).isZero();
            assertThat(perUser.drain("bob")).as("an absent key is drained from full").isEqualTo(5);
            assertThat(perUser.tryAcquire("bob")).isFalse();
            assertThatThrownBy(() -> perUser.refund("alice", 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("permits=0");
            assertThatThrownBy(() -> perUser.peek("alice", -1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("permits=-1");
            assertThatThrownBy(() -> perUser.peek(null, 1)).isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void reconfigureKeepsEveryKeysStateAndAppliesToNewKeys() {
        LocalKeyedRateLimiter<String> perUser = keyed(TokenBucket.of(5, 1, Duration.ofHours(1)));
        assertThat(perUser.tryAcquire("alice", 3)).isTrue();
        assertThat(perUser.tryAcquire("bob", 5)).isTrue();
        Limit larger = TokenBucket.of(20, 1, Duration.ofHours(1));
        perUser.reconfigure(larger);
        assertThat(perUser.limit()).isEqualTo(larger);
        assertThat(perUser.availablePermits("alice")).isEqualTo(17);
        assertThat(perUser.availablePermits("bob")).isEqualTo(15);
        assertThat(perUser.decide("carol", 20).isAllowed()).as("a new key has the new limit").isTrue();
        assertThat(perUser.decide("dave", 21).exceedsLimit()).isTrue();
        assertThat(perUser.decide("alice", 17).limit()).isEqualTo(20);

        perUser.reconfigure(LeakyBucket.meter(1, Duration.ofHours(1), 4)); // same family: allowed
        assertThat(perUser.availablePermits("bob")).as("5 hours of debt exceed a burst of 4").isZero();
        assertThat(perUser.decide("erin", 4).isAllowed()).isTrue();
        assertThat(perUser.decide("erin", 5).exceedsLimit()).isTrue();
    }

    @Test
    void reconfigureOfALogAndACounterKeepsTheirCounts() {
        LocalKeyedRateLimiter<String> log = keyed(SlidingWindow.log(5, Duration.ofSeconds(1)));
        assertThat(log.tryAcquire("alice", 4)).isTrue();
        log.reconfigure(SlidingWindow.log(10, Duration.ofSeconds(2)));
        assertThat(log.availablePermits("alice")).isEqualTo(6);
        clock.advance(Duration.ofMillis(1_500));
        assertThat(log.availablePermits("alice")).as("the grants count in the new, longer window").isEqualTo(6);

        LocalKeyedRateLimiter<String> counter = keyed(SlidingWindow.counter(5, Duration.ofSeconds(1)));
        assertThat(counter.tryAcquire("alice", 4)).isTrue();
        counter.reconfigure(SlidingWindow.counter(8, Duration.ofSeconds(1)));
        assertThat(counter.availablePermits("alice")).isEqualTo(4);
        assertThatThrownBy(() -> counter.reconfigure(SlidingWindow.counter(8, Duration.ofSeconds(2))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit=");
    }

    @Test
    void reconfigureRejectsBadLimitsAndChangesNothing() {
        LocalKeyedRateLimiter<String> perUser = keyed(TokenBucket.of(5, 1, Duration.ofSeconds(1)));
        assertThat(perUser.tryAcquire("alice", 2)).isTrue();
        assertThatThrownBy(() -> perUser.reconfigure(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("limit");
        Limit log = SlidingWindow.log(5, Duration.ofSeconds(1));
        assertThatThrownBy(() -> perUser.reconfigure(log)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limit=" + log);
        assertThat(perUser.limit()).isEqualTo(TokenBucket.of(5, 1, Duration.ofSeconds(1)));
        assertThat(perUser.availablePermits("alice")).isEqualTo(3);
    }

    @Test
    void theViewOfAKeyDelegatesAndRefusesReconfigure() {
        LocalKeyedRateLimiter<String> perUser = keyed(TokenBucket.of(5, 1, Duration.ofHours(1)));
        RateLimiter alice = perUser.forKey("alice");
        assertThat(alice.peek(5).isAllowed()).isTrue();
        assertThat(perUser.size()).isZero();
        assertThat(alice.tryAcquire(2)).isTrue();
        assertThat(alice.availablePermits()).isEqualTo(3);
        alice.refund(1);
        assertThat(perUser.availablePermits("alice")).isEqualTo(4);
        assertThat(alice.drain()).isEqualTo(4);
        alice.reset();
        assertThat(perUser.size()).isZero();
        assertThatThrownBy(() -> alice.reconfigure(TokenBucket.of(9, 1, Duration.ofHours(1))))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("reconfigure the keyed limiter");
    }

    @Test
    void aKeyDroppedBySweepsAfterAReconfigurationComesBackUnderTheNewLimit() {
        LocalKeyedRateLimiter<String> perUser = keyed(TokenBucket.of(5, 5, Duration.ofSeconds(1)));
        assertThat(perUser.tryAcquire("alice", 5)).isTrue();
        perUser.reconfigure(TokenBucket.of(10, 5, Duration.ofSeconds(1)));
        clock.advance(Duration.ofSeconds(3));
        perUser.cleanUp();
        assertThat(perUser.size()).isZero();
        assertThat(perUser.decide("alice", 10).isAllowed()).isTrue();
    }

    @Test
    void theFrontReportsItsEngineAndItsNewLimit() {
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(4, 1, Duration.ofSeconds(1)), clock, clock);
        assertThat(limiter.toString()).isEqualTo("GcraLimiter{" + TokenBucket.of(4, 1, Duration.ofSeconds(1)) + "}");
        limiter.reconfigure(TokenBucket.of(4, 3, Duration.ofSeconds(1)));
        assertThat(limiter.toString()).startsWith("ExactGcraLimiter{");
        assertThat(limiter.limit()).isEqualTo(TokenBucket.of(4, 3, Duration.ofSeconds(1)));
    }
}

package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.RecordingListener.Event;
import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import dev.ratelimiter.internal.ListenedRateLimiter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ListenedRateLimiterTest {

    private static final TokenBucket LIMIT = TokenBucket.of(2, 1, Duration.ofSeconds(1));
    private static final long PER_PERMIT = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(5_000_000_000L);
    private final RecordingListener recorder = new RecordingListener();

    private ListenedRateLimiter listened(TestBucket bucket, RateLimiterListener listener) {
        return new ListenedRateLimiter("api", bucket, listener, clock::get);
    }

    @Test
    void decideReportsTheDecisionItReturns() {
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), recorder);
        Decision first = limiter.decide(2);
        Decision refused = limiter.decide(1);

        assertThat(first.isAllowed()).isTrue();
        assertThat(refused.isAllowed()).isFalse();
        assertThat(recorder.events).containsExactly(
                new Event("granted", "api", null, 2L, first),
                new Event("denied", "api", null, 1L, refused));
        assertThat(recorder.events.get(0).fields()[1]).isSameAs(first);
    }

    @Test
    void tryAcquireReportsWithoutBuildingADecision() {
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), recorder);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire(2)).isFalse();
        assertThat(recorder.events).containsExactly(
                new Event("granted", "api", null, 1L, null),
                new Event("denied", "api", null, 2L, null));
    }

    @Test
    void blockingAcquireReportsOneWaitedEventWithTheTimeWaited() throws InterruptedException {
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), recorder);
        assertThat(limiter.tryAcquire(2, Duration.ZERO)).isTrue();
        assertThat(limiter.tryAcquire(1, Duration.ofSeconds(5))).isTrue(); // the bucket "sleeps" 1 s
        assertThat(limiter.tryAcquire(2, Duration.ofMillis(10))).isFalse();
        assertThat(recorder.events).containsExactly(
                new Event("waited", "api", null, 2L, true, 0L),
                new Event("waited", "api", null, 1L, true, PER_PERMIT),
                new Event("waited", "api", null, 2L, false, 0L));
    }

    @Test
    void interruptedWaitReportsNothing() {
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), recorder);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> limiter.tryAcquire(1, Duration.ofSeconds(1))).isInstanceOf(InterruptedException.class);
        Thread.interrupted();
        assertThat(recorder.events).isEmpty();
    }

    @Test
    void reconfigureReportsTheOldAndNewLimitOnlyWhenItSucceeds() {
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), recorder);
        TokenBucket bigger = TokenBucket.of(10, 5, Duration.ofSeconds(1));
        limiter.reconfigure(bigger);
        assertThatThrownBy(() -> limiter.reconfigure(SlidingWindow.log(3, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(limiter.limit()).isEqualTo(bigger);
        assertThat(recorder.events).containsExactly(new Event("reconfigured", "api", null, LIMIT, bigger));
    }

    @Test
    void theOtherOperationsGoToTheWrappedLimiterAndReportNothing() {
        TestBucket bucket = new TestBucket(LIMIT, clock);
        RateLimiter limiter = listened(bucket, recorder);
        assertThat(limiter.peek(1).isAllowed()).isTrue();
        assertThat(limiter.availablePermits()).isEqualTo(2);
        assertThat(limiter.drain()).isEqualTo(2);
        assertThat(bucket.availablePermits()).isZero();
        limiter.refund(1);
        assertThat(bucket.refunded).isEqualTo(1);
        limiter.reset();
        assertThat(bucket.resets).isEqualTo(1);
        assertThat(limiter.limit()).isSameAs(bucket.limit());
        assertThat(recorder.events).isEmpty();
    }

    @Test
    void aThrowingListenerDoesNotChangeAnyDecision() throws InterruptedException {
        AtomicLong twinClock = new AtomicLong(clock.get());
        TestBucket bare = new TestBucket(LIMIT, twinClock);
        ThrowingListener thrower = new ThrowingListener();
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), thrower);
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.decide(1)).isEqualTo(bare.decide(1));
            assertThat(limiter.tryAcquire(1)).isEqualTo(bare.tryAcquire(1));
            assertThat(limiter.tryAcquire(1, Duration.ofSeconds(2))).isEqualTo(bare.tryAcquire(1, Duration.ofSeconds(2)));
        }
        limiter.reconfigure(TokenBucket.of(3, 1, Duration.ofSeconds(1)));
        assertThat(limiter.limit()).isEqualTo(TokenBucket.of(3, 1, Duration.ofSeconds(1)));
        assertThat(thrower.calls).isEqualTo(16);
    }

    @Test
    void keyedEventsNameTheKeyAlsoThroughAKeyView() throws InterruptedException {
        KeyedRateLimiter<String> keyed = new ListenedKeyedRateLimiter<>("per-user", new TestKeyed(LIMIT, clock),
                recorder, clock::get);
        Decision alice = keyed.decide("alice", 2);
        assertThat(keyed.tryAcquire("bob", 3)).isFalse();
        assertThat(keyed.forKey("carol").tryAcquire(1, Duration.ZERO)).isTrue();
        Decision refused = keyed.forKey("alice").decide();
        assertThat(recorder.events).containsExactly(
                new Event("granted", "per-user", "alice", 2L, alice),
                new Event("denied", "per-user", "bob", 3L, null),
                new Event("waited", "per-user", "carol", 1L, true, 0L),
                new Event("denied", "per-user", "alice", 1L, refused));
    }

    @Test
    void keyedOperationsPassThroughAndReconfigureIsReported() {
        TestKeyed inner = new TestKeyed(LIMIT, clock);
        KeyedRateLimiter<String> keyed = new ListenedKeyedRateLimiter<>("per-user", inner, recorder, clock::get);
        assertThat(keyed.drain("a")).isEqualTo(2);
        assertThat(keyed.availablePermits("a")).isZero();
        keyed.refund("a", 1);
        assertThat(keyed.peek("a", 1).isAllowed()).isTrue();
        keyed.reset("a");
        assertThat(inner.bucket("a").resets).isEqualTo(1);
        TokenBucket next = TokenBucket.of(4, 1, Duration.ofSeconds(1));
        keyed.reconfigure(next);
        assertThat(recorder.events).containsExactly(new Event("reconfigured", "per-user", null, LIMIT, next));
    }

    @Test
    void bothListenersHearEveryEventEvenWhenTheFirstThrows() {
        RecordingListener second = new RecordingListener();
        ThrowingListener first = new ThrowingListener();
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), RateLimiterListener.both(first, second));
        Decision d = limiter.decide(1);
        assertThat(first.calls).isEqualTo(1);
        assertThat(second.events).containsExactly(new Event("granted", "api", null, 1L, d));
        RateLimiterListener both = RateLimiterListener.both(first, second);
        both.onBackendCall("redis", 1_500L, false);
        assertThat(first.calls).isEqualTo(2);
        assertThat(second.events).last().isEqualTo(new Event("backendCall", "redis", null, 1_500L, false));
        assertThatThrownBy(() -> RateLimiterListener.both(null, second)).isInstanceOf(NullPointerException.class)
                .hasMessage("first");
    }

    @Test
    void aListenerThatOverridesNothingIsAccepted() {
        RateLimiter limiter = listened(new TestBucket(LIMIT, clock), new RateLimiterListener() { });
        assertThat(limiter.decide(1).isAllowed()).isTrue();
        assertThat(limiter.toString()).startsWith("Listened{api, ");
    }
}

package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import dev.ratelimiter.internal.ListenedRateLimiter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterEventTest {

    private static final TokenBucket LIMIT = TokenBucket.of(2, 1, Duration.ofSeconds(1));

    private final AtomicLong clock = new AtomicLong(3_000_000_000L);
    private final List<RateLimiterEvent> events = new CopyOnWriteArrayList<>();
    private final RateLimiterListener listener = RateLimiterListener.of(events::add);

    @Test
    void everyEventReachesTheConsumerAsItsRecord() throws InterruptedException {
        RateLimiter limiter = new ListenedRateLimiter("api", new TestBucket(LIMIT, clock), listener, clock::get);
        Decision granted = limiter.decide(2);
        assertThat(limiter.tryAcquire()).isFalse();
        assertThat(limiter.tryAcquire(1, Duration.ofSeconds(1))).isTrue();
        TokenBucket next = TokenBucket.of(5, 1, Duration.ofSeconds(1));
        limiter.reconfigure(next);
        KeyedRateLimiter<String> keyed = new ListenedKeyedRateLimiter<>("per-user", new TestKeyed(LIMIT, clock),
                listener, clock::get);
        assertThat(keyed.tryAcquire("alice", 3)).isFalse();
        IllegalStateException failure = new IllegalStateException("down");
        listener.onFailurePolicy("redis", "k", "FAIL_OPEN", granted, failure);
        listener.onMisconfiguration("redis", null, failure);
        listener.onKeyDropped("per-user", "alice", RateLimiterListener.DropCause.BOUND);
        listener.onBackendCall("redis", 250_000L, true);

        assertThat(events).containsExactly(
                new RateLimiterEvent.Granted("api", null, 2, granted),
                new RateLimiterEvent.Denied("api", null, 1, null),
                new RateLimiterEvent.Waited("api", null, 1, true, Duration.ofSeconds(1)),
                new RateLimiterEvent.Reconfigured("api", LIMIT, next),
                new RateLimiterEvent.Denied("per-user", "alice", 3, null),
                new RateLimiterEvent.FailurePolicyAnswered("redis", "k", "FAIL_OPEN", granted, failure),
                new RateLimiterEvent.Misconfigured("redis", null, failure),
                new RateLimiterEvent.KeyDropped("per-user", "alice", RateLimiterListener.DropCause.BOUND),
                new RateLimiterEvent.BackendCall("redis", Duration.ofNanos(250_000L), true));
        assertThat(events).extracting(RateLimiterEvent::limiter)
                .containsExactly("api", "api", "api", "api", "per-user", "redis", "redis", "per-user", "redis");
        assertThat(events.get(8).key()).isNull();
        assertThat(events.get(3).key()).isNull();
        assertThat(events.get(4).key()).isEqualTo("alice");
    }

    @Test
    void aThrowingConsumerDoesNotChangeTheDecision() {
        RateLimiterListener throwing = RateLimiterListener.of(e -> {
            throw new IllegalStateException("boom");
        });
        RateLimiter limiter = new ListenedRateLimiter("api", new TestBucket(LIMIT, clock), throwing, clock::get);
        assertThat(limiter.decide(2).isAllowed()).isTrue();
        assertThat(limiter.decide(1).isAllowed()).isFalse();
        assertThatThrownBy(() -> RateLimiterListener.of(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("consumer");
    }
}

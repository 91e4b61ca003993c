package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterFactory;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.RateLimiterRegistry;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Redis factory: bare limiters without a listener, reported decisions with one. */
@ExtendWith(RedisExtension.class)
class ListenedRedisFactoryTest {

    /** 2 permits, one more every second. */
    private static final TokenBucket LIMIT = TokenBucket.of(2, 1, Duration.ofSeconds(1));
    private static final long SECOND = 1_000_000_000L;

    private final FakeClock clock = new FakeClock();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final RateLimiterListener recorder = new RateLimiterListener() {
        @Override
        public void onGranted(String limiter, Object key, long permits, Decision decision) {
            events.add("granted " + limiter + " " + key + " " + permits
                    + (decision == null ? "" : " remaining=" + decision.remaining()));
        }

        @Override
        public void onDenied(String limiter, Object key, long permits, Decision decision) {
            events.add("denied " + limiter + " " + key + " " + permits
                    + (decision == null ? "" : " retryAfter=" + decision.retryAfterNanos()));
        }

        @Override
        public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
            events.add("waited " + limiter + " " + key + " " + permits + " " + granted + " " + waitedNanos);
        }
    };

    private RedisRateLimiters redis() {
        return RedisRateLimiters.builder(SharedConnection.get().async())
                .prefix(SharedConnection.freshPrefix())
                .clientTime(clock, TimeUnit.NANOSECONDS, clock.read())
                .ttlGrace(Duration.ofHours(1))
                .timeout(Duration.ofSeconds(30))
                .sleeper(clock)
                .failurePolicy(FailurePolicy.propagate())
                .build();
    }

    @Test
    void withoutAListenerTheFactoryMakesTheBareRedisLimiters() {
        RateLimiterFactory factory = redis().factory();
        assertThat(factory.keyed("per-user", LIMIT)).isInstanceOf(RedisRateLimiters.KeyedLimiter.class);
        assertThat(factory.withListener(recorder).keyed("per-user", LIMIT))
                .isInstanceOf(ListenedRedisKeyedLimiter.class).isInstanceOf(AsyncKeyedRateLimiter.class);
    }

    @Test
    void aListenedRedisLimiterReportsGrantsAndRefusals() throws InterruptedException {
        RateLimiterFactory factory = redis().factory().withListener(recorder);
        KeyedRateLimiter<String> perUser = factory.keyed("per-user", LIMIT);
        RateLimiter global = factory.create("global", LIMIT);

        assertThat(perUser.decide("alice", 2).isAllowed()).isTrue();
        assertThat(perUser.decide("alice", 1).isAllowed()).isFalse();
        assertThat(perUser.tryAcquire("bob", 3)).isFalse();
        assertThat(global.tryAcquire(2)).isTrue();
        assertThat(global.tryAcquire()).isFalse();
        assertThat(global.tryAcquire(1, Duration.ofSeconds(2))).isTrue();

        assertThat(events).containsExactly(
                "granted per-user alice 2 remaining=0",
                "denied per-user alice 1 retryAfter=" + SECOND,
                "denied per-user bob 3",
                "granted global null 2",
                "denied global null 1",
                "waited global null 1 true " + SECOND);
    }

    @Test
    void asynchronousDecisionsAreReportedToo() {
        RateLimiterFactory factory = redis().factory().withListener(recorder);
        @SuppressWarnings("unchecked")
        AsyncKeyedRateLimiter<String> async = (AsyncKeyedRateLimiter<String>) factory.keyed("async", LIMIT);
        assertThat(async.decideAsync("k", 2).toCompletableFuture().join().isAllowed()).isTrue();
        assertThat(async.tryAcquireAsync("k", 1).toCompletableFuture().join()).isFalse();
        assertThat(events).containsExactly("granted async k 2 remaining=0", "denied async k 1");
    }

    @Test
    void aRegistryOnTheRedisFactoryKeepsOneLimiterPerName() {
        RateLimiterRegistry registry = RateLimiterRegistry.of(redis().factory().withListener(recorder));
        KeyedRateLimiter<String> first = registry.keyed("per-user", LIMIT);
        assertThat(registry.keyed("per-user", LIMIT)).isSameAs(first);
        assertThat(first.tryAcquire("u")).isTrue();
        assertThat(events).containsExactly("granted per-user u 1");
    }
}

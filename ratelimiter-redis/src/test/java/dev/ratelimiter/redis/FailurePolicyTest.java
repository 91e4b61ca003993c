package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.redis.testing.RedisProcess;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What each failure policy answers when Redis cannot decide. The class starts its own Redis,
 * connects with the recommended client options (commands rejected while disconnected, so every
 * call fails at once) and kills the server: every decision here is a failed one.
 */
class FailurePolicyTest {

    private static RedisProcess redis;
    private static FaultClient client;

    @BeforeAll
    static void connectThenKillRedis() {
        redis = RedisProcess.start();
        client = new FaultClient(redis.uri(), Duration.ofMillis(500), true);
        redis.kill();
    }

    @AfterAll
    static void close() {
        client.close();
        redis.close();
    }

    private static RedisRateLimiters.Builder builder(FailurePolicy policy, List<RedisRateLimiterException> failures) {
        return RedisRateLimiters.builder(client.connection().async())
                .timeout(Duration.ofMillis(500))
                .failurePolicy(policy)
                .failureListener(failures::add);
    }

    @Test
    public void failOpenAllowsUncheckedAndSaysSo() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        RedisRateLimiters.KeyedLimiter limiter = builder(FailurePolicy.failOpen(), failures).build()
                .keyed("open", TokenBucket.of(2, 1, Duration.ofHours(1)));
        for (int i = 0; i < 5; i++) {
            Decision d = limiter.decide("k", 2);
            assertThat(d.isAllowed()).isTrue();
            assertThat(d.remaining()).isZero();
            assertThat(d.resetNanos()).isZero();
            assertThat(d.limit()).isEqualTo(2);
            assertThat(FailurePolicy.isUnchecked(d)).isTrue();
        }
        assertThat(limiter.decideAsync("k", 1).toCompletableFuture().join().isAllowed()).isTrue();
        Decision tooMany = limiter.decide("k", 3);
        assertThat(tooMany.exceedsLimit()).as("a request the limit can never grant needs no Redis").isTrue();
        assertThat(failures).hasSize(7).allSatisfy(f -> assertThat(f).hasMessageContaining("rl:{open:k}"));
    }

    @Test
    public void aCompositeAnswersByThePolicyLimitByLimit() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        CompositeLimiter closed = builder(FailurePolicy.failClosed(Duration.ofSeconds(3)), failures).build()
                .composite("closed", TokenBucket.of(5, 1, Duration.ofSeconds(1)), TokenBucket.of(50, 1, Duration.ofMinutes(1)));
        Decision refused = closed.decide("k", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(3));

        // Tenant limit 3 (the group), per-user limit 2 (the key): in process during the outage.
        CompositeLimiter local = builder(FailurePolicy.fallbackToLocal(), failures).build()
                .composite("local", key -> key.substring(0, key.indexOf(':')),
                        List.of(TokenBucket.of(3, 1, Duration.ofHours(1))), List.of(TokenBucket.of(2, 1, Duration.ofHours(1))));
        assertThat(local.tryAcquire("t1:alice")).isTrue();
        assertThat(local.tryAcquire("t1:alice")).isTrue();
        assertThat(local.tryAcquire("t1:alice")).as("alice's own limit").isFalse();
        assertThat(local.tryAcquire("t1:bob")).as("the tenant's third permit").isTrue();
        assertThat(local.tryAcquire("t1:bob")).as("the tenant's limit").isFalse();
        assertThat(local.tryAcquire("t2:carol")).as("another tenant").isTrue();
        assertThat(failures).isNotEmpty();
    }

    @Test
    public void aCheckedGrantIsNeverTakenForAnUncheckedOne() {
        assertThat(FailurePolicy.isUnchecked(Decision.allowed(1, 0, 1, 1))).isFalse();
        assertThat(FailurePolicy.isUnchecked(Decision.allowed(1, 1, 0, 2))).isFalse();
        assertThat(FailurePolicy.isUnchecked(Decision.denied(1, 0, 5, 0, 1))).isFalse();
        assertThatThrownBy(() -> FailurePolicy.isUnchecked(null))
                .isInstanceOf(NullPointerException.class).hasMessage("decision");
    }

    @Test
    public void failClosedDeniesWithItsRetryAfter() throws Exception {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        RedisRateLimiters.KeyedLimiter limiter = builder(FailurePolicy.failClosed(Duration.ofMillis(250)), failures)
                .build().keyed("closed", SlidingWindow.log(10, Duration.ofMinutes(1)));
        Decision d = limiter.decide("k", 1);
        assertThat(d.isAllowed()).isFalse();
        assertThat(d.exceedsLimit()).isFalse();
        assertThat(d.remaining()).isZero();
        assertThat(d.retryAfter()).isEqualTo(Duration.ofMillis(250));
        assertThat(d.reset()).isEqualTo(Duration.ofMillis(250));
        assertThat(limiter.tryAcquire("k", 1)).isFalse();
        assertThat(limiter.decideAsync("k", 1).toCompletableFuture().get(2, TimeUnit.SECONDS)).isEqualTo(d);
        assertThat(limiter.decide("k", 11).exceedsLimit()).isTrue();
        assertThat(FailurePolicy.failClosed().retryAfterNanos()).isEqualTo(Duration.ofSeconds(1).toNanos());
    }

    @Test
    public void blockingAcquireUnderFailClosedWaitsTheRetryAfterAndAsksAgainWithinItsTimeout() throws Exception {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        FakeClock clock = new FakeClock();
        RedisRateLimiters.KeyedLimiter limiter = builder(FailurePolicy.failClosed(Duration.ofMillis(100)), failures)
                .clientTime(clock, TimeUnit.NANOSECONDS, clock.read())
                .sleeper(clock)
                .build().keyed("closed-blocking", TokenBucket.of(5, 5, Duration.ofSeconds(1)));
        long start = clock.read();
        assertThat(limiter.tryAcquire("k", 1, Duration.ofMillis(350))).isFalse();
        // Polls at 0, 100, 200 and 300 ms; the next would be at 400 ms, past the timeout.
        assertThat(failures).hasSize(4);
        assertThat(clock.read() - start).isEqualTo(Duration.ofMillis(300).toNanos());
    }

    @Test
    public void fallbackDecidesWithALocalLimiterHoldingTheInstancesShare() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        FakeClock clock = new FakeClock();
        RedisRateLimiters.KeyedLimiter limiter = builder(FailurePolicy.fallbackToLocal(3), failures)
                .clientTime(clock, TimeUnit.NANOSECONDS, clock.read())
                .build().keyed("fallback", TokenBucket.of(10, 3, Duration.ofSeconds(1)));
        // A third of capacity 10 is 3; a third of 3 per second is 3 per 3 seconds.
        for (int i = 1; i <= 3; i++) {
            Decision d = limiter.decide("a", 1);
            assertThat(d.isAllowed()).isTrue();
            assertThat(d.remaining()).isEqualTo(3 - i);
            assertThat(FailurePolicy.isUnchecked(d)).isFalse();
        }
        Decision refused = limiter.decide("a", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(1));
        assertThat(limiter.decide("b", 3).isAllowed()).as("each key has its own local state").isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.tryAcquire("a", 1)).isTrue();
        assertThat(limiter.tryAcquire("a", 1)).isFalse();
        assertThat(limiter.decide("a", 4).exceedsLimit()).as("4 exceeds the local share").isTrue();
        assertThat(failures).hasSize(8);
    }

    @Test
    public void theDefaultPolicyIsTheLocalFallbackWithTheWholeLimit() {
        RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(client.connection().async())
                .timeout(Duration.ofMillis(500)).build()
                .keyed("default", TokenBucket.of(4, 1, Duration.ofHours(1)));
        for (int i = 0; i < 4; i++) {
            assertThat(limiter.tryAcquire("k", 1)).isTrue();
        }
        assertThat(limiter.tryAcquire("k", 1)).isFalse();
    }

    @Test
    public void propagateLetsTheFailureThroughSyncAndAsync() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        RedisRateLimiters.KeyedLimiter limiter = builder(FailurePolicy.propagate(), failures).build()
                .keyed("propagate", TokenBucket.of(4, 1, Duration.ofHours(1)));
        assertThatThrownBy(() -> limiter.decide("k", 1)).isInstanceOf(RedisRateLimiterException.class)
                .hasMessageContaining("rl:{propagate:k}");
        assertThatThrownBy(() -> limiter.tryAcquire("k", 1)).isInstanceOf(RedisRateLimiterException.class);
        CompletableFuture<Decision> async = limiter.decideAsync("k", 1).toCompletableFuture();
        assertThatThrownBy(() -> async.get(2, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(RedisRateLimiterException.class);
        assertThat(failures).hasSize(3);
    }

    @Test
    public void anOversizedRequestIsExceedingWhateverThePolicyAndTryAcquireNeedsNoRoundTrip() throws Exception {
        for (FailurePolicy policy : List.of(FailurePolicy.failOpen(), FailurePolicy.failClosed(),
                FailurePolicy.fallbackToLocal(), FailurePolicy.propagate())) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters redis = builder(policy, failures).build();
            RedisRateLimiters.KeyedLimiter keyed = redis.keyed("oversized", TokenBucket.of(5, 1, Duration.ofHours(1)));
            CompositeLimiter composite = redis.composite("oversized-c", TokenBucket.of(50, 1, Duration.ofHours(1)),
                    SlidingWindow.counter(5, Duration.ofMinutes(1)));
            for (AsyncKeyedRateLimiter<String> async : List.<AsyncKeyedRateLimiter<String>>of(keyed, composite)) {
                dev.ratelimiter.KeyedRateLimiter<String> sync = (dev.ratelimiter.KeyedRateLimiter<String>) async;
                assertThat(sync.tryAcquire("u", 6)).as("%s %s", policy, async).isFalse();
                assertThat(async.tryAcquireAsync("u", 6).toCompletableFuture().get(2, TimeUnit.SECONDS))
                        .as("%s %s", policy, async).isFalse();
                assertThat(failures).as("tryAcquire of an oversized request makes no round trip").isEmpty();

                Decision d = sync.decide("u", 6);
                Decision a = async.decideAsync("u", 6).toCompletableFuture().get(2, TimeUnit.SECONDS);
                for (Decision x : List.of(d, a)) {
                    assertThat(x.exceedsLimit()).as("%s %s: %s", policy, async, x).isTrue();
                    assertThat(x.retryAfterNanos()).isEqualTo(Decision.NEVER);
                    assertThat(x.permits()).isEqualTo(6);
                    assertThat(x.limit()).isEqualTo(5);
                }
                assertThat(failures).as("the failed round trips of decide are still reported").hasSize(2);
                failures.clear();
            }
        }
    }

    @Test
    public void badArgumentsAreNeverAnsweredByThePolicy() {
        for (FailurePolicy policy : List.of(FailurePolicy.failOpen(), FailurePolicy.failClosed(),
                FailurePolicy.fallbackToLocal(), FailurePolicy.propagate())) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters.KeyedLimiter limiter = builder(policy, failures).build()
                    .keyed("args", TokenBucket.of(4, 1, Duration.ofHours(1)));
            assertThatThrownBy(() -> limiter.decide("k", 0)).as("%s", policy)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("permits=0");
            assertThatThrownBy(() -> limiter.decideAsync("k", -3)).as("%s", policy)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("permits=-3");
            assertThatThrownBy(() -> limiter.tryAcquire(null, 1)).as("%s", policy)
                    .isInstanceOf(NullPointerException.class);
            assertThat(failures).isEmpty();
        }
    }

    @Test
    public void aThrowingListenerDoesNotChangeTheAnswer() {
        RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(client.connection().async())
                .failurePolicy(FailurePolicy.failOpen())
                .failureListener(f -> {
                    throw new IllegalStateException("listener failed");
                })
                .build().keyed("listener", TokenBucket.of(4, 1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquire("k", 1)).isTrue();
    }

    @Test
    public void policiesAreValidated() {
        assertThatThrownBy(() -> FailurePolicy.fallbackToLocal(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expectedInstances must be between 1 and 1000000: expectedInstances=0");
        assertThatThrownBy(() -> FailurePolicy.fallbackToLocal(1_000_001)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expectedInstances=1000001");
        assertThatThrownBy(() -> FailurePolicy.failClosed(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retryAfter must be between 1 ms and 30 days: retryAfter=PT0S");
        assertThatThrownBy(() -> FailurePolicy.failClosed(Duration.ofDays(31))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retryAfter=PT744H");
        assertThatThrownBy(() -> FailurePolicy.failClosed(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("retryAfter");
        RedisRateLimiters.Builder b = RedisRateLimiters.builder(client.connection().async());
        assertThatThrownBy(() -> b.failurePolicy(null)).isInstanceOf(NullPointerException.class).hasMessage("policy");
        assertThatThrownBy(() -> b.failureListener(null)).isInstanceOf(NullPointerException.class).hasMessage("listener");
        assertThat(FailurePolicy.fallbackToLocal()).isEqualTo(FailurePolicy.fallbackToLocal(1));
        assertThat(FailurePolicy.failClosed(Duration.ofMillis(5)).toString())
                .isEqualTo("FailurePolicy.failClosed(PT0.005S)");
    }

    @Test
    public void aLimitTheInstancesCannotShareIsRefusedWhenItsLimiterIsCreated() {
        RedisRateLimiters limiters = RedisRateLimiters.builder(client.connection().async())
                .failurePolicy(FailurePolicy.fallbackToLocal(4)).build();
        assertThatThrownBy(() -> limiters.keyed("small", TokenBucket.of(3, 10, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expectedInstances=4")
                .hasMessageContaining("capacity=3");
        assertThatThrownBy(() -> limiters.keyed("small-window", SlidingWindow.counter(2, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limit=2");
    }

    @Test
    public void divisionRoundsDownAndKeepsRatesExactWhereItCan() {
        assertThat(FailureHandler.divide(TokenBucket.of(10, 3, Duration.ofSeconds(1)), 1))
                .isEqualTo(TokenBucket.of(10, 3, Duration.ofSeconds(1)));
        assertThat(FailureHandler.divide(TokenBucket.of(10, 3, Duration.ofSeconds(1)), 3))
                .isEqualTo(TokenBucket.of(3, 3, Duration.ofSeconds(3)));
        // 20 days * 3 is past 30 days: the permits are divided instead.
        assertThat(FailureHandler.divide(TokenBucket.of(9, 7, Duration.ofDays(20)), 3))
                .isEqualTo(TokenBucket.of(3, 2, Duration.ofDays(20)));
        assertThat(FailureHandler.divide(LeakyBucket.meter(10, Duration.ofSeconds(1), 5), 2))
                .isEqualTo(LeakyBucket.meter(10, Duration.ofSeconds(2), 2));
        assertThat(FailureHandler.divide(LeakyBucket.queue(10, Duration.ofSeconds(1), 8), 4))
                .isEqualTo(LeakyBucket.queue(10, Duration.ofSeconds(4), 2));
        assertThat(FailureHandler.divide(SlidingWindow.log(100, Duration.ofDays(30)), 7))
                .isEqualTo(SlidingWindow.log(14, Duration.ofDays(30)));
        assertThat(FailureHandler.divide(SlidingWindow.counter(100, Duration.ofMinutes(1)), 100))
                .isEqualTo(SlidingWindow.counter(1, Duration.ofMinutes(1)));
        Limit tooFewPermits = TokenBucket.of(10, 2, Duration.ofDays(20));
        assertThatThrownBy(() -> FailureHandler.divide(tooFewPermits, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expectedInstances=3").hasMessageContaining("permits=2");
    }
}

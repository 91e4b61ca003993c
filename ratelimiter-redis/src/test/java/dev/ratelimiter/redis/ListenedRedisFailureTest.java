package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterFactory;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * What a listened Redis limiter reports when Redis cannot decide: the failure policy's answer,
 * then the decision; or a misconfiguration, which no policy answers. Each test starts its own
 * Redis.
 */
class ListenedRedisFailureTest {

    private static final Duration TIMEOUT = Duration.ofMillis(500);
    private static final TokenBucket LIMIT = TokenBucket.of(2, 1, Duration.ofHours(1));

    private final List<String> events = new CopyOnWriteArrayList<>();
    /** The backend calls, apart: they are reported on the thread completing the call, in no set order with the rest. */
    private final List<String> calls = new CopyOnWriteArrayList<>();
    /** A permit per backend call reported, so a test waits for them without sleeping. */
    private final java.util.concurrent.Semaphore reported = new java.util.concurrent.Semaphore(0);
    private final RateLimiterListener recorder = new RateLimiterListener() {
        @Override
        public void onGranted(String limiter, Object key, long permits, Decision decision) {
            events.add("granted " + limiter + " " + key + " " + permits);
        }

        @Override
        public void onDenied(String limiter, Object key, long permits, Decision decision) {
            events.add("denied " + limiter + " " + key + " " + permits);
        }

        @Override
        public void onFailurePolicy(String limiter, Object key, String policy, Decision answer,
                                    RuntimeException failure) {
            events.add("policy " + limiter + " " + key + " " + policy + " "
                    + (answer == null ? "propagated" : answer.isAllowed() ? "allowed" : "denied")
                    + " " + failure.getClass().getSimpleName());
        }

        @Override
        public void onMisconfiguration(String limiter, Object key, RuntimeException failure) {
            events.add("misconfigured " + limiter + " " + key + " "
                    + ((RedisMisconfigurationException) failure).reason());
        }

        @Override
        public void onBackendCall(String limiter, long nanos, boolean succeeded) {
            assertThat(nanos).isNotNegative().isLessThan(TIMEOUT.toNanos() * 20);
            calls.add(limiter + (succeeded ? " answered" : " failed"));
            reported.release();
        }
    };

    private RateLimiterFactory factory(FaultClient client, FailurePolicy policy) {
        return RedisRateLimiters.builder(client.connection().async()).timeout(TIMEOUT).failurePolicy(policy).build()
                .factory().withListener(recorder);
    }

    @Test
    void eachPolicyAnswerIsReportedBeforeTheDecision() {
        try (RedisProcess redis = RedisProcess.start();
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, true)) {
            redis.kill();
            assertThat(factory(client, FailurePolicy.failOpen()).keyed("open", LIMIT).tryAcquire("k", 2)).isTrue();
            assertThat(factory(client, FailurePolicy.failClosed(Duration.ofSeconds(1))).create("closed", LIMIT)
                    .decide().isAllowed()).isFalse();
            KeyedRateLimiter<String> fallback = factory(client, FailurePolicy.fallbackToLocal()).keyed("local", LIMIT);
            assertThat(fallback.decide("k", 2).isAllowed()).isTrue();
            assertThat(fallback.decide("k", 1).isAllowed()).as("the local fallback counts").isFalse();
            RateLimiter propagate = factory(client, FailurePolicy.propagate()).create("loud", LIMIT);
            assertThatThrownBy(propagate::tryAcquire).isInstanceOf(RedisRateLimiterException.class);

            assertThat(events).containsExactly(
                    "policy open k FAIL_OPEN allowed RedisRateLimiterException",
                    "granted open k 2",
                    "policy closed null FAIL_CLOSED denied RedisRateLimiterException",
                    "denied closed null 1",
                    "policy local k FALLBACK allowed RedisRateLimiterException",
                    "granted local k 2",
                    "policy local k FALLBACK denied RedisRateLimiterException",
                    "denied local k 1",
                    "policy loud null PROPAGATE propagated RedisRateLimiterException");
        }
    }

    @Test
    void aMisconfigurationIsReportedAndThrownWhateverThePolicy() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             RespClient admin = redis.client()) {
            admin.call("ACL", "SETUSER", "limiter", "on", ">secret", "~*", "+@all", "-evalsha", "-eval", "-config");
            String uri = "redis://limiter:secret@" + RedisProcess.HOST + ":" + redis.port();
            try (FaultClient client = new FaultClient(uri, TIMEOUT, true)) {
                KeyedRateLimiter<String> limiter = factory(client, FailurePolicy.failOpen()).keyed("acl", LIMIT);
                assertThatThrownBy(() -> limiter.decide("k", 1)).isInstanceOf(RedisMisconfigurationException.class);
                assertThat(events).containsExactly("misconfigured acl k NO_PERMISSION");
            }
        }
    }

    @Test
    void everyCallIsReportedWithItsOutcomeWhateverTheOperation() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, true)) {
            RedisRateLimiters redisLimiters = RedisRateLimiters.builder(client.connection().async()).timeout(TIMEOUT)
                    .failurePolicy(FailurePolicy.failOpen()).build();
            KeyedRateLimiter<String> keyed = redisLimiters.factory().withListener(recorder).keyed("api", LIMIT);
            assertThat(keyed.decide("k", 1).isAllowed()).isTrue();
            assertThat(((AsyncKeyedRateLimiter<String>) keyed).decideAsync("k", 1).toCompletableFuture().get()
                    .isAllowed()).isTrue();
            assertThat(keyed.peek("k", 1).isAllowed()).isFalse();
            keyed.refund("k", 1);
            assertThat(redisLimiters.keyed("bare", LIMIT).tryAcquire("k", 1)).as("an unlistened limiter").isTrue();
            awaitCalls(4);
            assertThat(calls).containsExactly("api answered", "api answered", "api answered", "api answered");

            redis.kill();
            calls.clear();
            assertThat(keyed.tryAcquire("k", 1)).as("fail open").isTrue();
            awaitCalls(1);
            assertThat(calls).containsExactly("api failed");
        }
    }

    @Test
    void aListenedCompositeReportsItsDecisionsCallsAndPolicyAnswers() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, true)) {
            RedisRateLimiters redisLimiters = RedisRateLimiters.builder(client.connection().async()).timeout(TIMEOUT)
                    .failurePolicy(FailurePolicy.failClosed(Duration.ofSeconds(3))).build();
            KeyedRateLimiter<String> composite = redisLimiters.listenedComposite("both", recorder, LIMIT,
                    TokenBucket.of(10, 10, Duration.ofHours(1)));
            assertThat(composite).isInstanceOf(AsyncKeyedRateLimiter.class);
            assertThat(composite.tryAcquire("u", 2)).isTrue();
            assertThat(((AsyncKeyedRateLimiter<String>) composite).decideAsync("u", 1).toCompletableFuture().get()
                    .isAllowed()).isFalse();
            awaitCalls(2);
            assertThat(calls).containsExactly("both answered", "both answered");

            redis.kill();
            calls.clear();
            // Two permits: one would be answered from the refusal remembered above, without a call.
            assertThat(composite.decide("u", 2).isAllowed()).as("fail closed").isFalse();
            awaitCalls(1);
            assertThat(calls).containsExactly("both failed");
            assertThat(events).containsExactly(
                    "granted both u 2",
                    "denied both u 1",
                    "policy both u FAIL_CLOSED denied RedisRateLimiterException",
                    "denied both u 2");
            assertThatThrownBy(() -> redisLimiters.listenedComposite("both", null, LIMIT))
                    .isInstanceOf(NullPointerException.class).hasMessage("listener");
            assertThatThrownBy(() -> redisLimiters.listenedComposite("", recorder, LIMIT))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name");
        }
    }

    /**
     * Waits until {@code n} more calls are reported: a call is reported by the thread that
     * completes it, which may still be running when the caller already has its answer. Woken by
     * the reports themselves, bounded by 10 s; no time passes for the limiters.
     */
    private void awaitCalls(int n) throws InterruptedException {
        assertThat(reported.tryAcquire(n, 10, java.util.concurrent.TimeUnit.SECONDS)).as("%d calls reported", n).isTrue();
    }
}

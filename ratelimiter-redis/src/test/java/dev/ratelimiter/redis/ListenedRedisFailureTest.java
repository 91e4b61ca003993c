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
}

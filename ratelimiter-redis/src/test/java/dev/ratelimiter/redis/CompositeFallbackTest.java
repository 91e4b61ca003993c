package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.redis.testing.RedisProcess;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local fallback of a Redis composite decides all its limits as one, in process: a refusal by
 * a group limit leaves the key's own permits intact, as Redis itself would. Redis is started, then
 * killed, so every decision here is answered by the fallback.
 */
class CompositeFallbackTest {

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

    private static CompositeLimiter tenantsAndUsers(FakeClock clock, List<RedisRateLimiterException> failures,
                                                   int instances) {
        // Per tenant 1 per second (the group), per user 2 per hour (the key).
        return RedisRateLimiters.builder(client.connection().async())
                .timeout(Duration.ofMillis(500))
                .failurePolicy(FailurePolicy.fallbackToLocal(instances))
                .failureListener(failures::add)
                .clientTime(clock, TimeUnit.NANOSECONDS, clock.read())
                .sleeper(clock)
                .build()
                .composite("fallback", key -> key.substring(0, key.indexOf(':')),
                        List.of(TokenBucket.of(instances, instances, Duration.ofSeconds(1))),
                        List.of(TokenBucket.of(2L * instances, instances, Duration.ofHours(1))));
    }

    @Test
    void aGroupRefusalUnderTheLocalFallbackLeavesTheKeysPermitsIntact() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        FakeClock clock = new FakeClock();
        CompositeLimiter c = tenantsAndUsers(clock, failures, 1);
        assertThat(c.tryAcquire("t1:alice")).isTrue(); // the tenant's one permit
        for (int i = 0; i < 3; i++) {
            assertThat(c.tryAcquire("t1:bob")).as("refused by the tenant").isFalse();
        }
        // Bob's own limit (2 per hour) must still hold both its permits.
        clock.advance(Duration.ofSeconds(1));
        assertThat(c.tryAcquire("t1:bob")).as("bob's first permit").isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(c.tryAcquire("t1:bob")).as("bob's second permit").isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(c.tryAcquire("t1:bob")).as("bob's own limit").isFalse();
        assertThat(failures).hasSize(7);
    }

    @Test
    void aPeekUnderTheLocalFallbackAnswersWhatTheNextDecisionDoes() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        FakeClock clock = new FakeClock();
        CompositeLimiter c = tenantsAndUsers(clock, failures, 1);
        assertThat(c.tryAcquire("t1:alice")).isTrue(); // the tenant's one permit

        Decision peeked = c.peek("t1:bob", 1);
        assertThat(peeked.isAllowed()).as("the tenant's permit is gone in the fallback").isFalse();
        assertThat(c.decide("t1:bob", 1)).isEqualTo(peeked);
    }

    @Test
    void theFallbackReportsTheCompositesFigures() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        FakeClock clock = new FakeClock();
        CompositeLimiter c = tenantsAndUsers(clock, failures, 1);
        // The user then holds 1 (full again in an hour), the tenant 0 (in 1 s).
        assertThat(c.decide("t1:alice", 1)).isEqualTo(Decision.allowed(1, 0, Duration.ofHours(1).toNanos(), 1));
        // Refused by the tenant, whose refill is the retry-after; the user's reset is the longest.
        assertThat(c.decide("t1:alice", 1))
                .isEqualTo(Decision.denied(1, 0, Duration.ofSeconds(1).toNanos(), Duration.ofHours(1).toNanos(), 1));
        assertThat(c.decide("t1:alice", 2).exceedsLimit()).isTrue();
    }

    @Test
    void theFallbackHoldsTheInstancesShareOfEveryLimit() {
        List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
        FakeClock clock = new FakeClock();
        // Three instances: the tenant's 3 per second becomes 1 per second here, the user's 6 per hour 2.
        CompositeLimiter c = tenantsAndUsers(clock, failures, 3);
        assertThat(c.tryAcquire("t1:alice")).isTrue();
        assertThat(c.tryAcquire("t1:bob")).isFalse();
        clock.advance(Duration.ofSeconds(1));
        assertThat(c.tryAcquire("t1:bob")).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(c.tryAcquire("t1:bob")).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(c.tryAcquire("t1:bob")).isFalse();
    }
}

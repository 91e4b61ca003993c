package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.RedisExtension;
import dev.ratelimiter.redis.testing.StandaloneRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two clients whose own clocks differ by 500 ms, each with its own connection, deciding on the
 * same key. In client-time mode each is judged by its own clock, so they disagree; in Redis-time
 * mode their clocks play no part and they get the same decisions.
 */
@ExtendWith(RedisExtension.class)
class RedisClockSkewTest {

    private static final Duration SKEW = Duration.ofMillis(500);
    /** 1 permit per 100 ms: the 500 ms skew is worth 5 permits. */
    private static final Limit LIMIT = TokenBucket.of(10, 10, Duration.ofSeconds(1));

    private static RedisClient client;
    private static StatefulRedisConnection<String, String> first;
    private static StatefulRedisConnection<String, String> second;

    @BeforeAll
    static void connect(StandaloneRedis redis) {
        client = RedisClient.create(redis.uri());
        first = client.connect();
        second = client.connect();
    }

    @AfterAll
    static void disconnect() {
        first.close();
        second.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }

    @Test
    public void clientTimeModeJudgesEachClientByItsOwnClock() {
        // Two wall clocks standing still, 500 ms apart: no real time enters the decisions.
        long wall = System.currentTimeMillis() * 1_000_000L;
        Ticker behind = () -> wall;
        Ticker ahead = () -> wall + SKEW.toNanos();
        String prefix = SharedConnection.freshPrefix();
        RateLimiter a = RedisRateLimiters.builder(first.async()).failurePolicy(FailurePolicy.propagate()).prefix(prefix)
                .clientTime(behind, TimeUnit.MICROSECONDS, 0).build().create("skew", LIMIT);
        RateLimiter b = RedisRateLimiters.builder(second.async()).failurePolicy(FailurePolicy.propagate()).prefix(prefix)
                .clientTime(ahead, TimeUnit.MICROSECONDS, 0).build().create("skew", LIMIT);

        assertThat(a.tryAcquire(10)).isTrue();
        Decision fromA = a.decide(5);
        Decision fromB = b.decide(5);
        assertThat(fromA.isAllowed()).as("A, whose clock says no time has passed").isFalse();
        assertThat(fromA.retryAfter()).isEqualTo(SKEW);
        assertThat(fromB.isAllowed()).as("B, whose clock is 500 ms ahead, sees 5 permits refilled").isTrue();
        // B's grant moved the state past A's clock: A now sees a debt 500 ms larger than before.
        assertThat(a.decide(5).retryAfter()).isEqualTo(SKEW.multipliedBy(2));
    }

    @Test
    public void redisTimeModeGivesBothClientsTheSameDecisions() {
        String prefix = SharedConnection.freshPrefix();
        // One permit a minute: the decisions below cannot change while less than a minute passes.
        TokenBucket slow = TokenBucket.of(10, 1, Duration.ofMinutes(1));
        RateLimiter a = RedisRateLimiters.builder(first.async()).failurePolicy(FailurePolicy.propagate()).prefix(prefix)
                .build().create("skew", slow);
        RateLimiter b = RedisRateLimiters.builder(second.async()).failurePolicy(FailurePolicy.propagate()).prefix(prefix)
                .build().create("skew", slow);

        long start = redisMicros();
        assertThat(a.tryAcquire(10)).isTrue();
        Decision fromA = a.decide(5);
        Decision fromB = b.decide(5);
        long elapsedNanos = (redisMicros() - start) * 1000;
        assertThat(elapsedNanos).as("Redis time spent by the three calls").isLessThan(Duration.ofMinutes(1).toNanos());
        assertThat(fromA.isAllowed()).isFalse();
        assertThat(fromB.isAllowed()).as("B decides as A does, whatever its own clock").isFalse();
        assertThat(fromB.remaining()).isEqualTo(fromA.remaining());
        // Both waits count down the same Redis clock: they differ only by the time between the calls.
        assertThat(fromA.retryAfterNanos() - fromB.retryAfterNanos()).isBetween(0L, elapsedNanos);
        long fivePermits = Duration.ofMinutes(5).toNanos();
        assertThat(fromA.retryAfterNanos()).isBetween(fivePermits - elapsedNanos, fivePermits);
    }

    private static long redisMicros() {
        List<String> time = first.sync().time();
        return Long.parseLong(time.get(0)) * 1_000_000L + Long.parseLong(time.get(1));
    }
}

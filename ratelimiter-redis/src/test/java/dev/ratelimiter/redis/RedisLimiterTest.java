package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.local.LocalRateLimiters;
import dev.ratelimiter.redis.testing.RedisExtension;
import dev.ratelimiter.redis.testing.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Redis limiters beyond the conformance suite: TTLs, the script cache, Redis time, extreme
 * limits against the local limiters, and configuration errors.
 */
@ExtendWith(RedisExtension.class)
class RedisLimiterTest {

    /** A database of its own, so that DBSIZE counts only this class's keys. */
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;
    private static RedisCommands<String, String> redis;

    private static final List<Limit> SHORT_LIMITS = List.of(
            TokenBucket.of(3, 1, Duration.ofMillis(20)),
            LeakyBucket.meter(1, Duration.ofMillis(20), 3),
            LeakyBucket.queue(1, Duration.ofMillis(20), 3),
            SlidingWindow.log(3, Duration.ofMillis(40)),
            SlidingWindow.counter(3, Duration.ofMillis(40)));

    @BeforeAll
    static void connect() {
        client = RedisClient.create(RedisServers.standalone().uri() + "/7");
        connection = client.connect();
        redis = connection.sync();
        redis.flushdb();
    }

    @AfterAll
    static void disconnect() {
        redis.flushdb();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }

    private static RedisRateLimiters.Builder builder() {
        // A Redis failure must fail the test, not be answered by the local fallback.
        return RedisRateLimiters.builder(connection.async()).prefix(SharedConnection.freshPrefix())
                .failurePolicy(FailurePolicy.propagate());
    }

    @Test
    public void everyKeyWrittenHasATtlAndIdleKeysVanish() {
        for (boolean clientTime : new boolean[] {false, true}) {
            RedisRateLimiters.Builder b = builder();
            if (clientTime) {
                b.clientTime(() -> System.currentTimeMillis() * 1_000_000L, TimeUnit.MICROSECONDS, 0)
                        .ttlGrace(Duration.ofMillis(5));
            }
            RedisRateLimiters limiters = b.build();
            for (Limit limit : SHORT_LIMITS) {
                RedisRateLimiters.KeyedLimiter keyed = limiters.keyed("ttl-" + limit.getClass().getSimpleName()
                        + limit.hashCode(), limit);
                for (int i = 0; i < 2000; i++) {
                    String key = "user" + (i % 200);
                    Decision d = keyed.decide(key, 1 + i % 2);
                    long pttl = redis.pttl(keyed.redisKey(key));
                    assertThat(pttl).as("PTTL after %s on %s, client time %s", d, limit, clientTime)
                            .isNotEqualTo(-1L).isGreaterThanOrEqualTo(-2L); // -1: no TTL; -2: no key
                }
            }
        }
        assertThat(redis.dbsize()).as("keys exist while limits are not full").isPositive();
        // Waiting here is for Redis's own expiry, not to drive a limiter's clock.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (redis.dbsize() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(redis.dbsize()).as("every key expired once idle past its refill time").isZero();
    }

    @Test
    public void scriptFlushMidRunReachesNoCaller() {
        RedisRateLimiters.KeyedLimiter limiter = builder().build()
                .keyed("flush", TokenBucket.of(5, 1, Duration.ofHours(1)));
        for (int i = 1; i <= 5; i++) {
            assertThat(limiter.decide("k", 1).remaining()).isEqualTo(5 - i);
            redis.scriptFlush();
        }
        redis.scriptFlush();
        Decision refused = limiter.decide("k", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfterNanos()).isBetween(1L, Duration.ofHours(1).toNanos());
        redis.scriptFlush();
        assertThat(limiter.decideAsync("k", 6).toCompletableFuture().join().exceedsLimit()).isTrue();
    }

    @Test
    public void redisTimeModeDecidesWithRedisTime() {
        RedisRateLimiters limiters = builder().build();
        RateLimiter bucket = limiters.create("redis-time", TokenBucket.of(3, 1, Duration.ofHours(1)));
        for (int i = 1; i <= 3; i++) {
            Decision d = bucket.decide(1);
            assertThat(d.isAllowed()).isTrue();
            assertThat(d.remaining()).isEqualTo(3 - i);
        }
        Decision refused = bucket.decide(1);
        assertThat(refused.isAllowed()).isFalse();
        // Microseconds of Redis time passed between the calls: the wait is a little under an hour.
        assertThat(refused.retryAfterNanos()).isBetween(Duration.ofMinutes(59).toNanos(), Duration.ofHours(1).toNanos());
        assertThat(refused.resetNanos()).isBetween(Duration.ofMinutes(179).toNanos(), Duration.ofHours(3).toNanos());
        assertThat(refused.retryAfterNanos() % 1000).as("whole microseconds").isZero();
        assertThat(bucket.decide(4).exceedsLimit()).isTrue();

        RateLimiter log = limiters.create("redis-time-log", SlidingWindow.log(2, Duration.ofDays(30)));
        assertThat(log.tryAcquire(2)).isTrue();
        assertThat(log.decide(1).retryAfter()).isBetween(Duration.ofDays(30).minusMinutes(1), Duration.ofDays(30));
        RateLimiter counter = limiters.create("redis-time-counter", SlidingWindow.counter(2, Duration.ofMinutes(1)));
        assertThat(counter.tryAcquire(2)).isTrue();
        assertThat(counter.tryAcquire(1)).isFalse();
    }

    @Test
    public void extremeLimitsDecideExactlyAsTheLocalLimiters() {
        List<Limit> limits = List.of(
                TokenBucket.of(1, 1, Duration.ofDays(1)),
                TokenBucket.of(1_000_000, 1_000_000, Duration.ofSeconds(1)),
                LeakyBucket.meter(1_000_000, Duration.ofSeconds(1), 3),
                TokenBucket.of(1, 1, Duration.ofDays(30)),
                SlidingWindow.log(5, Duration.ofDays(30)),
                SlidingWindow.counter(1_000_000, Duration.ofDays(30)),
                SlidingWindow.counter(3, Duration.ofDays(30)));
        long[] advances = {0, 1, 999, 1_000_000, 333_333_333, Duration.ofHours(7).toNanos(),
                Duration.ofDays(1).toNanos() - 1, 1, Duration.ofDays(29).toNanos(), 3};
        for (Limit limit : limits) {
            FakeClock redisClock = new FakeClock();
            FakeClock localClock = new FakeClock();
            RateLimiter remote = SharedConnection.clientTime(limit, redisClock, redisClock);
            RateLimiter local = LocalRateLimiters.create(limit, localClock, localClock);
            long max = limit.maxPermits();
            int step = 0;
            // About 31 days in all: with the 60-day span of a 30-day counter, the exact range in ns.
            for (long advance : advances) {
                redisClock.advance(advance);
                localClock.advance(advance);
                for (long permits : new long[] {1, max / 2 + 1, max, max + 1, 1}) {
                    assertThat(remote.decide(permits)).as("step %s of %s", step++, limit)
                            .isEqualTo(local.decide(permits));
                }
            }
        }
    }

    @Test
    public void limitsBeyondTheExactRangeAreRefusedNamingTheValue() {
        RedisRateLimiters limiters = builder().build();
        assertThatThrownBy(() -> limiters.keyed("big", TokenBucket.of(1L << 53, 1_000_000_000, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be at most 2^52 (4503599627370496) for a Redis limiter, whose scripts "
                        + "count in exact doubles: capacity=9007199254740992");
        assertThatThrownBy(() -> limiters.keyed("big", SlidingWindow.log((1L << 52) + 1, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit=4503599627370497");
        assertThatThrownBy(() -> limiters.keyed("odd", SlidingWindow.counter(3, Duration.ofNanos(1_000_001))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window must be a whole number of microseconds for a Redis limiter: window=PT0.001000001S");
        assertThatThrownBy(() -> limiters.keyed("a{b}", TokenBucket.of(1, 1, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("name must not contain '{' or '}': name=a{b}");
        // ("login:ip", "1.2.3.4") must never share a key with ("login", "ip:1.2.3.4").
        assertThatThrownBy(() -> limiters.keyed("login:ip", TokenBucket.of(1, 1, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must be non-empty and must not contain ':': name=login:ip");
        assertThatThrownBy(() -> limiters.create("", TokenBucket.of(1, 1, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-empty");
        assertThatThrownBy(() -> limiters.keyed(null, TokenBucket.of(1, 1, Duration.ofSeconds(1))))
                .isInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> builder().timeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be > 0: timeout=PT0S");
        // Huge durations are refused by the setter, naming the value, not by build() overflowing.
        assertThatThrownBy(() -> builder().timeout(Duration.ofDays(300 * 365)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be <= PT24H: timeout=PT2628000H");
        assertThatThrownBy(() -> builder().ttlGrace(Duration.ofSeconds(Long.MAX_VALUE)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("grace must be <= PT720H: grace=PT");
        assertThat(builder().timeout(RedisRateLimiters.Builder.MAX_TIMEOUT)
                .ttlGrace(RedisRateLimiters.Builder.MAX_TTL_GRACE).build()).isNotNull();
        assertThatThrownBy(() -> builder().clientTime(() -> 0, TimeUnit.MILLISECONDS, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("unit must be MICROSECONDS or NANOSECONDS: unit=MILLISECONDS");
    }

    @Test
    public void keysCarryTheirNameAndKeyAsOneHashTag() {
        KeyedRateLimiter<String> limiter = RedisRateLimiters.builder(connection.async()).prefix("app:")
                .failurePolicy(FailurePolicy.propagate()).build()
                .keyed("api", TokenBucket.of(2, 1, Duration.ofMinutes(1)));
        assertThat(((RedisRateLimiters.KeyedLimiter) limiter).redisKey("user-1")).isEqualTo("app:{api:user-1}");
        assertThat(limiter.tryAcquire("user-1")).isTrue();
        assertThat(redis.exists("app:{api:user-1}")).isEqualTo(1L);
        assertThat(redis.pttl("app:{api:user-1}")).isBetween(59_000L, 60_000L);
    }
}

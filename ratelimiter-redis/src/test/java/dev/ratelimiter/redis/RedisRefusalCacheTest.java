package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Refusals Redis is known to give are answered without a round trip, exactly: the script calls
 * are counted on a server of this test's own ({@code INFO commandstats}), time is a fake client
 * clock.
 */
class RedisRefusalCacheTest {

    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private static RedisProcess redis;
    private static RespClient admin;
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    private final FakeClock clock = new FakeClock();

    @BeforeAll
    static void start() {
        redis = RedisProcess.start();
        admin = redis.client();
        client = RedisClient.create(redis.uri());
        connection = client.connect();
    }

    @AfterAll
    static void stop() {
        if (connection != null) {
            connection.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        if (admin != null) {
            admin.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void flush() {
        admin.call("FLUSHALL");
    }

    private RedisRateLimiters.Builder builder() {
        return RedisRateLimiters.builder(connection.async())
                .clientTime(clock, TimeUnit.NANOSECONDS, clock.read())
                .ttlGrace(Duration.ofHours(1))
                .timeout(Duration.ofSeconds(30))
                .failurePolicy(FailurePolicy.propagate());
    }

    @Test
    void aKnownRefusalCostsNoCallUntilItsRetryAfterExactly() {
        KeyedRateLimiter<String> limiter = builder().build().keyed("api", TokenBucket.of(2, 1, Duration.ofSeconds(1)));
        assertThat(limiter.tryAcquire("k", 2)).isTrue();
        Decision refused = limiter.decide("k", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfterNanos()).isEqualTo(SECOND);
        long calls = admin.scriptCalls();

        for (int i = 0; i < 1_000; i++) {
            assertThat(limiter.tryAcquire("k", 1 + i % 2)).isFalse();
        }
        clock.advance(SECOND - 1);
        assertThat(limiter.tryAcquire("k", 1)).as("1 ns before the retry-after").isFalse();
        assertThat(admin.scriptCalls()).as("no call for a refusal already known").isEqualTo(calls);

        clock.advance(1);
        assertThat(limiter.tryAcquire("k", 1)).as("at the retry-after Redis is asked, and grants").isTrue();
        assertThat(admin.scriptCalls()).isEqualTo(calls + 1);
        assertThat(limiter.tryAcquire("k", 1)).isFalse();
        assertThat(admin.scriptCalls()).as("a new refusal is asked for, then remembered").isEqualTo(calls + 2);
        assertThat(limiter.tryAcquire("other", 1)).as("another key is unaffected").isTrue();
    }

    @Test
    void fewerPermitsThanRefusedAreAskedOfRedis() {
        KeyedRateLimiter<String> limiter = builder().build().keyed("api", TokenBucket.of(3, 1, Duration.ofSeconds(1)));
        assertThat(limiter.tryAcquire("k", 2)).isTrue();
        assertThat(limiter.tryAcquire("k", 2)).isFalse();
        long calls = admin.scriptCalls();
        assertThat(limiter.tryAcquire("k", 1)).isTrue();
        assertThat(admin.scriptCalls()).isEqualTo(calls + 1);
    }

    @Test
    void aDecisionOfOnePermitIsAnsweredFromARefusalLeavingNothingWithRedissFigures() {
        KeyedRateLimiter<String> limiter = builder().build().keyed("api", TokenBucket.of(2, 1, Duration.ofSeconds(1)));
        assertThat(limiter.tryAcquire("k", 2)).isTrue();
        assertThat(limiter.tryAcquire("k")).isFalse();
        long calls = admin.scriptCalls();
        clock.advance(SECOND / 4);
        Decision known = limiter.decide("k", 1);
        assertThat(admin.scriptCalls()).as("answered without a call").isEqualTo(calls);
        assertThat(known.isAllowed()).isFalse();
        assertThat(known.retryAfterNanos()).isEqualTo(SECOND * 3 / 4);
        assertThat(known).as("the decision Redis gives at the same instant (peek asks Redis)")
                .isEqualTo(limiter.peek("k", 1));
        assertThat(admin.scriptCalls()).isEqualTo(calls + 1);

        Decision two = limiter.decide("k", 2);
        assertThat(admin.scriptCalls()).as("two permits: Redis is asked").isEqualTo(calls + 2);
        assertThat(two.retryAfterNanos()).isEqualTo(SECOND * 7 / 4);
    }

    @Test
    void aRefusalThatLeftPermitsIsNotUsedForDecisions() {
        KeyedRateLimiter<String> limiter = builder().build().keyed("api", TokenBucket.of(3, 1, Duration.ofSeconds(1)));
        assertThat(limiter.tryAcquire("k", 2)).isTrue();
        assertThat(limiter.decide("k", 2).isAllowed()).as("1 remains").isFalse();
        long calls = admin.scriptCalls();
        assertThat(limiter.decide("k", 2).isAllowed()).isFalse();
        assertThat(admin.scriptCalls()).as("remaining may grow before the retry-after: asked").isEqualTo(calls + 1);
        assertThat(limiter.tryAcquire("k", 2)).isFalse();
        assertThat(admin.scriptCalls()).as("but tryAcquire needs no figures").isEqualTo(calls + 1);
    }

    @Test
    void aRefundOrResetThroughThisLimiterForgetsTheRefusals() {
        KeyedRateLimiter<String> limiter = builder().build().keyed("api", TokenBucket.of(1, 1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.tryAcquire("k")).isFalse();
        limiter.refund("k", 1);
        assertThat(limiter.tryAcquire("k")).as("after the refund").isTrue();
        assertThat(limiter.tryAcquire("k")).isFalse();
        limiter.reset("k");
        assertThat(limiter.tryAcquire("k")).as("after the reset").isTrue();
    }

    @Test
    void aReservationGivenBackForgetsTheRefusalsMadeBehindIt() {
        // The waiter's sleep: the clock reaches its slot's start, another caller is refused
        // because the slot is reserved, then the wait is interrupted and the slot given back.
        java.util.concurrent.atomic.AtomicReference<KeyedRateLimiter<String>> limiter =
                new java.util.concurrent.atomic.AtomicReference<>();
        boolean[] refusedBehind = new boolean[1];
        dev.ratelimiter.Sleeper interrupted = nanos -> {
            clock.advance(SECOND / 2);
            refusedBehind[0] = !limiter.get().tryAcquire("k");
            throw new InterruptedException("interrupted while waiting for the slot");
        };
        limiter.set(builder().sleeper(interrupted).build().keyed("api", TokenBucket.of(1, 1, Duration.ofSeconds(1))));
        assertThat(limiter.get().tryAcquire("k")).isTrue();
        assertThatThrownBy(() -> limiter.get().tryAcquire("k", 1, Duration.ofSeconds(5)))
                .isInstanceOf(InterruptedException.class);
        Thread.interrupted(); // clear the flag the limiter restored
        assertThat(refusedBehind[0]).as("refused while the slot was reserved").isTrue();
        clock.advance(SECOND / 2);
        assertThat(limiter.get().tryAcquire("k")).as("the slot given back is free: the refusal is forgotten").isTrue();
    }

    @Test
    void aLargerLimitForgetsTheRefusals() {
        KeyedRateLimiter<String> limiter = builder().build().keyed("api", TokenBucket.of(1, 1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.tryAcquire("k")).isFalse();
        limiter.reconfigure(TokenBucket.of(2, 1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquire("k")).as("the larger bucket has room").isTrue();
    }

    @Test
    void anotherProcessesResetIsSeenAtMostTheMaximumAgeLate() {
        String prefix = "shared:";
        TokenBucket limit = TokenBucket.of(1, 1, Duration.ofHours(1));
        KeyedRateLimiter<String> here = builder().prefix(prefix).build().keyed("api", limit);
        KeyedRateLimiter<String> there = builder().prefix(prefix).refusalCache(0).build().keyed("api", limit);
        assertThat(here.tryAcquire("k")).isTrue();
        assertThat(here.tryAcquire("k")).isFalse();
        long calls = admin.scriptCalls();
        there.reset("k");
        assertThat(here.tryAcquire("k")).as("this one remembers the refusal: the stated exception").isFalse();
        clock.advance(RedisRateLimiters.Builder.DEFAULT_REFUSAL_MAX_AGE.toNanos() - 1);
        assertThat(here.tryAcquire("k")).as("1 ns before the maximum age").isFalse();
        assertThat(admin.scriptCalls()).isEqualTo(calls + 1); // the reset only
        clock.advance(1);
        assertThat(here.tryAcquire("k")).as("at the maximum age Redis decides: the reset is seen").isTrue();
    }

    @Test
    void theMaximumAgeIsSettable() {
        KeyedRateLimiter<String> limiter = builder().refusalCache(64, Duration.ofMillis(100)).build()
                .keyed("api", TokenBucket.of(1, 1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.tryAcquire("k")).isFalse();
        long calls = admin.scriptCalls();
        clock.advance(Duration.ofMillis(100).toNanos() - 1);
        assertThat(limiter.tryAcquire("k")).isFalse();
        assertThat(admin.scriptCalls()).isEqualTo(calls);
        clock.advance(1);
        assertThat(limiter.tryAcquire("k")).as("still refused, by Redis").isFalse();
        assertThat(admin.scriptCalls()).isEqualTo(calls + 1);
    }

    @Test
    void aCompositeRemembersItsRefusalsPerKey() {
        CompositeLimiter composite = builder().build().composite("both",
                TokenBucket.of(2, 1, Duration.ofSeconds(1)), SlidingWindow.log(10, Duration.ofHours(1)));
        assertThat(composite.tryAcquire("k", 2)).isTrue();
        assertThat(composite.tryAcquire("k", 1)).isFalse();
        long calls = admin.scriptCalls();
        clock.advance(SECOND / 4);
        assertThat(composite.tryAcquire("k", 1)).isFalse();
        Decision known = composite.decide("k", 1);
        assertThat(admin.scriptCalls()).as("no call for a known refusal").isEqualTo(calls);
        assertThat(known).as("Redis's decision at the same instant").isEqualTo(composite.peek("k", 1));
        assertThat(composite.tryAcquire("other", 1)).isTrue();
        composite.refund("k", 1);
        assertThat(composite.tryAcquire("k", 1)).as("the refund is seen at once").isTrue();
    }

    @Test
    void turnedOffEveryTryAcquireIsACall() {
        KeyedRateLimiter<String> limiter = builder().refusalCache(0).build()
                .keyed("api", TokenBucket.of(1, 1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquire("k")).isTrue();
        long calls = admin.scriptCalls();
        for (int i = 0; i < 10; i++) {
            assertThat(limiter.tryAcquire("k")).isFalse();
        }
        assertThat(admin.scriptCalls()).isEqualTo(calls + 10);
    }

    @Test
    void memoryIsBoundedByTheSlots() {
        // One slot: a refusal of another key replaces the one remembered.
        KeyedRateLimiter<String> limiter = builder().refusalCache(1).build()
                .keyed("api", SlidingWindow.counter(1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquire("a")).isTrue();
        assertThat(limiter.tryAcquire("b")).isTrue();
        assertThat(limiter.tryAcquire("a")).isFalse();
        assertThat(limiter.tryAcquire("b")).isFalse();
        long calls = admin.scriptCalls();
        assertThat(limiter.tryAcquire("b")).isFalse();
        assertThat(admin.scriptCalls()).as("b is remembered").isEqualTo(calls);
        assertThat(limiter.tryAcquire("a")).isFalse();
        assertThat(admin.scriptCalls()).as("a was displaced by b: asked again").isEqualTo(calls + 1);
    }

    @Test
    void asynchronousTryAcquireUsesTheCacheToo() throws Exception {
        RedisRateLimiters.KeyedLimiter limiter = builder().build().keyed("api", TokenBucket.of(1, 1, Duration.ofHours(1)));
        assertThat(limiter.tryAcquireAsync("k", 1).toCompletableFuture().get()).isTrue();
        assertThat(limiter.tryAcquireAsync("k", 1).toCompletableFuture().get()).isFalse();
        long calls = admin.scriptCalls();
        assertThat(limiter.tryAcquireAsync("k", 1).toCompletableFuture().get()).isFalse();
        assertThat(limiter.tryAcquire("k")).isFalse();
        assertThat(admin.scriptCalls()).isEqualTo(calls);
    }

    @Test
    void onRedisTimeARefusalIsRememberedAndStillRefusesWhileRedisIsDown() {
        try (RedisProcess own = RedisProcess.start()) {
            RedisClient c = RedisClient.create(own.uri());
            try (StatefulRedisConnection<String, String> conn = c.connect()) {
                // A maximum age of an hour: however slow the kill, the refusal is still remembered.
                KeyedRateLimiter<String> limiter = RedisRateLimiters.builder(conn.async())
                        .refusalCache(1024, Duration.ofHours(1))
                        .timeout(Duration.ofMillis(500)).failurePolicy(FailurePolicy.failOpen()).build()
                        .keyed("api", TokenBucket.of(1, 1, Duration.ofHours(1)));
                assertThat(limiter.tryAcquire("k")).isTrue();
                assertThat(limiter.tryAcquire("k")).isFalse();
                own.kill();
                assertThat(limiter.tryAcquire("k")).as("known refused: no call, so no failure policy").isFalse();
                assertThat(limiter.tryAcquire("other")).as("unknown: Redis is down, the policy (fail open) answers")
                        .isTrue();
            } finally {
                c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }
    }

    @Test
    void theSizeIsCheckedNamingTheValue() {
        assertThatThrownBy(() -> builder().refusalCache(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refusalCache entries must be between 0 (off) and 1048576: entries=-1");
        assertThatThrownBy(() -> builder().refusalCache((1 << 20) + 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("entries=1048577");
        assertThat(builder().refusalCache(1 << 20)).isNotNull();
        assertThatThrownBy(() -> builder().refusalCache(16, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refusalCache maxAge must be between 1 ms and PT24H: maxAge=PT0S");
        assertThatThrownBy(() -> builder().refusalCache(16, Duration.ofDays(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxAge=PT48H");
        assertThatThrownBy(() -> builder().refusalCache(16, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("maxAge");
        assertThatThrownBy(() -> builder().refusalCache(-2, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("entries=-2");
    }
}

package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.redis.testing.RedisProcess;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The operations beyond decisions against a real Redis: peek and availablePermits read only,
 * reset, refund and drain, reconfigure (with two processes on one key, and the GCRA state read
 * under another rate), and each operation under every failure policy.
 */
class RedisOperationsTest {

    private static final Duration SLOW = Duration.ofHours(1);

    static Stream<Arguments> limitsAndModes() {
        List<Limit> limits = List.of(TokenBucket.of(10, 1, SLOW), LeakyBucket.meter(1, SLOW, 10),
                LeakyBucket.queue(1, SLOW, 10), SlidingWindow.log(10, SLOW), SlidingWindow.counter(10, SLOW));
        return limits.stream().flatMap(l -> Stream.of(Arguments.of(l, true), Arguments.of(l, false)));
    }

    private static RedisCommands<String, String> redis() {
        return SharedConnection.get().sync();
    }

    /** A factory on a fresh prefix: Redis time, or client time on {@code clock} (in nanoseconds). */
    private static RedisRateLimiters factory(String prefix, FakeClock clock) {
        RedisRateLimiters.Builder b = RedisRateLimiters.builder(SharedConnection.get().async())
                .prefix(prefix)
                .timeout(Duration.ofSeconds(30))
                .failurePolicy(FailurePolicy.propagate());
        if (clock != null) {
            b.clientTime(clock, TimeUnit.NANOSECONDS, FakeClock.DEFAULT_START).ttlGrace(Duration.ofHours(1));
        }
        return b.build();
    }

    private static RedisRateLimiters.KeyedLimiter keyed(Limit limit, boolean redisTime) {
        return factory(SharedConnection.freshPrefix(), redisTime ? null : new FakeClock()).keyed("ops", limit);
    }

    /** An expiry of 1,234,567.891 s: no script sets one like it. */
    private static final long MARKED_TTL_MILLIS = 1_234_567_891L;

    @ParameterizedTest(name = "{0}, Redis time {1}")
    @MethodSource("limitsAndModes")
    public void peekAndAvailablePermitsWriteNothing(Limit limit, boolean redisTime) {
        RedisRateLimiters.KeyedLimiter limiter = keyed(limit, redisTime);
        String key = limiter.redisKey("k");

        assertThat(limiter.peek("k", 1).isAllowed()).isTrue();
        assertThat(limiter.availablePermits("k")).isEqualTo(10);
        assertThat(limiter.peek("k", 11).exceedsLimit()).isTrue();
        assertThat(redis().exists(key)).as("an absent key stays absent").isZero();

        assertThat(limiter.decide("k", limit instanceof LeakyBucket lb && lb.mode() == LeakyBucket.Mode.QUEUE
                ? 1 : 3).isAllowed()).isTrue();
        // A distinctive expiry, far from any the scripts set: a peek that wrote the key, or set its
        // TTL again, would move it (PEXPIRETIME, exact, exists only from Redis 7.0 on).
        assertThat(redis().pexpire(key, MARKED_TTL_MILLIS)).isTrue();
        byte[] dump = SharedConnection.get().sync().dump(key);
        long ttl = redis().pttl(key);

        Decision peeked = limiter.peek("k", 2);
        Decision peekedAsync = limiter.peekAsync("k", 2).toCompletableFuture().join();
        assertThat(peekedAsync.isAllowed()).isEqualTo(peeked.isAllowed());
        if (!redisTime) {
            assertThat(peekedAsync).isEqualTo(peeked);
        }
        long available = limiter.availablePermits("k");
        limiter.peek("k", 100);

        assertThat(redis().dump(key)).as("the stored value is unchanged").isEqualTo(dump);
        assertThat(redis().pttl(key)).as("the expiry is not touched")
                .isLessThanOrEqualTo(ttl).isGreaterThan(MARKED_TTL_MILLIS - 60_000);
        if (!redisTime) {
            // The fake clock stands still: the decision that follows equals the peek.
            assertThat(limiter.decide("k", 2)).isEqualTo(peeked);
            assertThat(available).isEqualTo(peeked.isAllowed() ? peeked.remaining() + 2 : peeked.remaining());
        }
    }

    @ParameterizedTest(name = "{0}, Redis time {1}")
    @MethodSource("limitsAndModes")
    public void resetIsSeenByAnotherLimiterOnTheSameKey(Limit limit, boolean redisTime) {
        String prefix = SharedConnection.freshPrefix();
        FakeClock clock = redisTime ? null : new FakeClock();
        RedisRateLimiters.KeyedLimiter a = factory(prefix, clock).keyed("ops", limit);
        RedisRateLimiters.KeyedLimiter b = factory(prefix, clock).keyed("ops", limit);
        assertThat(a.drain("k")).isEqualTo(10);
        assertThat(b.availablePermits("k")).isZero();
        assertThat(b.tryAcquire("k")).isFalse();

        a.reset("k");

        if (redisTime || !(limit instanceof SlidingWindow sw && sw.mode() == SlidingWindow.Mode.COUNTER)) {
            assertThat(redis().exists(a.redisKey("k"))).isZero();
        } else {
            // Client time: empty counts whose fixed windows start at the reset, as a new limiter's.
            assertThat(redis().hget(a.redisKey("k"), "c")).isEqualTo("0");
        }
        assertThat(b.availablePermits("k")).isEqualTo(10);
        // decide asks Redis; b's tryAcquire may answer its remembered refusal for up to the
        // refusal cache's maximum age (RedisRefusalCacheTest).
        assertThat(b.decide("k", 10).isAllowed()).isTrue();
        b.reset("absent"); // nothing to delete: no error
    }

    @ParameterizedTest(name = "{0}, Redis time {1}")
    @MethodSource("limitsAndModes")
    public void refundAndDrain(Limit limit, boolean redisTime) {
        RedisRateLimiters.KeyedLimiter limiter = keyed(limit, redisTime);
        boolean queue = limit instanceof LeakyBucket lb && lb.mode() == LeakyBucket.Mode.QUEUE;
        limiter.refund("k", 5);
        assertThat(redis().exists(limiter.redisKey("k"))).as("a refund to a full limit writes nothing").isZero();

        assertThat(limiter.drain("k")).isEqualTo(10);
        assertThat(limiter.drain("k")).as("nothing left: nothing taken").isZero();
        assertThat(limiter.availablePermits("k")).isZero();

        limiter.refund("k", 4);
        // The queue grants only at zero debt: a partial refund leaves it refusing.
        assertThat(limiter.availablePermits("k")).isEqualTo(queue ? 0 : 4);
        if (!queue) {
            assertThat(limiter.drain("k")).isEqualTo(4);
        }
        limiter.refund("k", 1_000);
        assertThat(limiter.availablePermits("k")).as("never fuller than full").isEqualTo(10);
        limiter.refund("k", Long.MAX_VALUE / 2);
        assertThat(limiter.availablePermits("k")).isEqualTo(10);
        // Refunded to full, the state is kept for the grace only (in Redis time, without a grace,
        // it may have expired already), so that a clock behind the refund gains nothing.
        assertThat(redis().pttl(limiter.redisKey("k"))).isLessThanOrEqualTo(Duration.ofHours(1).toMillis());
        if (!(limit instanceof SlidingWindow)) {
            String state = redis().get(limiter.redisKey("k"));
            assertThat(state == null || !state.contains(" ")).as("full at the refund's time: " + state).isTrue();
        }
        assertThatThrownBy(() -> limiter.refund("k", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits=0");
    }

    @Test
    public void aLogRefundRemovesTheNewestGrantsAndKeepsTheRestOfThePartialOne() {
        FakeClock clock = new FakeClock();
        RedisRateLimiters.KeyedLimiter limiter = factory(SharedConnection.freshPrefix(), clock)
                .keyed("ops", SlidingWindow.log(10, Duration.ofSeconds(10)));
        assertThat(limiter.tryAcquire("k", 3)).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.tryAcquire("k", 2)).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.tryAcquire("k", 5)).isTrue();

        limiter.refund("k", 6); // the grant of 5 goes, and 1 of the grant of 2

        assertThat(limiter.availablePermits("k")).isEqualTo(6);
        clock.advance(Duration.ofSeconds(8)); // t = 10 s: the grant of 3 at 0 leaves
        assertThat(limiter.availablePermits("k")).isEqualTo(9);
        clock.advance(Duration.ofSeconds(1)); // t = 11 s: the 1 left of the grant at 1 s leaves
        assertThat(limiter.availablePermits("k")).isEqualTo(10);
    }

    @Test
    public void aCounterRefundLowersTheCurrentWindowThenThePrevious() {
        FakeClock clock = new FakeClock();
        RedisRateLimiters.KeyedLimiter limiter = factory(SharedConnection.freshPrefix(), clock)
                .keyed("ops", SlidingWindow.counter(10, Duration.ofSeconds(10)));
        assertThat(limiter.tryAcquire("k", 8)).isTrue();
        clock.advance(Duration.ofSeconds(10)); // the next window, at its start: the previous weighs fully
        assertThat(limiter.tryAcquire("k", 2)).isTrue();
        assertThat(limiter.availablePermits("k")).isZero();

        limiter.refund("k", 3); // current 2 -> 0, previous 8 -> 7

        assertThat(limiter.availablePermits("k")).isEqualTo(3);
        assertThat(redis().hget(limiter.redisKey("k"), "p")).isEqualTo("7");
        assertThat(redis().hget(limiter.redisKey("k"), "c")).isEqualTo("0");
    }

    @Test
    public void twoProcessesWithDifferentLimitsShareTheBucketsDebt() {
        String prefix = SharedConnection.freshPrefix();
        RedisRateLimiters.KeyedLimiter small = factory(prefix, null).keyed("ops", TokenBucket.of(10, 1, SLOW));
        RedisRateLimiters.KeyedLimiter large = factory(prefix, null).keyed("ops", TokenBucket.of(10, 1, SLOW));
        assertThat(small.tryAcquire("k", 10)).isTrue();

        large.reconfigure(TokenBucket.of(25, 1, SLOW));

        assertThat(large.limit()).isEqualTo(TokenBucket.of(25, 1, SLOW));
        assertThat(large.availablePermits("k")).as("25 less a debt of 10 permits' time").isEqualTo(15);
        assertThat(small.availablePermits("k")).as("the other process keeps its limit").isZero();
        assertThat(large.tryAcquire("k", 15)).isTrue();
        assertThat(large.availablePermits("k")).isZero();

        small.reconfigure(TokenBucket.of(30, 1, SLOW));
        assertThat(small.availablePermits("k")).isEqualTo(5);
        assertThatThrownBy(() -> small.reconfigure(SlidingWindow.log(10, SLOW)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same family");
        assertThat(small.limit()).isEqualTo(TokenBucket.of(30, 1, SLOW));
    }

    @Test
    public void aGcraStateReadUnderAnotherRateRoundsItsDebtUp() {
        String prefix = SharedConnection.freshPrefix();
        FakeClock clock = new FakeClock();
        // 3 permits per 10 ms: one permit is 3,333,333 1/3 ns, a fraction stored with its rate term.
        RedisRateLimiters.KeyedLimiter thirds = factory(prefix, clock)
                .keyed("ops", TokenBucket.of(1, 3, Duration.ofMillis(10)));
        RedisRateLimiters.KeyedLimiter fifths = factory(prefix, clock)
                .keyed("ops", TokenBucket.of(1, 1, Duration.ofMillis(5)));
        assertThat(thirds.tryAcquire("k")).isTrue();
        assertThat(redis().get(thirds.redisKey("k"))).isEqualTo("3333333 1 3"); // F = 3333333 1/3 ns

        clock.advance(3_333_333);
        assertThat(thirds.peek("k", 1).isAllowed()).isFalse();
        Decision read = fifths.peek("k", 1);
        assertThat(read.isAllowed()).as("F + 1/3 read at 1 per 5 ms rounds up to F + 1, never down").isFalse();
        assertThat(read.retryAfterNanos()).isEqualTo(1);
        clock.advance(1);
        assertThat(thirds.peek("k", 1).isAllowed()).isTrue();
        assertThat(fifths.peek("k", 1).isAllowed()).isTrue();

        // Reconfigured to another rate, the state written at the old one is read the same way.
        assertThat(thirds.tryAcquire("k")).isTrue(); // F = 6666667 1/3
        thirds.reconfigure(TokenBucket.of(1, 1, Duration.ofMillis(5)));
        clock.advance(3_333_333);
        assertThat(thirds.peek("k", 1).isAllowed()).isFalse();
        clock.advance(1);
        assertThat(thirds.peek("k", 1).isAllowed()).isTrue();
    }

    @Test
    public void aLogReconfiguredToALongerWindowDoesNotCountWhatTheOldOneForgot() {
        FakeClock clock = new FakeClock();
        RedisRateLimiters.KeyedLimiter limiter = factory(SharedConnection.freshPrefix(), clock)
                .keyed("ops", SlidingWindow.log(5, Duration.ofSeconds(10)));
        assertThat(limiter.tryAcquire("k", 4)).isTrue();
        clock.advance(Duration.ofSeconds(5));
        assertThat(limiter.tryAcquire("k", 1)).isTrue();
        clock.advance(Duration.ofSeconds(6)); // t = 11 s: the grant of 4 has left the window

        limiter.reconfigure(SlidingWindow.log(5, Duration.ofSeconds(30)));

        assertThat(limiter.availablePermits("k")).as("only the grant at 5 s still counts").isEqualTo(4);
        clock.advance(Duration.ofSeconds(20)); // t = 31 s: still inside 30 s of the grant at 5 s
        assertThat(limiter.availablePermits("k")).isEqualTo(4);
        clock.advance(Duration.ofSeconds(5)); // t = 36 s
        assertThat(limiter.availablePermits("k")).isEqualTo(5);
    }

    @Test
    public void aLogReconfiguredToALongerWindowInRedisTimeReadsTheRedisClock() {
        RedisRateLimiters.KeyedLimiter limiter = keyed(SlidingWindow.log(5, Duration.ofMillis(1)), true);
        assertThat(limiter.tryAcquire("k", 5)).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (limiter.availablePermits("k") < 5) { // the real clock: a 1 ms window passes quickly
            assertThat(System.nanoTime()).as("the 1 ms window must pass").isLessThan(deadline);
            Thread.onSpinWait();
        }
        limiter.reconfigure(SlidingWindow.log(5, Duration.ofHours(1)));
        assertThat(limiter.availablePermits("k")).isEqualTo(5);
    }

    @Test
    public void theSingleLimiterIsReconfiguredAndAKeysViewRefuses() {
        RedisRateLimiters redis = factory(SharedConnection.freshPrefix(), new FakeClock());
        RateLimiter single = redis.create("one", SlidingWindow.counter(3, SLOW));
        assertThat(single.drain()).isEqualTo(3);
        single.reconfigure(SlidingWindow.counter(5, SLOW));
        assertThat(single.limit()).isEqualTo(SlidingWindow.counter(5, SLOW));
        assertThat(single.availablePermits()).isEqualTo(2);
        single.refund(1);
        assertThat(single.peek().remaining()).isEqualTo(2);
        single.reset();
        assertThat(single.availablePermits()).isEqualTo(5);
        assertThatThrownBy(() -> single.reconfigure(SlidingWindow.counter(5, Duration.ofMinutes(2))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");

        RateLimiter view = redis.keyed("many", SlidingWindow.counter(3, SLOW)).forKey("k");
        assertThatThrownBy(() -> view.reconfigure(SlidingWindow.counter(5, SLOW)))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    public void aCompositePeeksResetsRefundsAndDrainsEveryLimitAtOnce() {
        FakeClock clock = new FakeClock();
        CompositeLimiter composite = factory(SharedConnection.freshPrefix(), clock).composite("ops",
                TokenBucket.of(5, 1, SLOW), SlidingWindow.log(8, SLOW), SlidingWindow.counter(6, SLOW));
        assertThat(composite.availablePermits("k")).isEqualTo(5);
        assertThat(composite.tryAcquire("k", 2)).isTrue();
        List<String> keys = composite.redisKeys("k");
        List<byte[]> dumps = keys.stream().map(k -> redis().dump(k)).toList();

        Decision peeked = composite.peek("k", 3);
        assertThat(composite.availablePermits("k")).isEqualTo(3);
        assertThat(composite.peek("k", 4).isAllowed()).isFalse();
        for (int i = 0; i < keys.size(); i++) {
            assertThat(redis().dump(keys.get(i))).as("peek wrote nothing to " + keys.get(i)).isEqualTo(dumps.get(i));
        }
        assertThat(composite.decide("k", 3)).isEqualTo(peeked);
        assertThat(composite.peek("absent", 1).isAllowed()).isTrue();
        assertThat(composite.redisKeys("absent").stream().mapToLong(k -> redis().exists(k)).sum()).isZero();

        composite.refund("k", 4); // each limit by its own rule: 4 of the 5 granted come back to each
        assertThat(composite.availablePermits("k")).isEqualTo(4); // bucket 4, log 8 - 1 = 7, counter 6 - 1 = 5
        assertThat(composite.drain("k")).isEqualTo(4);
        assertThat(composite.availablePermits("k")).isZero();
        assertThat(composite.drain("k")).isZero();

        composite.reset("k");
        assertThat(keys.stream().mapToLong(k -> redis().exists(k)).sum()).isZero();
        assertThat(composite.availablePermits("k")).isEqualTo(5);
        assertThatThrownBy(() -> composite.reconfigure(TokenBucket.of(1, 1, SLOW)))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    public void aGroupsResetIsSeenByEveryKeyOfTheGroup() {
        CompositeLimiter tenants = factory(SharedConnection.freshPrefix(), new FakeClock()).composite("ops",
                k -> k.substring(0, k.indexOf('/')), List.of(TokenBucket.of(4, 1, SLOW)),
                List.of(TokenBucket.of(3, 1, SLOW)));
        assertThat(tenants.tryAcquire("a/1", 3)).isTrue();
        assertThat(tenants.availablePermits("a/2")).as("the group's 1 left").isEqualTo(1);
        assertThat(tenants.peek("a/2", 2).isAllowed()).isFalse();
        tenants.reset("a/1");
        assertThat(tenants.availablePermits("a/1")).isEqualTo(3);
        assertThat(tenants.availablePermits("a/2")).isEqualTo(3);
    }

    /** Every operation with Redis down, under each policy. */
    @Test
    public void everyOperationFollowsTheFailurePolicy() {
        try (RedisProcess server = RedisProcess.start();
             FaultClient client = new FaultClient(server.uri(), Duration.ofMillis(500), true)) {
            server.kill();
            Limit limit = TokenBucket.of(4, 1, SLOW);
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();

            RedisRateLimiters.KeyedLimiter open = builder(client, FailurePolicy.failOpen(), failures).keyed("o", limit);
            assertThat(open.peek("k", 2).isAllowed()).isTrue();
            assertThat(open.peekAsync("k", 2).toCompletableFuture().join().isAllowed()).isTrue();
            assertThat(FailurePolicy.isUnchecked(open.peek("k", 2))).isTrue();
            assertThat(open.availablePermits("k")).isEqualTo(4);
            open.reset("k");
            open.refund("k", 1);
            assertThat(open.drain("k")).as("dropped: nothing taken").isZero();
            assertThat(failures).hasSize(7);

            RedisRateLimiters.KeyedLimiter closed = builder(client, FailurePolicy.failClosed(Duration.ofSeconds(2)),
                    failures).keyed("c", limit);
            assertThat(closed.peek("k", 1).isAllowed()).isFalse();
            assertThat(closed.peek("k", 1).retryAfterNanos()).isEqualTo(Duration.ofSeconds(2).toNanos());
            assertThat(closed.availablePermits("k")).isZero();
            assertThatThrownBy(() -> closed.reset("k")).isInstanceOf(RedisRateLimiterException.class);
            assertThatThrownBy(() -> closed.refund("k", 1)).isInstanceOf(RedisRateLimiterException.class);
            assertThatThrownBy(() -> closed.drain("k")).isInstanceOf(RedisRateLimiterException.class);

            RedisRateLimiters.KeyedLimiter propagate = builder(client, FailurePolicy.propagate(), failures)
                    .keyed("p", limit);
            assertThatThrownBy(() -> propagate.peek("k", 1)).isInstanceOf(RedisRateLimiterException.class);
            assertThatThrownBy(() -> propagate.availablePermits("k")).isInstanceOf(RedisRateLimiterException.class);
            assertThatThrownBy(() -> propagate.reset("k")).isInstanceOf(RedisRateLimiterException.class);

            // The local fallback answers every operation on its own state.
            RedisRateLimiters.KeyedLimiter local = builder(client, FailurePolicy.fallbackToLocal(), failures)
                    .keyed("l", limit);
            assertThat(local.peek("k", 4).isAllowed()).isTrue();
            assertThat(local.availablePermits("k")).as("a peek consumed nothing").isEqualTo(4);
            assertThat(local.decide("k", 1).isAllowed()).isTrue();
            assertThat(local.drain("k")).isEqualTo(3);
            assertThat(local.availablePermits("k")).isZero();
            local.refund("k", 2);
            assertThat(local.availablePermits("k")).isEqualTo(2);
            local.reset("k");
            assertThat(local.availablePermits("k")).isEqualTo(4);
            local.reconfigure(TokenBucket.of(6, 1, SLOW));
            assertThat(local.availablePermits("k")).as("the fallback is reconfigured too").isEqualTo(6);
            assertThat(local.peek("k", 6).isAllowed()).isTrue();
            assertThat(local.peek("k", 7).exceedsLimit()).isTrue();

            CompositeLimiter composite = builder(client, FailurePolicy.fallbackToLocal(), failures)
                    .composite("lc", TokenBucket.of(4, 1, SLOW), SlidingWindow.counter(3, SLOW));
            assertThat(composite.availablePermits("k")).isEqualTo(3);
            assertThat(composite.peek("k", 3).isAllowed()).isTrue();
            assertThat(composite.drain("k")).isEqualTo(3);
            assertThat(composite.availablePermits("k")).isZero();
            composite.refund("k", 2);
            assertThat(composite.availablePermits("k")).isEqualTo(2);
            composite.reset("k");
            assertThat(composite.availablePermits("k")).isEqualTo(3);
            CompositeLimiter closedComposite = builder(client, FailurePolicy.failClosed(), failures)
                    .composite("cc", TokenBucket.of(4, 1, SLOW));
            assertThat(closedComposite.availablePermits("k")).isZero();
            assertThatThrownBy(() -> closedComposite.reset("k")).isInstanceOf(RedisRateLimiterException.class);
        }
    }

    private static RedisRateLimiters builder(FaultClient client, FailurePolicy policy,
                                             List<RedisRateLimiterException> failures) {
        return RedisRateLimiters.builder(client.connection().async())
                .timeout(Duration.ofMillis(500))
                .failurePolicy(policy)
                .failureListener(failures::add)
                .build();
    }
}

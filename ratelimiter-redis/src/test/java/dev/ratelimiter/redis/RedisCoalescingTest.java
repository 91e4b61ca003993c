package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.redis.testing.LatencyProxy;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Concurrent decisions of one process on one key go to Redis as one script call, answered as if
 * they had come one after another. The calls are held in flight deterministically: the limiter's
 * connection goes through a proxy turned into a black hole, so the first decision's call is sent
 * and held while the next ones are made, and the proxy then lets everything through. Each
 * coalesced run is compared, decision for decision, with a twin limiter that makes the same
 * decisions one call each on the same server, at the same fake client-clock readings.
 */
class RedisCoalescingTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private static RedisProcess redis;
    private static LatencyProxy proxy;
    private static RespClient admin;
    private static RedisClient proxied;
    private static RedisClient direct;
    private static StatefulRedisConnection<String, String> throughProxy;
    private static StatefulRedisConnection<String, String> straight;
    /** The EVALSHA commands the proxied client has written. */
    private static final AtomicLong sent = new AtomicLong();

    @BeforeAll
    static void start() {
        redis = RedisProcess.start();
        proxy = LatencyProxy.to(redis);
        admin = redis.client();
        proxied = RedisClient.create(proxy.uri());
        proxied.addListener(new CommandListener() {
            @Override
            public void commandStarted(CommandStartedEvent event) {
                if (event.getCommand().getType().toString().equals("EVALSHA")) {
                    sent.incrementAndGet();
                }
            }
        });
        throughProxy = proxied.connect();
        direct = RedisClient.create(redis.uri());
        straight = direct.connect();
    }

    @AfterAll
    static void stop() {
        for (StatefulRedisConnection<String, String> c : new ArrayList<>(java.util.Arrays.asList(throughProxy, straight))) {
            if (c != null) {
                c.close();
            }
        }
        for (RedisClient c : new ArrayList<>(java.util.Arrays.asList(proxied, direct))) {
            if (c != null) {
                c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }
        if (proxy != null) {
            proxy.close();
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
        proxy.blackhole(false);
        admin.call("FLUSHALL");
    }

    /** Every algorithm: all coalesce their decisions. */
    static Stream<Limit> coalescedLimits() {
        return Stream.of(TokenBucket.of(10, 5, Duration.ofSeconds(1)),
                LeakyBucket.meter(3, Duration.ofMillis(50), 8),
                LeakyBucket.queue(7, Duration.ofMillis(20), 6),
                SlidingWindow.counter(12, Duration.ofMillis(40)),
                SlidingWindow.log(12, Duration.ofMillis(40)));
    }

    private static RedisRateLimiters.Builder builder(StatefulRedisConnection<String, String> connection, FakeClock clock) {
        return RedisRateLimiters.builder(connection.async())
                .clientTime(clock, TimeUnit.NANOSECONDS, FakeClock.DEFAULT_START)
                .ttlGrace(Duration.ofHours(1))
                .timeout(Duration.ofSeconds(30))
                .refusalCache(0) // every decision reaches Redis: this test is about the calls
                .failurePolicy(FailurePolicy.propagate());
    }

    /** @return a builder of limiters through the proxy, on a fresh fake clock */
    private static RedisRateLimiters.Builder proxied() {
        return builder(throughProxy, new FakeClock());
    }

    /** @return the limiter {@code limit} of the factory built, its script cached (no NOSCRIPT later) */
    private static RedisRateLimiters.KeyedLimiter warm(RedisRateLimiters.Builder builder, Limit limit) {
        RedisRateLimiters.KeyedLimiter limiter = builder.build().keyed("api", limit);
        assertThat(limiter.tryAcquire("warm-up")).isTrue();
        return limiter;
    }

    /**
     * A limiter whose calls go through the proxy, coalesced, and its twin on the same server, one
     * call per decision, each on a fake clock of its own that the rounds move alike.
     */
    private static final class Twins<L extends KeyedRateLimiter<String> & AsyncKeyedRateLimiter<String>> {
        final FakeClock clock = new FakeClock();
        final FakeClock twinClock = new FakeClock();
        final L coalesced;
        final L oneByOne;

        /** @param make the limiter of a factory: a keyed limiter or a composite, named "api" */
        Twins(Function<RedisRateLimiters, L> make) {
            coalesced = make.apply(builder(throughProxy, clock).prefix("c:").build());
            oneByOne = make.apply(builder(straight, twinClock).prefix("s:").coalescing(false).build());
            assertThat(coalesced.tryAcquire("warm-up")).isTrue(); // the script is cached: no NOSCRIPT below
            assertThat(oneByOne.tryAcquire("warm-up")).isTrue();
        }

        /**
         * Makes the decisions on key {@code k}: the coalesced ones all while the first one's call is
         * held in flight, then the twin's one call each; checks both answer alike and the calls.
         *
         * @param steps   the clock's move before each decision (negative: back)
         * @param permits each decision's permits
         * @return the decisions
         */
        List<Decision> round(long[] steps, long[] permits) throws Exception {
            int n = steps.length;
            long before = admin.scriptCalls();
            long sentBefore = sent.get();
            proxy.blackhole(true);
            List<CompletableFuture<Decision>> replies = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                clock.advance(steps[i]);
                replies.add(coalesced.decideAsync("k", permits[i]).toCompletableFuture());
            }
            assertThat(sent.get() - sentBefore).as("only the first decision's call is in flight").isEqualTo(1);
            proxy.blackhole(false);
            List<Decision> got = new ArrayList<>();
            for (CompletableFuture<Decision> r : replies) {
                got.add(r.get(30, TimeUnit.SECONDS));
            }
            // The first alone, then the others in batches of at most 128.
            assertThat(admin.scriptCalls() - before).as("script calls for %d decisions", n)
                    .isEqualTo(1 + (n - 1 + Coalescer.MAX_BATCH - 1) / Coalescer.MAX_BATCH);
            List<Decision> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                twinClock.advance(steps[i]);
                expected.add(oneByOne.decide("k", permits[i]));
            }
            assertThat(got).as("steps %s, permits %s", java.util.Arrays.toString(steps),
                    java.util.Arrays.toString(permits)).isEqualTo(expected);
            return got;
        }

        void advance(long nanos) {
            clock.advance(nanos);
            twinClock.advance(nanos);
        }
    }

    private static Twins<RedisRateLimiters.KeyedLimiter> twins(Limit limit) {
        return new Twins<>(factory -> factory.keyed("api", limit));
    }

    @ParameterizedTest
    @MethodSource("coalescedLimits")
    void coalescedDecisionsAnswerAsTheSameDecisionsOneAfterAnother(Limit limit) throws Exception {
        Twins<RedisRateLimiters.KeyedLimiter> twins = twins(limit);
        randomRounds(twins, limit.toString());
        assertThat(dump("c:{api:k}")).as("the same state stored").isEqualTo(dump("s:{api:k}"));
        long ttl = admin.callLong("PTTL", "c:{api:k}");
        long twinTtl = admin.callLong("PTTL", "s:{api:k}");
        assertThat(Math.abs(ttl - twinTtl)).as("the same TTL, to the milliseconds between the two reads").isLessThan(1_000);
        assertThat(coalescer(twins.coalesced).lanes()).as("no lane is left once nothing is in flight").isZero();
    }

    /** Composites: of the GCRA family only (the script's fast path alone), of every family, under a group. */
    static Stream<List<Limit>> coalescedComposites() {
        return Stream.of(List.of(TokenBucket.of(10, 5, Duration.ofSeconds(1)), LeakyBucket.meter(3, Duration.ofMillis(50), 8)),
                List.of(TokenBucket.of(6, 3, Duration.ofMillis(100)), SlidingWindow.counter(12, Duration.ofMillis(40)),
                        SlidingWindow.log(9, Duration.ofMillis(60))),
                List.of(LeakyBucket.queue(7, Duration.ofMillis(20), 6), SlidingWindow.counter(10, Duration.ofMillis(80))));
    }

    @ParameterizedTest
    @MethodSource("coalescedComposites")
    void coalescedCompositeDecisionsAnswerAsTheSameDecisionsOneAfterAnother(List<Limit> limits) throws Exception {
        // The last limit is a group limit (every key of group "g" shares it), the others the key's own.
        List<Limit> own = limits.subList(0, limits.size() - 1);
        List<Limit> group = limits.subList(limits.size() - 1, limits.size());
        Twins<CompositeLimiter> twins = new Twins<>(factory -> factory.composite("api", key -> "g", group, own));
        randomRounds(twins, limits.toString());
        List<String> keys = twins.coalesced.redisKeys("k");
        List<String> twinKeys = twins.oneByOne.redisKeys("k");
        for (int i = 0; i < keys.size(); i++) {
            assertThat(dump(keys.get(i))).as("the same state stored in %s", keys.get(i)).isEqualTo(dump(twinKeys.get(i)));
        }
        assertThat(twins.coalesced.coalescer().lanes()).as("no lane is left once nothing is in flight").isZero();
    }

    /**
     * Rounds of 2 to 300 decisions on key "k", each coalesced behind the first one's call held in
     * flight and checked against the twin (see {@link Twins#round}); between rounds, time passes.
     */
    private static void randomRounds(Twins<?> twins, String seed) throws Exception {
        Random random = new Random(seed.hashCode()); // a fixed sequence per limit
        int granted = 0;
        int refused = 0;
        int[] sizes = {2, 3, 17, 40, 128, 129, 300};
        for (int round = 0; round < sizes.length; round++) {
            int n = sizes[round];
            long[] steps = new long[n];
            long[] permits = new long[n];
            for (int i = 0; i < n; i++) {
                // Mostly the same instant (the case of Redis time), sometimes a step of the clock,
                // now and then back (threads read the clock, then join the queue, in either order).
                int kind = random.nextInt(10);
                steps[i] = kind < 2 ? random.nextInt(30) * MS + random.nextInt(1000)
                        : kind == 2 ? -(random.nextInt(20) * MS + random.nextInt(1000)) : 0;
                permits[i] = 1 + random.nextInt(random.nextInt(8) == 0 ? 12 : 3); // some above the limit
            }
            for (Decision d : twins.round(steps, permits)) {
                if (d.isAllowed()) {
                    granted++;
                } else {
                    refused++;
                }
            }
            twins.advance(random.nextInt(3) * 200 * MS);
        }
        assertThat(granted).as("grants among the decisions").isGreaterThan(10);
        assertThat(refused).as("refusals among the decisions").isGreaterThan(10);
    }

    @Test
    void aBatchedDecisionAtTheFirstOnesReadingIsDecidedAtThatReadingNotThePreviousOnes() throws Exception {
        // 2 permits, 1 per 10 ms. Behind a first call (3, above the limit: nothing written), at t,
        // t + 10 ms, and t again: granted, granted (the first one's 10 ms have passed), refused
        // (back at t, 20 ms of debt, more than the 10 ms a permit may owe).
        for (Limit limit : List.<Limit>of(TokenBucket.of(2, 1, Duration.ofMillis(10)),
                SlidingWindow.counter(2, Duration.ofMillis(10)), SlidingWindow.log(2, Duration.ofMillis(10)))) {
            admin.call("FLUSHALL"); // both limits use the same Redis keys
            Twins<RedisRateLimiters.KeyedLimiter> twins = twins(limit);
            List<Decision> got = twins.round(new long[] {0, 0, 10 * MS, -10 * MS}, new long[] {3, 1, 1, 1});
            assertThat(got.get(1).isAllowed()).as("%s", limit).isTrue();
            assertThat(got.get(2).isAllowed()).as("%s", limit).isTrue();
            if (limit instanceof TokenBucket) {
                assertThat(got.get(3).isAllowed()).as("%s back at t", limit).isFalse();
            }
        }
    }

    @Test
    void aCounterBatchJudgesAnEarlierReadingOnTheStoredCountsNotOnALaterRefusalsWindow() throws Exception {
        // 10 per 100 ms. 6 granted in window 0, 3 in window 1 (the 6 weighted 90%: 4 left).
        Twins<RedisRateLimiters.KeyedLimiter> twins = twins(SlidingWindow.counter(10, Duration.ofMillis(100)));
        twins.advance(-twins.clock.read() + FakeClock.DEFAULT_START); // at the windows' origin
        assertThat(twins.coalesced.decide("k", 6).isAllowed()).isTrue();
        assertThat(twins.oneByOne.decide("k", 6).isAllowed()).isTrue();
        twins.advance(110 * MS);
        assertThat(twins.coalesced.decide("k", 3).isAllowed()).isTrue();
        assertThat(twins.oneByOne.decide("k", 3).isAllowed()).isTrue();
        // Then, coalesced behind a first call (11, above the limit: refused, nothing written): 8 at
        // 201 ms (window 2: the 3 weighted 99%, 7 left: refused), and 4 read at 150 ms (window 1,
        // the 6 weighted 50%: 3 + 4 <= 10 - 3, granted with nothing left).
        List<Decision> got = twins.round(new long[] {0, 91 * MS, -51 * MS}, new long[] {11, 8, 4});
        assertThat(got.get(1).isAllowed()).isFalse();
        assertThat(got.get(2).isAllowed()).isTrue();
        assertThat(got.get(2).remaining()).isZero();
    }

    @Test
    void aDecisionOnAKeyWithNoCallInFlightIsSentAtOnce() throws Exception {
        RedisRateLimiters.KeyedLimiter limiter = warm(proxied(), TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        long sentBefore = sent.get();
        proxy.blackhole(true);
        CompletableFuture<Decision> a1 = limiter.decideAsync("a", 1).toCompletableFuture();
        CompletableFuture<Decision> a2 = limiter.decideAsync("a", 1).toCompletableFuture();
        CompletableFuture<Decision> b1 = limiter.decideAsync("b", 1).toCompletableFuture();
        assertThat(sent.get() - sentBefore).as("a1 and b1 sent at once, a2 waiting for a1").isEqualTo(2);
        proxy.blackhole(false);
        assertThat(a1.get(30, TimeUnit.SECONDS).remaining()).isEqualTo(9);
        assertThat(a2.get(30, TimeUnit.SECONDS).remaining()).isEqualTo(8);
        assertThat(b1.get(30, TimeUnit.SECONDS).remaining()).isEqualTo(9);
        assertThat(sent.get() - sentBefore).isEqualTo(3);
    }

    @Test
    void synchronousCallersOnManyThreadsAreCoalescedAndAnsweredAlike() throws Exception {
        RedisRateLimiters.KeyedLimiter limiter = warm(proxied(), TokenBucket.of(5, 5, Duration.ofSeconds(1)));
        long before = admin.scriptCalls();
        proxy.blackhole(true);
        CompletableFuture<Boolean> first = limiter.tryAcquireAsync("k", 1).toCompletableFuture();
        int threads = 8;
        List<Thread> callers = new ArrayList<>();
        List<Boolean> granted = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> granted.add(limiter.tryAcquire("k")));
            callers.add(t);
            t.start();
        }
        // Every thread waits behind the first call: then all of them are queued.
        Coalescer coalescer = coalescer(limiter);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (coalescer.waiting("k") < threads && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(coalescer.waiting("k")).isEqualTo(threads);
        proxy.blackhole(false);
        for (Thread t : callers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertThat(first.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(granted).hasSize(threads);
        assertThat(granted.stream().filter(g -> g).count()).as("exactly the 4 permits left after the first")
                .isEqualTo(4);
        assertThat(admin.scriptCalls() - before).as("the first call, then one batch for the 8 threads").isEqualTo(2);
    }

    @Test
    void decisionsWaitingBehindAStalledCallAreEachAnsweredByTheirPolicyAtTheirTimeout() throws Exception {
        RedisRateLimiters.KeyedLimiter limiter = warm(proxied().timeout(Duration.ofMillis(300))
                .failurePolicy(FailurePolicy.failClosed(Duration.ofSeconds(7))), TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        proxy.blackhole(true);
        CompletableFuture<Decision> first = limiter.decideAsync("k", 1).toCompletableFuture();
        CompletableFuture<Decision> waiting = limiter.decideAsync("k", 2).toCompletableFuture();
        Decision sync = limiter.decide("k", 3); // waits behind the first, until its own timeout
        assertThat(sync.isAllowed()).as("answered by the failure policy").isFalse();
        assertThat(sync.retryAfter()).isEqualTo(Duration.ofSeconds(7));
        assertThat(waiting.get(30, TimeUnit.SECONDS).retryAfter()).as("the asynchronous one too, by the timer")
                .isEqualTo(Duration.ofSeconds(7));
        assertThat(first.get(30, TimeUnit.SECONDS).retryAfter()).isEqualTo(Duration.ofSeconds(7));
        proxy.blackhole(false);
        assertThat(limiter.tryAcquire("after")).as("the connection serves again").isTrue();
    }

    @Test
    void aWaitingCallerInterruptedBeforeItsBatchIsSentCountsNowhere() throws Exception {
        RedisRateLimiters.KeyedLimiter limiter = warm(proxied(), TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        long before = admin.scriptCalls();
        proxy.blackhole(true);
        CompletableFuture<Decision> first = limiter.decideAsync("k", 1).toCompletableFuture();
        java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                limiter.tryAcquire("k", 5);
            } catch (RuntimeException e) {
                thrown.set(e);
            }
        });
        waiter.start();
        Coalescer coalescer = coalescer(limiter);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (coalescer.waiting("k") < 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        waiter.interrupt();
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(thrown.get()).isInstanceOf(RedisRateLimiterException.class).hasMessageContaining("interrupted");
        proxy.blackhole(false);
        assertThat(first.get(30, TimeUnit.SECONDS).remaining()).isEqualTo(9);
        assertThat(limiter.availablePermits("k")).as("the interrupted caller's 5 permits were never sent")
                .isEqualTo(9);
        assertThat(admin.scriptCalls() - before).as("the first decision and the read").isEqualTo(2);
    }

    @Test
    void aFailedBatchIsAnsweredByEachCallersFailurePolicy() throws Exception {
        RedisRateLimiters.KeyedLimiter limiter = warm(proxied().failurePolicy(FailurePolicy.failClosed(Duration.ofSeconds(3))),
                TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        try {
            proxy.blackhole(true);
            List<CompletableFuture<Decision>> replies = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                replies.add(limiter.decideAsync("k", 1).toCompletableFuture());
            }
            // Out of memory under noeviction: every grant's write is refused by Redis.
            admin.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
            admin.call("CONFIG", "SET", "maxmemory", "1");
            proxy.blackhole(false);
            for (CompletableFuture<Decision> r : replies) {
                Decision d = r.get(30, TimeUnit.SECONDS);
                assertThat(d.isAllowed()).isFalse();
                assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(3));
            }
        } finally {
            admin.call("CONFIG", "SET", "maxmemory", "0");
        }
        assertThat(limiter.availablePermits("k")).as("nothing was written").isEqualTo(10);
    }

    @Test
    void coalescingOffSendsEveryDecisionAtOnce() throws Exception {
        RedisRateLimiters.KeyedLimiter limiter = warm(proxied().coalescing(false), TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        long sentBefore = sent.get();
        proxy.blackhole(true);
        List<CompletableFuture<Decision>> replies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            replies.add(limiter.decideAsync("k", 1).toCompletableFuture());
        }
        assertThat(sent.get() - sentBefore).isEqualTo(4);
        proxy.blackhole(false);
        for (int i = 0; i < 4; i++) {
            assertThat(replies.get(i).get(30, TimeUnit.SECONDS).remaining()).isEqualTo(9 - i);
        }
    }

    /** @return the stored state of a key, string, hash or sorted set, as text */
    private static String dump(String key) {
        return switch (admin.callString("TYPE", key)) {
            case "hash" -> String.valueOf(admin.call("HGETALL", key));
            case "zset" -> String.valueOf(admin.call("ZRANGE", key, "0", "-1", "WITHSCORES"));
            default -> admin.callString("GET", key);
        };
    }

    private static Coalescer coalescer(RedisRateLimiters.KeyedLimiter limiter) {
        Coalescer c = limiter.delegate().coalescer();
        assertThat(c).isNotNull();
        return c;
    }
}

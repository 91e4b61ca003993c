package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Redis benchmarks' paths and command counts, against a real {@code redis-server} of their own. */
class RedisFixtureTest {

    private static RedisFixture redis;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisFixture.start();
    }

    @AfterAll
    static void stop() {
        if (redis != null) {
            redis.close();
        }
    }

    /** Sent and executed commands of {@code decisions} decisions made by {@code run}. */
    private static long[] count(Runnable run) {
        RedisReadings readings = new RedisReadings();
        readings.begin(redis);
        run.run();
        long sent = readings.sent(redis);
        return new long[] {sent, readings.executed(redis)};
    }

    @Test
    void ourDecisionIsExactlyOneEvalshaSyncAndAsync() {
        // Coalescing off: 50 decisions in flight at once on the one key are 50 calls.
        RedisFixture.DecisionPath ours = redis.path("tokenBucketAlone");
        String before = redis.connection().sync().info("commandstats");

        long[] sync = count(() -> {
            for (int i = 0; i < 50; i++) {
                assertThat(ours.decide()).isTrue();
            }
        });
        long[] async = count(() -> {
            List<CompletableFuture<Boolean>> pending = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                pending.add(ours.decideAsync().toCompletableFuture());
            }
            pending.forEach(f -> assertThat(f.join()).isTrue());
        });
        String after = redis.connection().sync().info("commandstats");

        assertThat(sync[0]).isEqualTo(50);
        assertThat(async[0]).isEqualTo(50);
        // Redis saw the 100 decisions as 100 EVALSHA, no EVAL (the script stayed cached); the
        // rest it executed are the script's own calls: TIME, GET and SET per decision.
        assertThat(calls(after, "evalsha") - calls(before, "evalsha")).isEqualTo(100);
        assertThat(calls(after, "eval") - calls(before, "eval")).isZero();
        assertThat(sync[1]).isEqualTo(4 * 50);
        assertThat(async[1]).isEqualTo(4 * 50);
    }

    @Test
    void coalescedDecisionsInFlightOnTheOneKeyShareCalls() {
        RedisFixture.DecisionPath ours = redis.path("tokenBucket");
        long[] async = count(() -> {
            List<CompletableFuture<Boolean>> pending = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                pending.add(ours.decideAsync().toCompletableFuture());
            }
            pending.forEach(f -> assertThat(f.join()).isTrue());
        });
        // The first alone, the others behind it in batches: at least two calls, far fewer than 50.
        assertThat(async[0]).isBetween(2L, 25L);
        RedisFixture.DecisionPath spread = redis.path("tokenBucket", 64);
        long[] manyKeys = count(() -> {
            List<CompletableFuture<Boolean>> pending = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                pending.add(spread.decideAsync().toCompletableFuture());
            }
            pending.forEach(f -> assertThat(f.join()).isTrue());
        });
        assertThat(manyKeys[0]).as("50 keys in turn: nothing to coalesce").isEqualTo(50);
    }

    @Test
    void theBareEvalshaSendsWhatOurLimiterSends() {
        RedisFixture.DecisionPath bare = redis.path("bareEvalsha", 8);
        long[] async = count(() -> {
            List<CompletableFuture<Boolean>> pending = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                pending.add(bare.decideAsync().toCompletableFuture());
            }
            pending.forEach(f -> assertThat(f.join()).isTrue());
        });
        // One EVALSHA of our script each, which runs TIME, GET and SET.
        assertThat(async).containsExactly(16, 4 * 16);
    }

    @Test
    void onTheHotRefusedKeyTheCacheSavesTheRoundTripsOfKnownRefusals() {
        RedisFixture.DecisionPath cached = redis.hotRefusedPath("tokenBucket");
        long[] withCache = count(() -> {
            for (int i = 0; i < 1_000; i++) {
                cached.decide();
            }
        });
        RedisFixture.DecisionPath uncached = redis.hotRefusedPath("tokenBucketNoCache");
        long[] withoutCache = count(() -> {
            for (int i = 0; i < 1_000; i++) {
                uncached.decide();
            }
        });
        assertThat(withoutCache[0]).as("a call per decision").isEqualTo(1_000);
        // One grant per 10 ms and the refusal after it: two calls per 10 ms at most, however
        // slow the machine; 1,000 cached decisions take far less than 10 ms each.
        assertThat(withCache[0]).as("calls only for grants and the refusal after each")
                .isLessThan(withoutCache[0] / 2);
        assertThatThrownBy(() -> redis.hotRefusedPath("noopEvalsha")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("impl=noopEvalsha");
    }

    /** A path answering from a script of grants, each call moving a fake clock by {@code stepNanos}. */
    private static RedisFixture.DecisionPath scripted(long[] clock, long stepNanos, boolean... grants) {
        int[] next = {0};
        return new RedisFixture.DecisionPath() {
            @Override
            public boolean decide() {
                clock[0] += stepNanos;
                return grants[Math.min(next[0]++, grants.length - 1)];
            }

            @Override
            public CompletableFuture<Boolean> decideAsync() {
                throw new UnsupportedOperationException();
            }
        };
    }

    @Test
    void theHotPathsSelfCheckTellsARefillOnASlowMachineFromADoubleGrant() {
        long period = RedisFixture.HOT_PERIOD.toNanos();
        long[] clock = {0};
        // Calls of 6 ms: two grants spanning 12 ms may be a refill; the refusal after the next grant passes.
        RedisFixture.checkRefusesRightAfterAGrant("slow", scripted(clock, period * 6 / 10, true, true, true, false),
                () -> clock[0]);
        // Calls of 1 ms: two grants within 2 ms are a fault.
        assertThatThrownBy(() -> RedisFixture.checkRefusesRightAfterAGrant("double",
                scripted(clock, period / 10, false, true, true), () -> clock[0]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("double granted twice within PT0.01S");
        // Slow calls that never refuse after a grant: given up after 5 s of the clock.
        assertThatThrownBy(() -> RedisFixture.checkRefusesRightAfterAGrant("never",
                scripted(clock, period, true), () -> clock[0]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("never did not refuse");
    }

    @Test
    void theCeilingIsOneCommandDoingNothing() {
        RedisFixture.DecisionPath ceiling = redis.path("noopEvalsha");

        long[] counts = count(() -> {
            for (int i = 0; i < 20; i++) {
                assertThat(ceiling.decide()).isTrue();
                assertThat(ceiling.decideAsync().toCompletableFuture().join()).isTrue();
            }
        });

        assertThat(counts).containsExactly(40, 40);
    }

    @Test
    void bucket4jGrantsWithAGetAndACompareAndSwapEval() {
        RedisFixture.DecisionPath peer = redis.path("bucket4j");

        long[] counts = count(() -> {
            for (int i = 0; i < 20; i++) {
                assertThat(peer.decide()).isTrue();
            }
        });

        // Uncontended: GET, then EVAL of its compare-and-swap script (which runs GET and PSETEX).
        assertThat(counts).containsExactly(40, 80);
    }

    @Test
    void anUnknownImplementationIsRefusedByName() {
        assertThatThrownBy(() -> redis.path("guava"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("impl must be one of [tokenBucket, tokenBucketAlone, bareEvalsha, bucket4j, noopEvalsha]: impl=guava");
    }

    @Test
    void commandstatsAreSummedWithoutTheInfoCalls() {
        String stats = "# Commandstats\r\n"
                + "cmdstat_evalsha:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n"
                + "cmdstat_info:calls=3,usec=30,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n"
                + "cmdstat_config|resetstat:calls=1,usec=5,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n";

        assertThat(RedisFixture.executedCommands(stats)).isEqualTo(8);
        assertThatThrownBy(() -> RedisFixture.executedCommands("cmdstat_get:usec=1\r\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a commandstats line without calls=: cmdstat_get:usec=1");
    }

    @Test
    void theBenchmarkSetUpChecksAndCountsEveryIteration() throws Exception {
        AsyncRedisAcquireBenchmark benchmark = new AsyncRedisAcquireBenchmark();
        benchmark.impl = "tokenBucketAlone";
        benchmark.inFlight = 4;
        benchmark.keys = 1;
        benchmark.setUp();
        try {
            AsyncRedisAcquireBenchmark.Counters counters = new AsyncRedisAcquireBenchmark.Counters();
            counters.begin(benchmark);
            for (int i = 0; i < 30; i++) {
                benchmark.decide(counters);
            }
            counters.end(benchmark);

            assertThat(counters.decisions).isEqualTo(30);
            assertThat(counters.sentCommands).isEqualTo(30);
            assertThat(counters.executedCommands).isEqualTo(4 * 30);
            assertThat(counters.scriptCalls).isEqualTo(30);
            assertThat(counters.scriptMicros).isPositive();
        } finally {
            benchmark.tearDown();
        }
    }

    private static long calls(String commandstats, String command) {
        for (String line : commandstats.split("\r?\n")) {
            if (line.startsWith("cmdstat_" + command + ":")) {
                int at = line.indexOf("calls=") + "calls=".length();
                return Long.parseLong(line.substring(at, line.indexOf(',', at)));
            }
        }
        return 0;
    }
}

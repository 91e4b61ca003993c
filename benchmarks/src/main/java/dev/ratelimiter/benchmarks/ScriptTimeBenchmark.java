package dev.ratelimiter.benchmarks;

import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.CompositeLimiter;
import dev.ratelimiter.redis.RedisRateLimiters;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/*
 * Used by one benchmark thread; the set-up and tear-down run on it too.
 */
/**
 * The Redis time one decision's script costs, against a floor: for each of this project's
 * scripts, a granted decision of one permit on one key (under Redis time, the default), and a
 * floor script called with the very keys and arguments that decision sent (captured from the
 * server's {@code SLOWLOG}), making the same Redis commands and doing no arithmetic. The set-up
 * checks that both make the same commands, call for call ({@code INFO commandstats}).
 *
 * <p>Each operation is one synchronous call of this project's script on one {@code redis-server}
 * and one of the floor on a second one, so the two are measured interleaved, under the same
 * load of the machine. The figure that matters is not the score (bound by the round trips) but
 * the aux counters: {@code scriptMicros} / {@code scriptCalls} and {@code floorMicros} /
 * {@code floorCalls}, the {@code usec} and {@code calls} of {@code cmdstat_evalsha} of each
 * server over the iteration, so Redis's own time per call; {@link SuiteTable} prints both and
 * their ratio (the target: at most 1.2).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ScriptTimeBenchmark -rf json -rff
 * scripts.json}, then {@code SuiteTable scripts.json}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
@State(Scope.Benchmark)
public class ScriptTimeBenchmark {

    /** The script: of a token bucket, a sliding window counter, a sliding window log, a composite of two token buckets. */
    @Param({"tokenBucket", "slidingCounter", "slidingLog", "composite"})
    public String script;

    /** How many calls of each variant the set-up compares. */
    static final int CHECK_CALLS = 200;

    /**
     * The floor scripts: the commands of each script's granted decision, on its keys, with
     * constants of the same length where it computes a value, and a reply of the same shape.
     */
    static final Map<String, String> FLOORS = Map.of(
            "tokenBucket", """
                    redis.call('TIME')
                    redis.call('GET', KEYS[1])
                    redis.call('SET', KEYS[1], '1234567890123456', 'PX', '2000')
                    return {1, 999999999999, 0, 1000, 1}""",
            "slidingCounter", """
                    redis.call('TIME')
                    redis.call('HMGET', KEYS[1], 'o', 'w', 'p', 'c')
                    redis.call('HSET', KEYS[1], 'o', '1234567890123456', 'w', '1234567', 'p', '0', 'c', '123456')
                    redis.call('PEXPIRE', KEYS[1], '2000')
                    return {1, 999999999999, 0, 1000, 1}""",
            "slidingLog", """
                    local t = redis.call('TIME')
                    local at = t[1] .. t[2]
                    redis.call('ZRANGE', KEYS[1], 0, 3, 'WITHSCORES')
                    redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
                    redis.call('ZADD', KEYS[1], at, at)
                    redis.call('PEXPIRE', KEYS[1], '2000')
                    return {1, 999999999999, 0, 1000, 1}""",
            "composite", """
                    redis.call('TIME')
                    redis.call('GET', KEYS[1])
                    redis.call('GET', KEYS[2])
                    redis.call('SET', KEYS[1], '1234567890123456', 'PX', '2000')
                    redis.call('SET', KEYS[2], '1234567890123456', 'PX', '2000')
                    return {{1, 999999999999, 0, 1000, 1}, {1, 999999999999, 0, 1000, 1}}""");

    private RedisFixture redis;
    private RedisFixture floorRedis;
    private RedisCommands<String, String> sync;
    private RedisCommands<String, String> floorSync;
    private Runnable ours;
    private Runnable floor;

    /**
     * Starts the server, builds both variants, captures the arguments, compares the commands.
     *
     * @throws IOException          if the server cannot be started
     * @throws InterruptedException if interrupted while waiting for it
     * @throws IllegalStateException if a variant refuses, or the two do not make the same commands
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        redis = RedisFixture.start();
        try {
            floorRedis = RedisFixture.start();
            sync = redis.connection().sync();
            floorSync = floorRedis.connection().sync();
            ours = ours(script);
            for (int i = 0; i < 3; i++) {
                ours.run(); // creates the state: the measured calls find it
            }
            List<String> sent = RedisFixture.capturedEvalsha(sync, ours, script);
            floor = floor(sent);
            Map<String, Long> oursCommands = commandsPerCall(sync, ours);
            Map<String, Long> floorCommands = commandsPerCall(floorSync, floor);
            if (!oursCommands.equals(floorCommands)) {
                throw new IllegalStateException("the floor of " + script + " must make its commands: per "
                        + CHECK_CALLS + " calls, ours " + oursCommands + ", floor " + floorCommands);
            }
            System.out.println("# " + redis.describe() + " and another for the floor; script " + script
                    + "; per call " + oursCommands + " / " + CHECK_CALLS + "; arguments " + sent);
        } catch (RuntimeException | Error e) {
            tearDown(); // JMH runs no tear-down after a failed set-up
            throw e;
        }
    }

    /** Disconnects and stops the servers. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (redis != null) {
            redis.close();
        }
        if (floorRedis != null) {
            floorRedis.close();
        }
    }

    private Runnable ours(String script) {
        RedisRateLimiters limiters = RedisRateLimiters.builder(redis.connection().async()).build();
        long huge = RedisFixture.HUGE;
        BooleanSupplier decide = switch (script) {
            case "tokenBucket" -> single(limiters.create(RedisFixture.NAME,
                    TokenBucket.of(huge, RedisFixture.RATE, Duration.ofSeconds(1))));
            case "slidingCounter" -> single(limiters.create(RedisFixture.NAME, SlidingWindow.counter(huge, Duration.ofSeconds(1))));
            // A window longer than the trial: every grant is added, none leaves (the log grows by one per call).
            case "slidingLog" -> single(limiters.create(RedisFixture.NAME, SlidingWindow.log(huge, Duration.ofHours(1))));
            case "composite" -> {
                CompositeLimiter composite = limiters.composite(RedisFixture.NAME,
                        TokenBucket.of(huge, RedisFixture.RATE, Duration.ofSeconds(1)),
                        TokenBucket.of(2 * huge, RedisFixture.RATE, Duration.ofHours(1)));
                yield () -> composite.tryAcquire("", 1);
            }
            default -> throw new IllegalStateException("unknown script: script=" + script + ", one of " + FLOORS.keySet());
        };
        return () -> {
            if (!decide.getAsBoolean()) {
                throw new IllegalStateException(script + " refused a request of its always granting limit");
            }
        };
    }

    private static BooleanSupplier single(RateLimiter limiter) {
        return limiter::tryAcquire;
    }

    private Runnable floor(List<String> sent) {
        String sha = floorSync.scriptLoad(FLOORS.get(script));
        int numKeys = Integer.parseInt(sent.get(1));
        String[] keys = sent.subList(2, 2 + numKeys).toArray(new String[0]);
        String[] argv = sent.subList(2 + numKeys, sent.size()).toArray(new String[0]);
        return () -> {
            List<Object> reply = floorSync.evalsha(sha, ScriptOutputType.MULTI, keys, argv);
            if (reply == null || reply.isEmpty()) {
                throw new IllegalStateException("the floor of " + script + " replied " + reply);
            }
        };
    }

    /** @return for each command but EVALSHA and INFO, how many {@link #CHECK_CALLS} calls of {@code call} made on {@code sync}'s server */
    private static Map<String, Long> commandsPerCall(RedisCommands<String, String> sync, Runnable call) {
        Map<String, long[]> before = RedisFixture.commandStats(sync.info("commandstats"));
        for (int i = 0; i < CHECK_CALLS; i++) {
            call.run();
        }
        Map<String, long[]> after = RedisFixture.commandStats(sync.info("commandstats"));
        Map<String, Long> made = new TreeMap<>();
        after.forEach((name, stat) -> {
            long calls = stat[0] - (before.containsKey(name) ? before.get(name)[0] : 0);
            if (calls > 0 && !name.equals("evalsha") && !name.equals("info")) {
                made.put(name, calls);
            }
        });
        return made;
    }

    /** The iteration's counters: each server's own count and time of {@code EVALSHA}. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counters {

        /** {@code EVALSHA} calls Redis executed in the iteration. */
        public long scriptCalls;

        /** The microseconds Redis spent in them ({@code usec} of {@code cmdstat_evalsha}). */
        public long scriptMicros;

        /** {@code EVALSHA} calls of the floor the second server executed. */
        public long floorCalls;

        /** The microseconds it spent in them. */
        public long floorMicros;

        private long[] before;
        private long[] floorBefore;

        /**
         * Takes the first reading.
         *
         * @param benchmark the benchmark state
         */
        @Setup(Level.Iteration)
        public void begin(ScriptTimeBenchmark benchmark) {
            scriptCalls = 0;
            scriptMicros = 0;
            floorCalls = 0;
            floorMicros = 0;
            before = evalsha(benchmark.sync);
            floorBefore = evalsha(benchmark.floorSync);
        }

        /**
         * Takes the last reading.
         *
         * @param benchmark the benchmark state
         */
        @TearDown(Level.Iteration)
        public void end(ScriptTimeBenchmark benchmark) {
            long[] after = evalsha(benchmark.sync);
            scriptCalls = after[0] - before[0];
            scriptMicros = after[1] - before[1];
            long[] floorAfter = evalsha(benchmark.floorSync);
            floorCalls = floorAfter[0] - floorBefore[0];
            floorMicros = floorAfter[1] - floorBefore[1];
        }
    }

    private static long[] evalsha(RedisCommands<String, String> sync) {
        return RedisFixture.commandStats(sync.info("commandstats")).getOrDefault("evalsha", new long[2]);
    }

    /**
     * One synchronous call of this project's script, then one of the floor.
     *
     * @param counters the iteration's counters (read by JMH)
     */
    @Benchmark
    public void call(Counters counters) {
        ours.run();
        floor.run();
    }
}

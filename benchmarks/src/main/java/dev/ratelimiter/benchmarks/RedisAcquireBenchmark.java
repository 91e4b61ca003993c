package dev.ratelimiter.benchmarks;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
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

/**
 * Synchronous decisions per second on one thread against Redis, one key, a limit so high that
 * every call is granted (the script's longest path: it reads {@code TIME}, computes and writes):
 * <ul>
 *   <li>{@code tokenBucket}: this project's {@code tryAcquire}, in Redis-time mode;</li>
 *   <li>{@code bucket4j}: Bucket4j's Lettuce backend ({@code LettuceBasedProxyManager},
 *       compare-and-swap), a bucket of the same capacity and rate;</li>
 *   <li>{@code noopEvalsha}: the ceiling, {@code EVALSHA} of {@code return 1} through the same
 *       Lettuce connection: one round trip and no work.</li>
 * </ul>
 * Each iteration also counts the decisions, the commands the client sent and the commands Redis
 * executed ({@link RedisReadings}); {@link SuiteTable} shows them per decision.
 *
 * <p>The benchmark starts its own {@code redis-server} on a free loopback port
 * ({@link RedisFixture}). For the raw-Redis figure, run
 * {@code redis-benchmark -p PORT -n 200000 -c 1 EVALSHA <sha> 0} against a server of the same
 * version; the SHA-1 of {@code return 1} is {@code e0e1f9fabfc9d4800c877a703b823ac0578ff8db}.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RedisAcquireBenchmark} (which also
 * selects {@link AsyncRedisAcquireBenchmark}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
@State(Scope.Benchmark)
public class RedisAcquireBenchmark {

    /** The implementation: this project's, the peer's or the ceiling. */
    @Param({"tokenBucket", "bucket4j", "noopEvalsha"})
    public String impl;

    private RedisFixture redis;
    private RedisFixture.DecisionPath path;

    /**
     * Starts the server, connects, and checks that the path does what it claims.
     *
     * @throws IOException          if the server cannot be started
     * @throws InterruptedException if interrupted while waiting for it
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        redis = RedisFixture.start();
        try {
            path = redis.path(impl);
            System.out.println("# " + redis.describe() + "; impl " + impl);
        } catch (RuntimeException | Error e) {
            // JMH runs no tear-down after a failed set-up: stop the server here.
            redis.close();
            throw e;
        }
    }

    /** Disconnects and stops the server. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (redis != null) {
            redis.close();
        }
    }

    /** The iteration's counters; its set-up and tear-down take the readings. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counters {

        /** Decisions made in the iteration. */
        public long decisions;

        /** Commands the client sent for them. */
        public long sentCommands;

        /** Commands Redis executed for them ({@code INFO commandstats}, script calls included). */
        public long executedCommands;

        private final RedisReadings readings = new RedisReadings();

        /**
         * Takes the first readings.
         *
         * @param benchmark the benchmark state
         */
        @Setup(Level.Iteration)
        public void begin(RedisAcquireBenchmark benchmark) {
            decisions = 0;
            sentCommands = 0;
            executedCommands = 0;
            readings.begin(benchmark.redis);
        }

        /**
         * Takes the last readings, then checks the path still grants (else the figure would be
         * of the refusal path).
         *
         * @param benchmark the benchmark state
         */
        @TearDown(Level.Iteration)
        public void end(RedisAcquireBenchmark benchmark) {
            sentCommands = readings.sent(benchmark.redis);
            executedCommands = readings.executed(benchmark.redis);
            if (!benchmark.path.decide()) {
                throw new IllegalStateException(benchmark.impl + " refused a request of the always granting limit");
            }
        }
    }

    /**
     * @param counters the iteration's counters
     * @return whether the (always granting) limit granted one permit
     */
    @Benchmark
    public boolean sync(Counters counters) {
        counters.decisions++;
        return path.decide();
    }
}

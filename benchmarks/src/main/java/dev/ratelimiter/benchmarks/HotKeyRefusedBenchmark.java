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
 * An abusive client on one key: synchronous {@code tryAcquire} on one thread, as fast as it can,
 * on a Redis limit of one permit per 10 ms, so that nearly every decision is a refusal (99% at
 * the ~10^4 decisions per second of a round trip each, far more with the cache):
 * <ul>
 *   <li>{@code tokenBucket}: this project's, with its refusal cache (the default): a request
 *       Redis is known to refuse is refused without a call until the refusal's retry-after;</li>
 *   <li>{@code tokenBucketNoCache}: the same with {@code refusalCache(0)}, a call per decision;</li>
 *   <li>{@code bucket4j}: Bucket4j's Lettuce backend, a bucket of the same capacity and rate.</li>
 * </ul>
 * The aux counters give the decisions, the grants and the commands sent and executed, so the
 * suite table shows the commands per decision.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar HotKeyRefusedBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
@State(Scope.Benchmark)
public class HotKeyRefusedBenchmark {

    /** The implementation. */
    @Param({"tokenBucket", "tokenBucketNoCache", "bucket4j"})
    public String impl;

    private RedisFixture redis;
    private RedisFixture.DecisionPath path;

    /**
     * Starts the server, connects, and checks that the path refuses right after a grant.
     *
     * @throws IOException          if the server cannot be started
     * @throws InterruptedException if interrupted while waiting for it
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        redis = RedisFixture.start();
        try {
            path = redis.hotRefusedPath(impl);
            System.out.println("# " + redis.describe() + "; impl " + impl + ", one key, 1 permit per "
                    + RedisFixture.HOT_PERIOD);
        } catch (RuntimeException | Error e) {
            redis.close(); // JMH runs no tear-down after a failed set-up
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

        /** Of which granted. */
        public long granted;

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
        public void begin(HotKeyRefusedBenchmark benchmark) {
            decisions = 0;
            granted = 0;
            sentCommands = 0;
            executedCommands = 0;
            readings.begin(benchmark.redis);
        }

        /**
         * Takes the last readings.
         *
         * @param benchmark the benchmark state
         */
        @TearDown(Level.Iteration)
        public void end(HotKeyRefusedBenchmark benchmark) {
            sentCommands = readings.sent(benchmark.redis);
            executedCommands = readings.executed(benchmark.redis);
        }
    }

    /**
     * @param counters the iteration's counters
     * @return whether the permit was granted
     */
    @Benchmark
    public boolean refusedMostly(Counters counters) {
        counters.decisions++;
        boolean granted = path.decide();
        if (granted) {
            counters.granted++;
        }
        return granted;
    }
}

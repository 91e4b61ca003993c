package dev.ratelimiter.benchmarks;

import java.io.IOException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
 * Concurrency: one benchmark thread fires decisions; their stages complete on Lettuce's event
 * loop (or on the timeout scheduler), which releases the window's permits and records failures.
 * The semaphore is the only coordination: a decision fired after acquire happens-before its
 * release, and the tear-down drains by acquiring every permit, after which no decision is in
 * flight and the failure fields, written before each release, are visible.
 */
/**
 * Asynchronous decisions per second from one thread, with {@code inFlight} decisions kept in
 * flight over one Lettuce connection (pipelined), on one hot key or going round many: the same
 * paths and always granting limit as {@link RedisAcquireBenchmark}, through each one's
 * asynchronous API: this project's
 * {@code tryAcquireAsync} ({@code RedisRateLimiters.KeyedLimiter}), Bucket4j's
 * {@code asAsync()} bucket, and the ceiling's {@code connection.async().evalsha(...)}.
 *
 * <p>How it measures: a continuous window, not batches. One operation waits for a free slot of
 * a {@link Semaphore} of {@code inFlight} permits, fires one decision and returns; the decision's
 * completion frees its slot. So the score, operations per second, is decisions fired per second,
 * and since at most {@code inFlight} are ever outstanding, it equals decisions completed per
 * second to within {@code inFlight} per iteration (the tear-down waits for those). Batches of
 * {@code inFlight} awaited together would instead drain the pipeline at the end of every batch
 * and measure the slowest reply of each batch, not the throughput at that concurrency. A
 * decision that fails or is refused is counted and fails the iteration at its tear-down.
 *
 * <p>Bucket4j's backend is compare-and-swap: with many decisions in flight on one key most of its
 * swaps fail and are retried, which the commands per decision show.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RedisAcquireBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
@State(Scope.Benchmark)
public class AsyncRedisAcquireBenchmark {

    /**
     * The implementation: this project's (its defaults: concurrent decisions on one key coalesced),
     * this project's with coalescing off ({@code tokenBucketAlone}, one call per decision), this
     * project's script called bare through Lettuce with the limiter's keys and arguments
     * ({@code bareEvalsha}: the client cost without the library), the peer's or the ceiling.
     */
    @Param({"tokenBucket", "tokenBucketAlone", "bareEvalsha", "bucket4j", "noopEvalsha"})
    public String impl;

    /** The decisions kept in flight. */
    @Param({"16", "64"})
    public int inFlight;

    /**
     * The keys the decisions go round: 1, the hot key every decision is on (where coalescing
     * applies), or many (each decision on the next key: no two in flight share one).
     */
    @Param({"1", "1024"})
    public int keys;

    /** The longest an operation or the drain waits for a slot: far beyond any healthy reply. */
    private static final long STALL_SECONDS = 30;

    private RedisFixture redis;
    private RedisFixture.DecisionPath path;
    private Semaphore window;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /**
     * Starts the server, connects, and checks that the path does what it claims.
     *
     * @throws IOException          if the server cannot be started
     * @throws InterruptedException if interrupted while waiting for it
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        if (inFlight < 1) {
            throw new IllegalArgumentException("inFlight must be >= 1: inFlight=" + inFlight);
        }
        if (keys < 1) {
            throw new IllegalArgumentException("keys must be >= 1: keys=" + keys);
        }
        redis = RedisFixture.start();
        try {
            path = redis.path(impl, keys);
            window = new Semaphore(inFlight);
            System.out.println("# " + redis.describe() + "; impl " + impl + ", " + inFlight + " in flight, "
                    + keys + (keys == 1 ? " key" : " keys"));
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

    /**
     * Waits until no decision is in flight, then fails if any was refused or failed.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    void drain() throws InterruptedException {
        if (!window.tryAcquire(inFlight, STALL_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException(impl + ": decisions still in flight after " + STALL_SECONDS + " s");
        }
        window.release(inFlight);
        Throwable failed = failure.get();
        if (failed != null) {
            throw new IllegalStateException(impl + ": a decision failed", failed);
        }
        if (refused.get() != 0) {
            throw new IllegalStateException(impl + " refused " + refused.get() + " requests of the always granting limit");
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

        /** {@code EVALSHA} calls Redis ran for them. */
        public long scriptCalls;

        /** Microseconds Redis spent in those calls ({@code usec} of {@code INFO commandstats}). */
        public long scriptMicros;

        private final RedisReadings readings = new RedisReadings();
        private long[] scriptsBefore;

        /**
         * Takes the first readings (the previous iteration left nothing in flight).
         *
         * @param benchmark the benchmark state
         */
        @Setup(Level.Iteration)
        public void begin(AsyncRedisAcquireBenchmark benchmark) {
            decisions = 0;
            sentCommands = 0;
            executedCommands = 0;
            scriptsBefore = benchmark.redis.scriptStats(); // before the readings: its INFO is not counted
            readings.begin(benchmark.redis);
        }

        /**
         * Waits for the decisions in flight, checks them, and takes the last readings.
         *
         * @param benchmark the benchmark state
         * @throws InterruptedException if interrupted while waiting
         */
        @TearDown(Level.Iteration)
        public void end(AsyncRedisAcquireBenchmark benchmark) throws InterruptedException {
            benchmark.drain();
            sentCommands = readings.sent(benchmark.redis);
            executedCommands = readings.executed(benchmark.redis);
            long[] scripts = benchmark.redis.scriptStats();
            scriptCalls = scripts[0] - scriptsBefore[0];
            scriptMicros = scripts[1] - scriptsBefore[1];
        }
    }

    /**
     * Fires one decision once fewer than {@code inFlight} are outstanding.
     *
     * @param counters the iteration's counters
     * @throws InterruptedException if interrupted while waiting for a slot
     */
    @Benchmark
    public void decide(Counters counters) throws InterruptedException {
        if (!window.tryAcquire(STALL_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException(impl + ": no reply for " + STALL_SECONDS + " s");
        }
        counters.decisions++;
        path.decideAsync().whenComplete((granted, failed) -> {
            if (failed != null) {
                failure.compareAndSet(null, failed);
            } else if (!granted) {
                refused.incrementAndGet();
            }
            window.release();
        });
    }
}

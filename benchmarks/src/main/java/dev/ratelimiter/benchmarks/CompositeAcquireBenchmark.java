package dev.ratelimiter.benchmarks;

import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.local.LocalRateLimiters;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
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
 * Two limits in one decision (a burst limit and a sustained one, as "10 per second and 1000 per
 * hour"): this project's local composite of two token buckets against a Bucket4j bucket with two
 * bandwidths (its lock-free default), in the same run. One non-blocking acquire of one permit.
 *
 * <p>Outcomes, as in {@link LocalAcquireBenchmark}: {@code allowed} (limits so high that nothing
 * is refused during a run: every call consumes from both limits) and {@code denied} (exhausted in
 * set-up, refilled once per 30 days: every call is refused). One thread, and two threads sharing
 * the limiter. Every configuration is checked before the measurement and after each iteration.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CompositeAcquireBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class CompositeAcquireBenchmark {

    /** The limiter under test: this project's local composite, then Bucket4j. */
    @Param({"tokenBucket", "bucket4j"})
    public String impl;

    /** Whether every measured request is granted or refused. */
    @Param({"allowed", "denied"})
    public String outcome;

    /** How many decisions the set-up self-check makes. */
    private static final int SELF_CHECK_CALLS = 10_000;

    private BooleanSupplier acquire;
    private boolean expectAllowed;

    /**
     * Builds the limiter, drains it for the denied case, and checks its first decisions.
     *
     * @throws IllegalStateException if {@code impl} or {@code outcome} is unknown or the limiter
     *                               does not decide as expected
     */
    @Setup(Level.Trial)
    public void setUp() {
        expectAllowed = switch (outcome) {
            case "allowed" -> true;
            case "denied" -> false;
            default -> throw new IllegalStateException("unknown outcome: outcome=" + outcome);
        };
        acquire = create(impl, expectAllowed);
        if (!expectAllowed) {
            acquire.getAsBoolean(); // the burst limit holds one permit: take it
        }
        for (int i = 0; i < SELF_CHECK_CALLS; i++) {
            check("set-up call " + i);
        }
    }

    /** Re-checks after each iteration that the limiter is still on the measured path. */
    @TearDown(Level.Iteration)
    public void stillOnTheMeasuredPath() {
        check("after an iteration");
    }

    private void check(String when) {
        boolean allowed = acquire.getAsBoolean();
        if (allowed != expectAllowed) {
            throw new IllegalStateException(impl + " " + outcome + ": " + when + " was "
                    + (allowed ? "allowed" : "denied") + ", the benchmark would measure the wrong path");
        }
    }

    /**
     * Creates one two-limit limiter and returns its non-blocking acquire of one permit.
     *
     * @param impl    {@code tokenBucket} or {@code bucket4j}
     * @param allowed {@code true} for limits that never refuse during a run; {@code false} for a
     *                burst limit of 1 and a sustained one of 10, each refilled once per 30 days
     * @return the acquire
     * @throws IllegalStateException if {@code impl} is unknown
     */
    static BooleanSupplier create(String impl, boolean allowed) {
        long huge = LocalAcquireBenchmark.HUGE;
        Duration month = LocalAcquireBenchmark.MONTH;
        switch (impl) {
            case "tokenBucket": {
                RateLimiter limiter = allowed
                        ? LocalRateLimiters.composite(TokenBucket.of(huge, 1_000_000_000L, Duration.ofSeconds(1)),
                                TokenBucket.of(2 * huge, 3_600_000_000_000L, Duration.ofHours(1)))
                        : LocalRateLimiters.composite(TokenBucket.of(1, 1, month), TokenBucket.of(10, 10, month));
                return limiter::tryAcquire;
            }
            case "bucket4j": {
                Bucket bucket = allowed
                        ? Bucket.builder()
                                .addLimit(l -> l.capacity(huge).refillGreedy(1_000_000_000L, Duration.ofSeconds(1)))
                                .addLimit(l -> l.capacity(2 * huge).refillGreedy(3_600_000_000_000L, Duration.ofHours(1)))
                                .build()
                        : Bucket.builder()
                                .addLimit(l -> l.capacity(1).refillGreedy(1, month))
                                .addLimit(l -> l.capacity(10).refillGreedy(10, month))
                                .build();
                return () -> bucket.tryConsume(1);
            }
            default:
                throw new IllegalStateException("unknown implementation: impl=" + impl);
        }
    }

    /**
     * One thread deciding alone.
     *
     * @return the decision
     */
    @Benchmark
    @Threads(1)
    public boolean oneThread() {
        return acquire.getAsBoolean();
    }

    /**
     * Two threads deciding on the same limiter.
     *
     * @return the decision
     */
    @Benchmark
    @Threads(2)
    public boolean twoThreads() {
        return acquire.getAsBoolean();
    }
}

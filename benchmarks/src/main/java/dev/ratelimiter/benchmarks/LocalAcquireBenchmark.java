package dev.ratelimiter.benchmarks;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.local.LocalRateLimiters;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
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
 * The hot path of a single shared limiter: one non-blocking acquire of one permit, for each local
 * algorithm of this project and for the lock-free limiters of Bucket4j, Guava and Resilience4j,
 * in the same run so that the results are ratios measured on the same machine.
 *
 * <p>Two outcomes are measured, because they take different paths:
 * <ul>
 *   <li>{@code allowed}: the limit is so high that no request is ever refused during the run, so
 *       every call consumes (a CAS that succeeds);
 *   <li>{@code denied}: the limit is exhausted in set-up and refills negligibly (one permit per
 *       30 days), so every call is refused (in this project: a read, no write).
 * </ul>
 * Both run with one thread and with two threads sharing the limiter ({@link Scope#Benchmark}),
 * the second showing the cost of contention on the state word.
 *
 * <p>Every configuration is checked before the measurement and after each iteration: the
 * benchmark fails rather than report the speed of the wrong path.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LocalAcquireBenchmark -prof gc}; with
 * {@code -rf json -rff result.json}, {@link CompareResults} prints the ratios.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
// Five measured iterations, not three: JMH's 99.9% error bar multiplies the spread by Student's
// t, which is 31.6 with two degrees of freedom and 8.6 with four. The 28 runs still take about
// five minutes.
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class LocalAcquireBenchmark {

    /** The limiter under test: four local algorithms of this project, then the peers. */
    @Param({"tokenBucket", "tokenBucketListened", "tokenBucketFractional", "leakyBucket", "slidingWindowLog", "slidingWindowCounter",
            "bucket4j", "guava", "resilience4j"})
    public String impl;

    /** Whether every measured request is granted or refused. */
    @Param({"allowed", "denied"})
    public String outcome;

    /**
     * "Allowed" capacity: at the measured ~10^8 decisions per second it lasts 10^4 s even with
     * no refill at all, far beyond the longest run.
     */
    static final long HUGE = 1_000_000_000_000L;

    /** "Denied" refill: one permit per 30 days, the longest period a limit may have. */
    static final Duration MONTH = Duration.ofDays(30);

    /** How many decisions the set-up self-check makes; enough to cross a few refill quanta. */
    private static final int SELF_CHECK_CALLS = 10_000;

    /**
     * One acquire of one permit on the configured limiter. A lambda per implementation: each
     * (impl, outcome) pair runs in its own JVM fork, so this call site sees one class and the
     * JIT inlines it.
     */
    private BooleanSupplier acquire;

    private boolean expectAllowed;

    /**
     * Builds the limiter, drains it for the denied case, and checks that its first decisions
     * are the expected ones.
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
            // Capacity 1: take the one permit the limiter starts with (Guava: the first request
            // is free and pushes the next one 30 days away).
            acquire.getAsBoolean();
        }
        for (int i = 0; i < SELF_CHECK_CALLS; i++) {
            check("set-up call " + i);
        }
    }

    /**
     * Re-checks after each iteration that the limiter is still on the measured path (an
     * "allowed" limiter must not have run dry).
     */
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
     * Creates one limiter and returns its non-blocking acquire of one permit.
     *
     * @param impl    the implementation name, one of the {@link #impl} values
     * @param allowed {@code true} for a limit that never refuses during a run, {@code false} for
     *                one of capacity 1 refilled once per 30 days (the caller drains it)
     * @return the acquire
     * @throws IllegalStateException if {@code impl} is unknown
     */
    static BooleanSupplier create(String impl, boolean allowed) {
        switch (impl) {
            case "tokenBucket": {
                // Allowed: refilled at the highest rate a limit may have (10^9/s) on top of HUGE.
                RateLimiter limiter = LocalRateLimiters.create(allowed
                        ? TokenBucket.of(HUGE, 1_000_000_000L, Duration.ofSeconds(1))
                        : TokenBucket.of(1, 1, MONTH));
                return limiter::tryAcquire;
            }
            case "tokenBucketListened": {
                // The token bucket above, made by a factory with a listener that counts every
                // event: the cost of listening, beside the bare limiter (which has none).
                RateLimiter limiter = LocalRateLimiters.factory().withListener(new CountingListener())
                        .create("benchmark", allowed
                                ? TokenBucket.of(HUGE, 1_000_000_000L, Duration.ofSeconds(1))
                                : TokenBucket.of(1, 1, MONTH));
                return limiter::tryAcquire;
            }
            case "tokenBucketFractional": {
                // A rate whose permit costs a fraction of a nanosecond (999,999,999 per second;
                // 7 per 30 days when denied): the exact limiter, whose state is a small object
                // replaced on every grant.
                RateLimiter limiter = LocalRateLimiters.create(allowed
                        ? TokenBucket.of(HUGE, 999_999_999L, Duration.ofSeconds(1))
                        : TokenBucket.of(1, 7, MONTH));
                return limiter::tryAcquire;
            }
            case "leakyBucket": {
                // The GCRA meter: at 10^9/s its theoretical arrival time moves 1 ns per grant,
                // slower than the clock at any achievable rate, and the burst is HUGE anyway.
                RateLimiter limiter = LocalRateLimiters.create(allowed
                        ? LeakyBucket.meter(1_000_000_000L, Duration.ofSeconds(1), HUGE)
                        : LeakyBucket.meter(1, MONTH, 1));
                return limiter::tryAcquire;
            }
            case "slidingWindowLog": {
                // The log keeps one entry per granted request still inside the window: a 1 ms
                // window bounds it to about 10^5 entries at 10^8 grants/s, while the limit
                // (Long.MAX_VALUE / 2) is never reached.
                RateLimiter limiter = LocalRateLimiters.create(allowed
                        ? SlidingWindow.log(Long.MAX_VALUE / 2, Duration.ofMillis(1))
                        : SlidingWindow.log(1, MONTH));
                return limiter::tryAcquire;
            }
            case "slidingWindowCounter": {
                // A 1 s window: the measurement crosses window boundaries like production would.
                RateLimiter limiter = LocalRateLimiters.create(allowed
                        ? SlidingWindow.counter(Long.MAX_VALUE / 2, Duration.ofSeconds(1))
                        : SlidingWindow.counter(1, MONTH));
                return limiter::tryAcquire;
            }
            case "bucket4j": {
                // Bucket4j's defaults: lock-free synchronization, millisecond clock.
                Bucket bucket = Bucket.builder()
                        .addLimit(limit -> allowed
                                ? limit.capacity(HUGE).refillGreedy(1_000_000_000L, Duration.ofSeconds(1))
                                : limit.capacity(1).refillGreedy(1, MONTH))
                        .build();
                return () -> bucket.tryConsume(1);
            }
            case "guava": {
                // Guava: at 10^12/s a permit costs 10^-6 us, which its microsecond clock rounds
                // to nothing, so no request ever waits. The slow rate grants the first request
                // (it is free) and then one per 30 days.
                com.google.common.util.concurrent.RateLimiter limiter =
                        com.google.common.util.concurrent.RateLimiter.create(allowed
                                ? 1e12
                                : 1.0 / MONTH.toSeconds());
                return limiter::tryAcquire;
            }
            case "resilience4j": {
                // Resilience4j refreshes limitForPeriod (an int) each period: Integer.MAX_VALUE
                // per second is 20 times the fastest achievable rate.
                AtomicRateLimiter limiter = new AtomicRateLimiter("benchmark", RateLimiterConfig.custom()
                        .limitForPeriod(allowed ? Integer.MAX_VALUE : 1)
                        .limitRefreshPeriod(allowed ? Duration.ofSeconds(1) : MONTH)
                        .timeoutDuration(Duration.ZERO)
                        .build());
                return limiter::acquirePermission;
            }
            default:
                throw new IllegalStateException("unknown implementation: impl=" + impl);
        }
    }

    /**
     * Counts grants and refusals, one {@link LongAdder} each (striped, so two threads counting
     * do not contend on one word), as a metrics listener would.
     */
    static final class CountingListener implements RateLimiterListener {
        final LongAdder granted = new LongAdder();
        final LongAdder denied = new LongAdder();

        @Override
        public void onGranted(String limiter, Object key, long permits, Decision decision) {
            granted.increment();
        }

        @Override
        public void onDenied(String limiter, Object key, long permits, Decision decision) {
            denied.increment();
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

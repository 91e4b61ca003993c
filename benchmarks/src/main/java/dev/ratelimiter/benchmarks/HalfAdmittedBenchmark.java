package dev.ratelimiter.benchmarks;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.local.LocalRateLimiters;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Locale;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * A single shared limiter that admits about half of the requests: the mixed path, where grants
 * (a successful update) and refusals (a read) alternate, as they do in a limiter under real
 * pressure.
 *
 * <p>A limit that admits half of the calls at the benchmark's own call rate cannot be set
 * portably (the call rate is what is being measured), so time is controlled instead: every
 * calling thread owns a fake clock that each call advances by a fixed step before deciding, and
 * the limit grants {@value #PERMITS_PER_PERIOD} permits per {@value #PERIOD_STEPS} steps. On one
 * thread exactly half of the requests are granted after the initial burst. On two threads each
 * thread's step is doubled, so the two clocks together still offer two requests per permit; the
 * limiter reads whichever thread's clock is calling, so time seen by the limiter moves back and
 * forth by a few steps and the admitted share is only about half (the {@link Admissions}
 * counters report it). Permits follow the fastest thread's clock, so when one thread is
 * descheduled for long (a loaded machine, a run without warm-up) the share rises towards all
 * granted: read the admitted column before the throughput. Every implementation reads the clock through a {@link ThreadLocal}, a
 * cost of a few nanoseconds shared by all of them.
 *
 * <p>Implementations: the four local algorithms of this project (through their {@link Ticker}),
 * Bucket4j's lock-free bucket (through its {@link TimeMeter}) and Resilience4j's
 * {@link AtomicRateLimiter} (through its {@code Supplier<Long>} nano-time constructor, which
 * boxes each reading). Guava's {@code RateLimiter} is absent: its only time source,
 * {@code SleepingStopwatch}, is package-private, so it cannot run on a controlled clock.
 *
 * <p>Throughput runs count admissions with {@link AuxCounters}; sample-time runs report the
 * latency distribution (JMH prints p0.99 among the percentiles; {@link SuiteTable} reads it).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar HalfAdmittedBenchmark}.
 */
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class HalfAdmittedBenchmark {

    /** The limiter under test; Guava has no injectable clock (see the class comment). */
    @Param({"tokenBucket", "leakyBucket", "slidingWindowLog", "slidingWindowCounter",
            "bucket4j", "resilience4j"})
    public String impl;

    /** How far one call moves its thread's fake clock, on one thread. */
    static final long STEP_NANOS = 10_000;

    /** The limit's period, in steps: 1 ms, the shortest period a limit of this project may have. */
    static final long PERIOD_STEPS = 100;

    /** Permits per period: half the calls one thread makes in a period. */
    static final long PERMITS_PER_PERIOD = 50;

    /** Calls of the set-up self-check: 200 periods, so the initial burst weighs 0.5%. */
    static final int SELF_CHECK_CALLS = 20_000;

    /** The admitted share the self-check accepts on one thread. */
    static final double SELF_CHECK_TOLERANCE = 0.02;

    /**
     * Each benchmark thread's fake clock. Written only by its own thread (the {@link Caller}
     * advancing it) and read only by that thread (the limiter's clock, called from the same
     * thread), so a plain field suffices.
     */
    private static final ThreadLocal<FakeTime> THREAD_TIME = ThreadLocal.withInitial(FakeTime::new);

    /** A fake clock: nanoseconds since the trial started. */
    static final class FakeTime {
        long nanos;
    }

    private BooleanSupplier acquire;

    /**
     * Checks on a separate limiter and clock that the configuration admits half of the calls of
     * one thread, then builds the measured limiter on the calling threads' clocks.
     *
     * @throws IllegalStateException if {@code impl} is unknown or the admitted share is not half
     */
    @Setup(Level.Trial)
    public void setUp() {
        double share = admittedShare(impl, SELF_CHECK_CALLS);
        if (Math.abs(share - 0.5) > SELF_CHECK_TOLERANCE) {
            throw new IllegalStateException(impl + " admitted " + String.format(Locale.ROOT, "%.4f", share)
                    + " of " + SELF_CHECK_CALLS + " requests instead of about half,"
                    + " the benchmark would measure the wrong mix");
        }
        // The limiter's origin is read on this thread: start its clock where the callers' start.
        THREAD_TIME.get().nanos = 0;
        acquire = create(impl, () -> THREAD_TIME.get().nanos);
    }

    /**
     * The admitted share of {@code calls} requests of one thread on a fresh limiter with its own
     * fake clock, advanced by {@link #STEP_NANOS} before each call.
     *
     * @param impl  the implementation name, one of the {@link #impl} values
     * @param calls how many requests to make
     * @return admitted / calls
     * @throws IllegalStateException if {@code impl} is unknown
     */
    static double admittedShare(String impl, int calls) {
        FakeTime time = new FakeTime();
        BooleanSupplier limiter = create(impl, () -> time.nanos);
        int admitted = 0;
        for (int i = 0; i < calls; i++) {
            time.nanos += STEP_NANOS;
            if (limiter.getAsBoolean()) {
                admitted++;
            }
        }
        return (double) admitted / calls;
    }

    /**
     * Creates one limiter granting {@link #PERMITS_PER_PERIOD} permits per
     * {@link #PERIOD_STEPS} steps on the given clock, and returns its non-blocking acquire of
     * one permit.
     *
     * @param impl  the implementation name, one of the {@link #impl} values
     * @param clock the limiter's time source, in nanoseconds
     * @return the acquire
     * @throws IllegalStateException if {@code impl} is unknown
     */
    static BooleanSupplier create(String impl, Ticker clock) {
        Duration period = Duration.ofNanos(PERIOD_STEPS * STEP_NANOS);
        switch (impl) {
            case "tokenBucket": {
                RateLimiter limiter = LocalRateLimiters.create(
                        TokenBucket.of(PERMITS_PER_PERIOD, PERMITS_PER_PERIOD, period), clock);
                return limiter::tryAcquire;
            }
            case "leakyBucket": {
                RateLimiter limiter = LocalRateLimiters.create(
                        LeakyBucket.meter(PERMITS_PER_PERIOD, period, PERMITS_PER_PERIOD), clock);
                return limiter::tryAcquire;
            }
            case "slidingWindowLog": {
                RateLimiter limiter = LocalRateLimiters.create(SlidingWindow.log(PERMITS_PER_PERIOD, period), clock);
                return limiter::tryAcquire;
            }
            case "slidingWindowCounter": {
                RateLimiter limiter = LocalRateLimiters.create(
                        SlidingWindow.counter(PERMITS_PER_PERIOD, period), clock);
                return limiter::tryAcquire;
            }
            case "bucket4j": {
                // Lock-free synchronization (the default), time from the fake clock.
                Bucket bucket = Bucket.builder()
                        .addLimit(limit -> limit.capacity(PERMITS_PER_PERIOD).refillGreedy(PERMITS_PER_PERIOD, period))
                        .withCustomTimePrecision(new TimeMeter() {
                            @Override
                            public long currentTimeNanos() {
                                return clock.read();
                            }

                            @Override
                            public boolean isWallClockBased() {
                                return false;
                            }
                        })
                        .build();
                return () -> bucket.tryConsume(1);
            }
            case "resilience4j": {
                AtomicRateLimiter limiter = new AtomicRateLimiter("benchmark", RateLimiterConfig.custom()
                        .limitForPeriod((int) PERMITS_PER_PERIOD)
                        .limitRefreshPeriod(period)
                        .timeoutDuration(Duration.ZERO)
                        .build(), clock::read);
                return limiter::acquirePermission;
            }
            default:
                throw new IllegalStateException("unknown implementation: impl=" + impl);
        }
    }

    /** One calling thread: its fake clock and how far each call moves it. */
    @State(Scope.Thread)
    public static class Caller {
        FakeTime time;
        long step;

        /**
         * Starts this thread's clock at zero, with a step scaled by the thread count so that
         * all threads together offer two requests per permit.
         *
         * @param params JMH's view of the benchmark threads
         */
        @Setup(Level.Trial)
        public void setUp(ThreadParams params) {
            setUp(params.getThreadCount());
        }

        void setUp(int threadCount) {
            time = THREAD_TIME.get();
            time.nanos = 0;
            step = STEP_NANOS * threadCount;
        }
    }

    /** Per-thread admission counts, summed over the threads and reported by JMH per iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Admissions {
        /** Requests granted in this iteration. */
        public long admitted;
        /** Requests refused in this iteration. */
        public long denied;

        /** Counts each iteration afresh. */
        @Setup(Level.Iteration)
        public void reset() {
            admitted = 0;
            denied = 0;
        }
    }

    private boolean decide(Caller caller) {
        caller.time.nanos += caller.step;
        return acquire.getAsBoolean();
    }

    private boolean decideAndCount(Caller caller, Admissions admissions) {
        boolean allowed = decide(caller);
        if (allowed) {
            admissions.admitted++;
        } else {
            admissions.denied++;
        }
        return allowed;
    }

    /**
     * One thread, throughput, admissions counted.
     *
     * @param caller     this thread's clock
     * @param admissions this thread's counters
     * @return the decision
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Threads(1)
    public boolean oneThread(Caller caller, Admissions admissions) {
        return decideAndCount(caller, admissions);
    }

    /**
     * Two threads on the same limiter, throughput, admissions counted.
     *
     * @param caller     this thread's clock
     * @param admissions this thread's counters
     * @return the decision
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Threads(2)
    public boolean twoThreads(Caller caller, Admissions admissions) {
        return decideAndCount(caller, admissions);
    }

    /**
     * One thread, latency distribution (JMH samples the time of individual calls).
     *
     * @param caller this thread's clock
     * @return the decision
     */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(1)
    public boolean oneThreadLatency(Caller caller) {
        return decide(caller);
    }

    /**
     * Two threads on the same limiter, latency distribution.
     *
     * @param caller this thread's clock
     * @return the decision
     */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(2)
    public boolean twoThreadsLatency(Caller caller) {
        return decide(caller);
    }
}

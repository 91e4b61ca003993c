package dev.ratelimiter.benchmarks;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.local.LocalKeyedRateLimiter;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
 * A keyed limiter (one limit per user, say) over {@value #KEYS} keys chosen with a Zipf-like
 * skew: this project's {@link LocalKeyedRateLimiter} against the usual arrangement with the
 * peers, a {@link ConcurrentHashMap} of one limiter per key filled by {@code computeIfAbsent}.
 *
 * <p>The key sequence is precomputed (exponent {@value #ZIPF_EXPONENT}, seed fixed, so every
 * implementation sees the same keys) and each thread walks it from its own offset with its own
 * cursor: the hot path is the lookup and the decision, not the random number generator. Every
 * key's limit is so high that every request is granted, and every key is touched once in set-up,
 * so the measurement sees the steady state of a full map, not its filling.
 *
 * <p>The keys are in use, as keys under steady traffic are: the buckets (this project's and
 * Bucket4j's) hold {@link #HUGE} permits, refill {@value #REFILL_PER_SECOND} per second, and
 * the set-up's first request on each key takes {@value #PRIME_PERMITS} permits, so no bucket is
 * full again (idle) during any run, and none runs dry. With buckets refilled at 10^9 permits per
 * second instead, every key would be full again a nanosecond after each grant, that is idle
 * between its calls: {@link LocalKeyedRateLimiter} drops idle keys by design (that is how it
 * bounds its memory), so its sweeps would drop and re-create most of the 100,000 keys, and the
 * run would measure that churn rather than the lookup and decision (a profile showed over half
 * of the time in the sweeps and re-creations). Guava and Resilience4j have no capacity to prime
 * and keep their always-granting rates; their first request takes one permit.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar KeyedAcquireBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class KeyedAcquireBenchmark {

    /** This project's keyed limiter (token bucket), then the peers in a concurrent map. */
    @Param({"tokenBucket", "bucket4j", "guava", "resilience4j"})
    public String impl;

    /** Distinct keys. */
    static final int KEYS = 100_000;

    /** The Zipf exponent: key of rank r is chosen with probability proportional to 1 / r^s. */
    static final double ZIPF_EXPONENT = 1.0;

    /** Length of the precomputed key sequence, a power of two so a mask wraps the cursor. */
    static final int SEQUENCE_LENGTH = 1 << 20;

    /** Per-key capacity: never exhausted during a run (see LocalAcquireBenchmark.HUGE). */
    static final long HUGE = LocalAcquireBenchmark.HUGE;

    /** The keys, by rank; built once so the hot path allocates no key. */
    private String[] keys;

    /** Key ranks in the order the requests use them. */
    int[] sequence;

    /** Refill of the buckets: a full bucket of {@link #HUGE} permits takes 10^9 s to refill. */
    static final long REFILL_PER_SECOND = 1000;

    /** Permits the first request on each key takes: 1,000 s of refill, longer than any run. */
    static final long PRIME_PERMITS = 1_000_000;

    /** A non-blocking acquire of {@code permits} permits for {@code key}. */
    @FunctionalInterface
    interface KeyedAcquire {
        /**
         * @param key     the key
         * @param permits the permits; implementations without a capacity take one
         * @return whether the permits were granted
         */
        boolean tryAcquire(String key, long permits);
    }

    private KeyedAcquire acquire;

    /**
     * Builds the keys, the Zipf sequence and the limiter, touches every key once, and checks that
     * every key grants.
     *
     * @throws IllegalStateException if {@code impl} is unknown or a key refuses a request
     */
    @Setup(Level.Trial)
    public void setUp() {
        keys = new String[KEYS];
        for (int i = 0; i < KEYS; i++) {
            keys[i] = "user-" + i;
        }
        sequence = zipfSequence(KEYS, ZIPF_EXPONENT, SEQUENCE_LENGTH, 42);
        acquire = create(impl);
        for (String key : keys) {
            if (!acquire.tryAcquire(key, PRIME_PERMITS) || !acquire.tryAcquire(key, 1)) {
                throw new IllegalStateException(impl + ": key " + key
                        + " refused one of its first requests, the benchmark would measure the wrong path");
            }
        }
    }

    /**
     * Draws {@code length} ranks in {@code [0, n)} with probability proportional to
     * {@code 1 / (rank + 1)^exponent}, by inverse transform over the cumulative weights.
     *
     * @param n        the number of ranks
     * @param exponent the Zipf exponent, {@code >= 0}
     * @param length   how many ranks to draw
     * @param seed     the random seed, so every run draws the same sequence
     * @return the ranks
     * @throws IllegalArgumentException if {@code n} or {@code length} is not positive or
     *                                  {@code exponent} is negative or not finite
     */
    static int[] zipfSequence(int n, double exponent, int length, long seed) {
        if (n <= 0) {
            throw new IllegalArgumentException("n must be > 0: n=" + n);
        }
        if (length <= 0) {
            throw new IllegalArgumentException("length must be > 0: length=" + length);
        }
        if (!(exponent >= 0) || Double.isInfinite(exponent)) {
            throw new IllegalArgumentException("exponent must be finite and >= 0: exponent=" + exponent);
        }
        double[] cumulative = new double[n];
        double sum = 0;
        for (int r = 0; r < n; r++) {
            sum += 1.0 / Math.pow(r + 1, exponent);
            cumulative[r] = sum;
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[] ranks = new int[length];
        for (int i = 0; i < length; i++) {
            double u = random.nextDouble() * sum;
            int found = Arrays.binarySearch(cumulative, u);
            // binarySearch returns -(insertion point) - 1 when u falls between two sums: the
            // insertion point is the first rank whose cumulative weight exceeds u.
            int rank = found >= 0 ? found : -found - 1;
            ranks[i] = Math.min(rank, n - 1);
        }
        return ranks;
    }

    /**
     * Creates the keyed arrangement and returns its non-blocking acquire for a key.
     *
     * @param impl the implementation name, one of the {@link #impl} values
     * @return the acquire
     * @throws IllegalStateException if {@code impl} is unknown
     */
    static KeyedAcquire create(String impl) {
        switch (impl) {
            case "tokenBucket": {
                KeyedRateLimiter<String> limiter = LocalKeyedRateLimiter
                        .builder(TokenBucket.of(HUGE, REFILL_PER_SECOND, Duration.ofSeconds(1)))
                        .build();
                return limiter::tryAcquire;
            }
            case "bucket4j": {
                ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
                return (key, permits) -> buckets.computeIfAbsent(key, k -> Bucket.builder()
                        .addLimit(limit -> limit.capacity(HUGE).refillGreedy(REFILL_PER_SECOND, Duration.ofSeconds(1)))
                        .build()).tryConsume(permits);
            }
            case "guava": {
                ConcurrentHashMap<String, com.google.common.util.concurrent.RateLimiter> limiters =
                        new ConcurrentHashMap<>();
                return (key, permits) -> limiters.computeIfAbsent(key,
                        k -> com.google.common.util.concurrent.RateLimiter.create(1e12)).tryAcquire();
            }
            case "resilience4j": {
                RateLimiterConfig config = RateLimiterConfig.custom()
                        .limitForPeriod(Integer.MAX_VALUE)
                        .limitRefreshPeriod(Duration.ofSeconds(1))
                        .timeoutDuration(Duration.ZERO)
                        .build();
                ConcurrentHashMap<String, AtomicRateLimiter> limiters = new ConcurrentHashMap<>();
                return (key, permits) -> limiters.computeIfAbsent(key, k -> new AtomicRateLimiter(k, config))
                        .acquirePermission();
            }
            default:
                throw new IllegalStateException("unknown implementation: impl=" + impl);
        }
    }

    /** One calling thread's position in the key sequence. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        /**
         * Starts each thread at its own offset, so two threads do not request the same key at
         * the same moment by construction.
         *
         * @param params JMH's view of the benchmark threads
         */
        @Setup(Level.Trial)
        public void setUp(ThreadParams params) {
            setUp(params.getThreadIndex(), params.getThreadCount());
        }

        void setUp(int threadIndex, int threadCount) {
            next = (int) ((long) SEQUENCE_LENGTH * threadIndex / threadCount);
        }
    }

    private boolean acquireNext(Cursor cursor) {
        String key = keys[sequence[cursor.next]];
        cursor.next = (cursor.next + 1) & (SEQUENCE_LENGTH - 1);
        return acquire.tryAcquire(key, 1);
    }

    /**
     * One thread: one acquire on the next key of the sequence.
     *
     * @param cursor this thread's position
     * @return the decision
     */
    @Benchmark
    @Threads(1)
    public boolean oneThread(Cursor cursor) {
        return acquireNext(cursor);
    }

    /**
     * Two threads sharing the keyed limiter.
     *
     * @param cursor this thread's position
     * @return the decision
     */
    @Benchmark
    @Threads(2)
    public boolean twoThreads(Cursor cursor) {
        return acquireNext(cursor);
    }
}

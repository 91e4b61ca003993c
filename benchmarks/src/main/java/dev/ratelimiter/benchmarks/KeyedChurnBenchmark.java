package dev.ratelimiter.benchmarks;

import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.local.LocalKeyedRateLimiter;
import io.github.bucket4j.Bucket;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Every request on a key never seen before, the way a keyed limiter meets a crawl of new client
 * addresses: the latency of one call, p99 to the worst one (JMH SampleTime reports
 * {@code p1.00}, the maximum), including the maintenance a call pays for. This project's
 * {@link LocalKeyedRateLimiter} bounds its map at {@value #MAX_KEYS} keys and drops full ones
 * in incremental sweeps of a bounded number of keys per call; the peer, Bucket4j in a
 * {@link ConcurrentHashMap} filled by {@code computeIfAbsent}, keeps every key (no bound, so no
 * maintenance, and memory that only grows).
 *
 * <p>Each key's bucket holds 1 permit refilled {@value #REFILL_PER_SECOND} per second, so a
 * key is full again, and droppable, 100 ms after its request: at millions of new keys a second
 * the bounded map stays at its bound and every new key needs room made for it.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar KeyedChurnBenchmark}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@State(Scope.Benchmark)
public class KeyedChurnBenchmark {

    /** This project's bounded keyed limiter, then Bucket4j buckets in an unbounded map. */
    @Param({"tokenBucket", "bucket4j"})
    public String impl;

    /** The bound of this project's map. */
    static final long MAX_KEYS = 1_000_000;

    /** Refill per key and second: a key is full again 100 ms after its request. */
    static final long REFILL_PER_SECOND = 10;

    private KeyedChurnBenchmark.NewKeyAcquire acquire;
    private long next;

    /** A decision on a key. */
    @FunctionalInterface
    interface NewKeyAcquire {
        boolean tryAcquire(String key);
    }

    /**
     * Builds the limiter and checks that a new key is granted.
     *
     * @throws IllegalStateException if {@code impl} is unknown or a new key is refused
     */
    @Setup(Level.Trial)
    public void setUp() {
        acquire = switch (impl) {
            case "tokenBucket" -> {
                LocalKeyedRateLimiter<String> limiter = LocalKeyedRateLimiter
                        .builder(TokenBucket.of(1, REFILL_PER_SECOND, Duration.ofSeconds(1)))
                        .maxKeys(MAX_KEYS)
                        .build();
                yield limiter::tryAcquire;
            }
            case "bucket4j" -> {
                ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
                yield key -> buckets.computeIfAbsent(key, k -> Bucket.builder()
                        .addLimit(limit -> limit.capacity(1).refillGreedy(REFILL_PER_SECOND, Duration.ofSeconds(1)))
                        .build()).tryConsume(1);
            }
            default -> throw new IllegalStateException("unknown impl: " + impl);
        };
        if (!acquire.tryAcquire("first") || acquire.tryAcquire("first")) {
            throw new IllegalStateException(impl + ": a new key must grant once, then refuse");
        }
    }

    /** @return whether the new key's first request was granted (it is, unless the bound is full of active keys) */
    @Benchmark
    public boolean newKey() {
        return acquire.tryAcquire(Long.toString(next++));
    }
}

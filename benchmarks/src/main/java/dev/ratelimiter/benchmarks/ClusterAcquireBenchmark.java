package dev.ratelimiter.benchmarks;

import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.RedisRateLimiters;
import dev.ratelimiter.redis.testing.RedisCluster;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * Concurrency: as AsyncRedisAcquireBenchmark: one benchmark thread fires decisions, their stages
 * complete on Lettuce's event loops and release the window's permits; the tear-down drains the
 * window, after which no decision is in flight and the failure fields are visible.
 */
/**
 * This project's token bucket on a Redis Cluster of three masters (started here, each a
 * {@code redis-server} of its own on this machine), one thread keeping {@code inFlight}
 * decisions in flight over one Lettuce cluster connection, each decision on the next of
 * {@code keys} keys, which spread over the slots of all three masters: the shape of
 * {@link AsyncRedisAcquireBenchmark} with {@code keys=1024}, whose one server is the one-master
 * figure beside it. Besides decisions per second it reports the Redis time of the script calls,
 * summed over the masters ({@code INFO commandstats}: {@code usec} and {@code calls} of
 * {@code EVALSHA}), so that the suite table prints the Redis time per decision of each shape.
 *
 * <p>On one machine the three masters share its cores with the client, so the cluster cannot go
 * faster than one server here; what scales on real hardware (a core per master) is the per-shard
 * figure: decisions per second per master are bounded by one over its Redis time per decision.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
@State(Scope.Benchmark)
public class ClusterAcquireBenchmark {

    /** The decisions kept in flight. */
    @Param({"64"})
    public int inFlight;

    /** The keys the decisions go round, spread over the masters by their hash slots. */
    @Param({"1024"})
    public int keys;

    private static final long STALL_SECONDS = 30;

    private RedisCluster cluster;
    private RedisClusterClient client;
    private StatefulRedisClusterConnection<String, String> connection;
    private RedisRateLimiters.KeyedLimiter limiter;
    private Ring<String> names;
    private Semaphore window;
    private int masters;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** Starts the cluster, connects, and checks that a decision grants on every master. */
    @Setup(Level.Trial)
    public void setUp() {
        if (inFlight < 1 || keys < 1) {
            throw new IllegalArgumentException("inFlight and keys must be >= 1: inFlight=" + inFlight + ", keys=" + keys);
        }
        cluster = RedisCluster.start();
        try {
            client = RedisClusterClient.create(cluster.seedUris().stream().map(RedisURI::create).toList());
            connection = client.connect();
            limiter = RedisRateLimiters.builder(connection.async()).build()
                    .keyed(RedisFixture.NAME, TokenBucket.of(RedisFixture.HUGE, RedisFixture.RATE, Duration.ofSeconds(1)));
            List<String> keyNames = java.util.stream.IntStream.range(0, keys).mapToObj(i -> "k" + i).toList();
            java.util.Set<Integer> masters = new java.util.HashSet<>();
            for (String name : keyNames) {
                masters.add(cluster.portOfSlot(cluster.keySlot(limiter.redisKey(name))));
                if (!limiter.tryAcquire(name)) {
                    throw new IllegalStateException("the always granting limit refused key " + name);
                }
            }
            names = new Ring<>(keyNames);
            this.masters = masters.size();
            window = new Semaphore(inFlight);
            System.out.println("# Redis Cluster " + cluster + ", " + cluster.version() + "; " + keys + " keys on "
                    + masters.size() + " masters, " + inFlight + " in flight");
        } catch (RuntimeException | Error e) {
            tearDown(); // JMH runs no tear-down after a failed set-up
            throw e;
        }
    }

    /** Disconnects and stops the cluster. */
    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (connection != null) {
                connection.close();
            }
            if (client != null) {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        } finally {
            connection = null;
            client = null;
            if (cluster != null) {
                cluster.close();
                cluster = null;
            }
        }
    }

    /** @return how many masters hold the keys' slots */
    int masters() {
        return masters;
    }

    /** @return {calls, usec} of {@code EVALSHA} summed over the masters */
    long[] scriptStats() {
        long[] sum = new long[2];
        for (RedisProcess node : cluster.nodes()) {
            try (RespClient admin = node.client()) {
                Map<String, long[]> stats = RedisFixture.commandStats(admin.callString("INFO", "commandstats"));
                long[] evalsha = stats.getOrDefault("evalsha", new long[2]);
                sum[0] += evalsha[0];
                sum[1] += evalsha[1];
            }
        }
        return sum;
    }

    void drain() throws InterruptedException {
        if (!window.tryAcquire(inFlight, STALL_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("decisions still in flight after " + STALL_SECONDS + " s");
        }
        window.release(inFlight);
        Throwable failed = failure.get();
        if (failed != null) {
            throw new IllegalStateException("a decision failed", failed);
        }
        if (refused.get() != 0) {
            throw new IllegalStateException("refused " + refused.get() + " requests of the always granting limit");
        }
    }

    /** The iteration's counters: decisions, and the script calls and their Redis time on all masters. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counters {

        /** Decisions made in the iteration. */
        public long decisions;

        /** {@code EVALSHA} calls the masters ran in the iteration. */
        public long scriptCalls;

        /** Microseconds the masters spent in them ({@code usec} of {@code INFO commandstats}). */
        public long scriptMicros;

        private long[] before;

        /**
         * Takes the first reading.
         *
         * @param benchmark the benchmark state
         */
        @Setup(Level.Iteration)
        public void begin(ClusterAcquireBenchmark benchmark) {
            decisions = 0;
            before = benchmark.scriptStats();
        }

        /**
         * Waits for the decisions in flight, checks them, and takes the last reading.
         *
         * @param benchmark the benchmark state
         * @throws InterruptedException if interrupted while waiting
         */
        @TearDown(Level.Iteration)
        public void end(ClusterAcquireBenchmark benchmark) throws InterruptedException {
            benchmark.drain();
            long[] after = benchmark.scriptStats();
            scriptCalls = after[0] - before[0];
            scriptMicros = after[1] - before[1];
        }
    }

    /**
     * Fires one decision, on the next key, once fewer than {@code inFlight} are outstanding.
     *
     * @param counters the iteration's counters
     * @throws InterruptedException if interrupted while waiting for a slot
     */
    @Benchmark
    public void decide(Counters counters) throws InterruptedException {
        if (!window.tryAcquire(STALL_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no reply for " + STALL_SECONDS + " s");
        }
        counters.decisions++;
        limiter.tryAcquireAsync(names.next(), 1).whenComplete((granted, failed) -> {
            if (failed != null) {
                failure.compareAndSet(null, failed);
            } else if (!granted) {
                refused.incrementAndGet();
            }
            window.release();
        });
    }
}

package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The sliding log's work per call is bounded whatever its size: a log of 10^6 entries decides
 * every kind of call (a refusal, a refused huge request, an oversized one, the first decision
 * after the whole window expired) in well under a millisecond of Redis time, read from
 * {@code SLOWLOG}; and its Redis time per call ({@code INFO commandstats}) stays within twice the
 * token bucket's on the same server and workload. Starts its own server.
 */
class RedisSlidingLogScaleTest {

    private static final int ENTRIES = 1_000_000;
    private static final Duration WINDOW = Duration.ofHours(1);

    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);

    private RedisRateLimiters limiters(StatefulRedisConnection<String, String> connection) {
        return RedisRateLimiters.builder(connection.async()).prefix("scale:").failurePolicy(FailurePolicy.propagate())
                .timeout(Duration.ofSeconds(10)).clientTime(nanos::get, TimeUnit.MICROSECONDS, 0)
                .ttlGrace(Duration.ofHours(1)).build();
    }

    @Test
    void aLogOfAMillionEntriesDecidesEveryCallInBoundedWork() throws Exception {
        try (RedisProcess redis = RedisProcess.start(); RespClient admin = redis.client()) {
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                RedisRateLimiters.KeyedLimiter log = limiters(connection).keyed("log",
                        SlidingWindow.log(ENTRIES, WINDOW));
                String key = log.redisKey("u");
                admin.call("CONFIG", "SET", "slowlog-log-slower-than", "1000");
                admin.call("SLOWLOG", "RESET");
                // 10^6 single-permit grants, one microsecond apart, pipelined.
                Semaphore inFlight = new Semaphore(512);
                List<CompletableFuture<Decision>> last = new ArrayList<>();
                for (int i = 0; i < ENTRIES; i++) {
                    inFlight.acquire();
                    CompletableFuture<Decision> d = log.decideAsync("u", 1).toCompletableFuture();
                    d.whenComplete((x, e) -> inFlight.release());
                    if (i >= ENTRIES - 512) {
                        last.add(d);
                    }
                    nanos.addAndGet(1_000);
                }
                for (CompletableFuture<Decision> d : last) {
                    assertThat(d.get(30, TimeUnit.SECONDS).isAllowed()).isTrue();
                }
                assertThat(connection.sync().zcard(key)).isEqualTo(ENTRIES + 1); // and the head
                System.out.printf("building %d entries: %d script calls above 1 ms (SLOWLOG, noise included)%n",
                        ENTRIES, slowScriptCalls(admin, 1000).size());

                // Every call from here on is logged with its duration.
                admin.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
                admin.call("CONFIG", "SET", "slowlog-max-len", "100000"); // Redis 7 logs a script's commands too
                admin.call("SLOWLOG", "RESET");
                Decision full = log.decide("u", 1);
                assertThat(full.isAllowed()).isFalse();
                assertThat(full.retryAfter()).isEqualTo(WINDOW.minus(Duration.ofSeconds(1))); // the oldest leaves
                Decision huge = log.decide("u", ENTRIES);
                assertThat(huge.isAllowed()).isFalse();
                assertThat(huge.retryAfter()).isEqualTo(WINDOW.minusNanos(1_000)); // the newest leaves
                Decision half = log.decide("u", ENTRIES / 2);
                assertThat(half.isAllowed()).isFalse();
                assertThat(half.retryAfter()).isEqualTo(WINDOW.minus(Duration.ofMillis(500)).minusNanos(1_000));
                Decision oversized = log.decide("u", ENTRIES + 1);
                assertThat(oversized.exceedsLimit()).isTrue();
                assertThat(oversized.remaining()).isZero();

                nanos.addAndGet(WINDOW.toNanos()); // every entry has left the window
                Decision afterExpiry = log.decide("u", 1);
                assertThat(afterExpiry.isAllowed()).isTrue();
                assertThat(afterExpiry.remaining()).isEqualTo(ENTRIES - 1);
                long size = connection.sync().zcard(key);
                assertThat(size).as("at most 128 stale entries removed per call").isEqualTo(ENTRIES + 2 - 128);
                Decision hugeAfter = log.decide("u", ENTRIES - 1);
                assertThat(hugeAfter.isAllowed()).isTrue();
                assertThat(log.decide("u", 1).retryAfter()).isEqualTo(WINDOW); // both grants are at now
                assertThat(connection.sync().pttl(key)).isPositive();

                List<Long> durations = slowScriptCalls(admin, 0);
                long max = durations.stream().mapToLong(Long::longValue).max().orElseThrow();
                System.out.printf("log of %d entries: script calls %s us (SLOWLOG), max %d us%n", ENTRIES,
                        durations, max);
                // The target, no call above 1 ms, is a measurement (printed above, and in the
                // closing note of the hardening issue): a shared CI machine can stall any call.
                // The assertion guards the bound's order of magnitude: the list-based log this
                // replaced took 338 ms for one refusal at 10^5 entries.
                assertThat(max).as("the slowest script call, us").isLessThan(50_000);
                assertThat(durations).hasSize(7);
            } finally {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }
    }

    @Test
    void theLogsRedisTimePerCallStaysNearTheTokenBuckets() throws Exception {
        try (RedisProcess redis = RedisProcess.start(); RespClient admin = redis.client()) {
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                RedisRateLimiters limiters = limiters(connection);
                // The same workload for both: 100 keys, each asked 2 permits every 10 ms of a limit
                // of 100 per second (so about half refused), the window sliding all along.
                RedisRateLimiters.KeyedLimiter bucket = limiters.keyed("bucket",
                        TokenBucket.of(100, 100, Duration.ofSeconds(1)));
                RedisRateLimiters.KeyedLimiter log = limiters.keyed("log",
                        SlidingWindow.log(100, Duration.ofSeconds(1)));
                run(bucket, 2_000); // warm-up: the script cache, the JIT
                run(log, 2_000);
                double[] bucketUs = new double[3];
                double[] logUs = new double[3];
                for (int round = 0; round < 3; round++) {
                    admin.call("CONFIG", "RESETSTAT");
                    run(bucket, 20_000);
                    bucketUs[round] = usecPerCall(admin);
                    admin.call("CONFIG", "RESETSTAT");
                    run(log, 20_000);
                    logUs[round] = usecPerCall(admin);
                }
                double b = median(bucketUs);
                double l = median(logUs);
                System.out.printf("Redis %s, usec_per_call of EVALSHA: token bucket %s, sliding log %s (medians %.2f,"
                        + " %.2f: ratio %.2f)%n", redis.version(), java.util.Arrays.toString(bucketUs),
                        java.util.Arrays.toString(logUs), b, l, l / b);
                // The target, within 2x of the bucket, is a measurement (printed above); the
                // assertion, within 4x, guards it against a regression to per-entry work without
                // failing on a loaded machine's noise.
                assertThat(l).as("the log's usec_per_call against the bucket's %.2f", b).isLessThanOrEqualTo(4 * b);
            } finally {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }
    }

    private void run(RedisRateLimiters.KeyedLimiter limiter, int calls) throws Exception {
        Semaphore inFlight = new Semaphore(64);
        List<CompletableFuture<Decision>> all = new ArrayList<>(calls);
        for (int i = 0; i < calls; i++) {
            inFlight.acquire();
            CompletableFuture<Decision> d = limiter.decideAsync("u" + (i % 100), 2).toCompletableFuture();
            d.whenComplete((x, e) -> inFlight.release());
            all.add(d);
            if (i % 100 == 99) {
                nanos.addAndGet(Duration.ofMillis(10).toNanos());
            }
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double usecPerCall(RespClient admin) {
        for (String line : admin.callString("INFO", "commandstats").split("\r\n")) {
            if (line.startsWith("cmdstat_evalsha:")) {
                String v = line.substring(line.indexOf("usec_per_call=") + "usec_per_call=".length());
                return Double.parseDouble(v.substring(0, v.indexOf(',')));
            }
        }
        throw new AssertionError("no cmdstat_evalsha");
    }

    /** @return the durations (us) of the script calls SLOWLOG holds at or above {@code minMicros} */
    private static List<Long> slowScriptCalls(RespClient admin, long minMicros) {
        List<Long> durations = new ArrayList<>();
        for (Object entry : (List<?>) admin.call("SLOWLOG", "GET", "100000")) {
            List<?> e = (List<?>) entry;
            String command = (String) ((List<?>) e.get(3)).get(0);
            long micros = (Long) e.get(2);
            if ((command.equalsIgnoreCase("evalsha") || command.equalsIgnoreCase("eval")) && micros >= minMicros) {
                durations.add(0, micros); // SLOWLOG lists the newest first
            }
        }
        return durations;
    }
}

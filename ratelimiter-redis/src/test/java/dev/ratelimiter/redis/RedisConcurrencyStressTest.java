package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.RedisExtension;
import dev.ratelimiter.redis.testing.RespClient;
import dev.ratelimiter.redis.testing.StandaloneRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Many deciders on one key, in Redis-time mode: 16 threads over one shared Lettuce connection in
 * this JVM plus a second JVM process, all on the same key at once. Redis runs each script
 * atomically and every script reads Redis {@code TIME}, so the permits granted over the run, from
 * both processes, never exceed what the limit allows over the Redis-time interval that contains
 * every decision: {@code TIME} read before the first call and after the last reply.
 */
@ExtendWith(RedisExtension.class)
class RedisConcurrencyStressTest {

    private static final int THREADS = 16;
    private static final Duration RUN = Duration.ofSeconds(3);

    @Test
    public void sixteenThreadsAndASecondProcessNeverAdmitMoreThanBurstPlusRateTimesElapsed(StandaloneRedis redis)
            throws Exception {
        // 1 permit per 5 ms after a burst of 50: far fewer than the attempts, so most are refused.
        long capacity = 50;
        long permits = 200;
        Duration period = Duration.ofSeconds(1);
        long[] run = hammerFromTwoProcesses(redis, "tb", capacity, permits, period);
        long granted = run[0];
        long elapsedMicros = run[1];
        // Over any interval t of Redis time the token bucket grants at most C + floor(t * R / P).
        long bound = capacity + BigInteger.valueOf(elapsedMicros).multiply(BigInteger.valueOf(permits))
                .divide(BigInteger.valueOf(period.toNanos() / 1000)).longValueExact();
        assertThat(granted).as("permits granted over %s us of Redis time", elapsedMicros).isLessThanOrEqualTo(bound);
        // The limit was the constraint, not the load: the grants come close to the bound.
        assertThat(granted).as("permits granted").isGreaterThan(bound / 2);
    }

    @Test
    public void withoutTheRefusalCacheEveryDecisionReachesRedisCoalescedAndTheBoundStillHolds(StandaloneRedis redis)
            throws Exception {
        // Every refusal is asked of Redis too, so the 16 threads are nearly always in flight on
        // the key at once: their decisions go coalesced, several per script call.
        long capacity = 50;
        long permits = 200;
        Duration period = Duration.ofSeconds(1);
        long[] run = hammerFromTwoProcesses(redis, "tb-no-cache", capacity, permits, period);
        long bound = capacity + BigInteger.valueOf(run[1]).multiply(BigInteger.valueOf(permits))
                .divide(BigInteger.valueOf(period.toNanos() / 1000)).longValueExact();
        assertThat(run[0]).as("permits granted over %s us of Redis time", run[1]).isLessThanOrEqualTo(bound);
        assertThat(run[0]).as("permits granted").isGreaterThan(bound / 2);
        assertThat(run[3]).as("script calls for %s decisions of both processes", run[2]).isLessThan(run[2] / 2);
    }

    @Test
    public void slidingWindowLogUnderTheSameLoadNeverExceedsItsLimitPerWindow(StandaloneRedis redis) throws Exception {
        long limit = 40;
        Duration window = Duration.ofMillis(500);
        long[] run = hammerFromTwoProcesses(redis, "log", limit, 0, window);
        long granted = run[0];
        long elapsedMicros = run[1];
        // Every decision lies in an interval of length t: at most L per window, ceil(t / W) + 1 windows.
        long windows = Math.floorDiv(elapsedMicros, window.toNanos() / 1000) + 1;
        assertThat(granted).as("permits granted over %s us of Redis time", elapsedMicros)
                .isLessThanOrEqualTo(limit * windows);
        assertThat(granted).isGreaterThan(limit * (windows - 1) / 2);
    }

    /**
     * Runs the load: the second process first (it announces when it is connected, then starts
     * deciding once told, after this process's first {@code TIME} reading), then the threads of
     * this JVM, for {@link #RUN} each.
     *
     * @return {permits granted by both processes, Redis microseconds from before the first call
     *     to after the last, decisions of both processes, script calls Redis ran meanwhile}
     */
    private static long[] hammerFromTwoProcesses(StandaloneRedis redis, String kind, long max, long permits,
                                                 Duration period) throws Exception {
        String prefix = SharedConnection.freshPrefix();
        RedisClient client = RedisClient.create(redis.uri());
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        Process other = null;
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            RateLimiter limiter = limiter(connection, prefix, kind, max, permits, period);
            other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), SecondProcess.class.getName(),
                    redis.uri(), prefix, kind, Long.toString(max), Long.toString(permits),
                    Long.toString(period.toNanos()), Long.toString(RUN.toMillis()))
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).as("the second process started").isEqualTo("started");
            // The bound holds from any starting state: count only the grants after this reading.
            long before = redisMicros(connection);
            long scriptsBefore = scriptCalls(redis);
            other.getOutputStream().write('\n');
            other.getOutputStream().flush();
            assertThat(out.readLine()).as("the second process is deciding").isEqualTo("go");

            CountDownLatch start = new CountDownLatch(1);
            List<Future<long[]>> counts = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                long seed = t;
                counts.add(pool.submit(() -> {
                    start.await();
                    return hammer(limiter, RUN, seed);
                }));
            }
            start.countDown();
            long granted = 0;
            long refused = 0;
            long decisions = 0;
            for (Future<long[]> f : counts) {
                long[] c = f.get(RUN.toMillis() + 30_000, TimeUnit.MILLISECONDS);
                granted += c[0];
                refused += c[1];
                decisions += c[2];
            }
            String result = out.readLine();
            long after = redisMicros(connection); // both processes have had their last reply
            long scripts = scriptCalls(redis) - scriptsBefore;
            assertThat(other.waitFor(30, TimeUnit.SECONDS)).as("the second process ended").isTrue();
            assertThat(other.exitValue()).isZero();
            assertThat(result).as("the second process's count").startsWith("granted=");
            String[] parts = result.split("[= ]");
            long otherGranted = Long.parseLong(parts[1]);
            long otherRefused = Long.parseLong(parts[3]);
            long otherDecisions = Long.parseLong(parts[5]);
            assertThat(otherGranted).as("the second process was granted permits too").isPositive();
            assertThat(refused).as("this process was refused").isPositive();
            assertThat(otherRefused).as("the second process was refused").isPositive();
            return new long[] {granted + otherGranted, after - before, decisions + otherDecisions, scripts};
        } finally {
            if (other != null && other.isAlive()) {
                other.destroyForcibly();
            }
            pool.shutdownNow();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    private static RateLimiter limiter(StatefulRedisConnection<String, String> connection, String prefix, String kind,
                                       long max, long permits, Duration period) {
        Limit limit = kind.startsWith("tb") ? TokenBucket.of(max, permits, period) : SlidingWindow.log(max, period);
        // The defaults otherwise: the refusal cache and coalescing on.
        RedisRateLimiters.Builder builder = RedisRateLimiters.builder(connection.async())
                .failurePolicy(FailurePolicy.propagate()).prefix(prefix).timeout(Duration.ofSeconds(10));
        if (kind.equals("tb-no-cache")) {
            builder.refusalCache(0);
        }
        return builder.build().create("stress", limit);
    }

    /** @return {permits granted, requests refused, requests} over {@code run}, asking for 1 or 2 permits */
    private static long[] hammer(RateLimiter limiter, Duration run, long seed) {
        long deadline = System.nanoTime() + run.toNanos();
        long granted = 0;
        long refused = 0;
        long i = seed;
        while (System.nanoTime() - deadline < 0) {
            long n = 1 + (i++ % 3 == 0 ? 1 : 0);
            if (limiter.tryAcquire(n)) {
                granted += n;
            } else {
                refused++;
            }
        }
        return new long[] {granted, refused, i - seed};
    }


    private static long scriptCalls(StandaloneRedis redis) {
        try (RespClient admin = redis.client()) {
            return admin.scriptCalls();
        }
    }

    private static long redisMicros(StatefulRedisConnection<String, String> connection) {
        List<String> time = connection.sync().time();
        return Long.parseLong(time.get(0)) * 1_000_000L + Long.parseLong(time.get(1));
    }

    /**
     * The second process: the same limiter on the same key, hammered by two threads over one
     * connection for a bounded time. Prints {@code started} once connected, waits for a line on
     * its input, prints {@code go}, decides, then prints {@code granted=<permits> refused=<requests>}.
     */
    static final class SecondProcess {
        private SecondProcess() {
        }

        public static void main(String[] args) throws Exception {
            RedisClient client = RedisClient.create(args[0]);
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                RateLimiter limiter = limiter(connection, args[1], args[2], Long.parseLong(args[3]),
                        Long.parseLong(args[4]), Duration.ofNanos(Long.parseLong(args[5])));
                Duration run = Duration.ofMillis(Long.parseLong(args[6]));
                // Connect and load the script before announcing; the counts start after it.
                boolean probe = limiter.tryAcquire(1);
                System.out.println("started");
                System.out.flush();
                // Wait for the parent's first TIME reading: every counted decision comes after it.
                if (System.in.read() < 0) {
                    throw new IllegalStateException("the parent closed its pipe before the start: probe=" + probe);
                }
                System.out.println("go");
                System.out.flush();
                ExecutorService pool = Executors.newFixedThreadPool(2);
                try {
                    Future<long[]> a = pool.submit(() -> hammer(limiter, run, 0));
                    Future<long[]> b = pool.submit(() -> hammer(limiter, run, 1));
                    long[] x = a.get();
                    long[] y = b.get();
                    System.out.println("granted=" + (x[0] + y[0]) + " refused=" + (x[1] + y[1]) + " requests=" + (x[2] + y[2]));
                    System.out.flush();
                } finally {
                    pool.shutdownNow();
                }
            } catch (IOException | RuntimeException e) {
                e.printStackTrace();
                System.exit(1);
            } finally {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }
    }
}

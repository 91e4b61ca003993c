package dev.ratelimiter.redis;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.redis.testing.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One Lettuce connection, shared by the test classes of a run, and fresh key prefixes so that no
 * two limiters of a run share state.
 *
 * <p>It connects to the harness's shared standalone server ({@code REDIS_URL} when set), which
 * lives until the JVM exits, so the jqwik properties of the conformance suites, run after JUnit
 * Jupiter on another engine, still find it.
 */
final class SharedConnection {

    private static final AtomicLong PREFIXES = new AtomicLong();
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    private SharedConnection() {
    }

    /** @return the shared connection, opened on first use */
    static synchronized StatefulRedisConnection<String, String> get() {
        if (connection == null) {
            client = RedisClient.create(RedisServers.standalone().uri());
            connection = client.connect();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                connection.close();
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }, "lettuce-shutdown"));
        }
        return connection;
    }

    /** @return a key prefix no other limiter of this run uses */
    static String freshPrefix() {
        return "t" + PREFIXES.incrementAndGet() + ":";
    }

    /**
     * A client-time limiter on a fresh prefix, in nanoseconds from the ticker's current reading,
     * with a TTL grace of an hour so that no state expires while a fake clock stands still.
     */
    static RateLimiter clientTime(Limit limit, Ticker ticker, Sleeper sleeper) {
        return RedisRateLimiters.builder(get().async())
                .prefix(freshPrefix())
                .clientTime(ticker, TimeUnit.NANOSECONDS, ticker.read())
                .ttlGrace(Duration.ofHours(1))
                // Correctness tests must not depend on the machine's speed: a loaded machine may
                // take well over the default second to answer. Timeouts have tests of their own.
                .timeout(Duration.ofSeconds(30))
                .sleeper(sleeper)
                // A Redis failure must fail the test, not be answered by the local fallback.
                .failurePolicy(FailurePolicy.propagate())
                .build()
                .create("conformance", limit);
    }

    /** @return whether a Redis limiter in nanoseconds accepts the limit */
    /**
     * What the Redis conformance suites accept: limits whose numbers fit the scripts' exact range
     * in nanoseconds, and whose time scale is at most 2^44 ns (about 4.9 hours), so that the
     * clock of a whole generated script (up to 160 time scales) stays below 2^53.
     */
    static boolean runsExactly(Limit limit, long timeScaleNanos) {
        return fitsNanoseconds(limit) && timeScaleNanos <= 1L << 44;
    }

    /**
     * The suite's time scale of a limit, or, for a limit of another kind of the family (a
     * reconfiguration's target), its time to refill from empty in nanoseconds: the longest its
     * state stays not full.
     */
    static long timeScaleOf(Limit limit, java.util.function.ToLongFunction<Limit> suiteScale) {
        try {
            return suiteScale.applyAsLong(limit);
        } catch (ClassCastException otherKind) {
            try {
                return LimitArgs.of(limit, 1).span;
            } catch (IllegalArgumentException tooLarge) {
                return Long.MAX_VALUE;
            }
        }
    }

    /**
     * Whether a reconfiguration from {@code current} to {@code target} keeps a bucket's rate
     * (permits per period), the reconfigurations the generated scripts of the bucket suites make:
     * Redis keeps a stored debt exact under any rate while the reference model rounds it at each
     * change of rate (see {@code RateLimiterContract#acceptsReconfiguration});
     * {@code RedisOperationsTest} covers changes of rate. Windows always keep it.
     */
    static boolean keepsTheRate(Limit current, Limit target) {
        long[] a = rate(current);
        long[] b = rate(target);
        return a == null || b == null
                || java.math.BigInteger.valueOf(a[0]).multiply(java.math.BigInteger.valueOf(b[1]))
                        .equals(java.math.BigInteger.valueOf(b[0]).multiply(java.math.BigInteger.valueOf(a[1])));
    }

    /** @return {permits, period in ns} of a bucket, or {@code null} for a window */
    private static long[] rate(Limit limit) {
        if (limit instanceof dev.ratelimiter.TokenBucket tb) {
            return new long[] {tb.refillPermits(), tb.refillPeriodNanos()};
        }
        if (limit instanceof dev.ratelimiter.LeakyBucket lb) {
            return new long[] {lb.permits(), lb.periodNanos()};
        }
        return null;
    }

    static boolean fitsNanoseconds(Limit limit) {
        try {
            LimitArgs.of(limit, 1);
            return true;
        } catch (IllegalArgumentException tooLarge) {
            return false;
        }
    }
}

package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.RedisExtension;
import dev.ratelimiter.redis.testing.StandaloneRedis;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * No key leaks at scale: 10,000 limiter keys, over every algorithm and both time modes, each
 * decided on a few times and then left idle. While they are in use, a full {@code SCAN} finds no
 * key without a TTL; once idle past their full-refill time, Redis's own expiry removes every one
 * of them ({@code DBSIZE} reaches 0).
 */
@ExtendWith(RedisExtension.class)
class RedisKeyExpiryTest {

    /** A database of its own, so that DBSIZE and SCAN see only this class's keys. */
    private static final int DATABASE = 11;
    private static final int KEYS = 10_000;
    /** Keys decided on between two full scans. */
    private static final int SCAN_EVERY = 1_000;

    /** Short limits: each key is full again, and expires, well under a second after its last use. */
    private static final List<Limit> LIMITS = List.of(
            TokenBucket.of(3, 3, Duration.ofMillis(150)),
            LeakyBucket.meter(10, Duration.ofMillis(100), 2),
            LeakyBucket.queue(10, Duration.ofMillis(100), 3),
            SlidingWindow.log(3, Duration.ofMillis(100)),
            SlidingWindow.counter(3, Duration.ofMillis(100)));

    @Test
    public void tenThousandIdleKeysAllExpireAndNoneIsEverWithoutATtl(StandaloneRedis redis) {
        RedisClient client = RedisClient.create(redis.uri() + "/" + DATABASE);
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            RedisCommands<String, String> sync = connection.sync();
            sync.flushdb();
            List<RedisRateLimiters.KeyedLimiter> limiters = new ArrayList<>();
            String prefix = SharedConnection.freshPrefix();
            for (boolean clientTime : new boolean[] {false, true}) {
                RedisRateLimiters.Builder b = RedisRateLimiters.builder(connection.async()).failurePolicy(FailurePolicy.propagate()).prefix(prefix)
                        .timeout(Duration.ofSeconds(10));
                if (clientTime) {
                    b.clientTime(() -> System.currentTimeMillis() * 1_000_000L, TimeUnit.MICROSECONDS, 0)
                            .ttlGrace(Duration.ofMillis(50));
                }
                RedisRateLimiters factory = b.build();
                for (int i = 0; i < LIMITS.size(); i++) {
                    limiters.add(factory.keyed((clientTime ? "client" : "redis") + i, LIMITS.get(i)));
                }
            }

            long scanned = 0;
            List<CompletableFuture<Decision>> pending = new ArrayList<>();
            for (int k = 0; k < KEYS; k++) {
                RedisRateLimiters.KeyedLimiter limiter = limiters.get(k % limiters.size());
                String key = "user" + k;
                // Grants, a refusal on the full ones, and a request beyond the limit.
                for (long permits : new long[] {1, 2, 3, 4}) {
                    pending.add(limiter.decideAsync(key, permits).toCompletableFuture());
                }
                if ((k + 1) % SCAN_EVERY == 0) {
                    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
                    pending.clear();
                    scanned += assertEveryKeyHasATtl(connection.async());
                }
            }
            assertThat(scanned).as("keys seen by the scans while in use").isPositive();

            // Waiting here is for Redis's own expiry, not to drive a limiter's clock.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long size = sync.dbsize();
            while (size > 0 && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                size = sync.dbsize();
            }
            assertThat(size).as("keys left once every limit is full again").isZero();
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    /**
     * Scans the whole database and asks every key's PTTL: -2 (expired between the scan and the
     * question) is fine, -1 (no TTL) is a leak.
     *
     * @return the number of keys scanned
     */
    private static long assertEveryKeyHasATtl(RedisAsyncCommands<String, String> async) {
        long count = 0;
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = async.scan(cursor, ScanArgs.Builder.limit(1000)).toCompletableFuture().join();
            List<String> keys = page.getKeys();
            List<RedisFuture<Long>> ttls = new ArrayList<>(keys.size());
            for (String key : keys) {
                ttls.add(async.pttl(key));
            }
            for (int i = 0; i < keys.size(); i++) {
                long pttl = ttls.get(i).toCompletableFuture().join();
                assertThat(pttl).as("PTTL of %s", keys.get(i)).isNotEqualTo(-1L).isGreaterThanOrEqualTo(-2L);
            }
            count += keys.size();
            cursor = page;
        } while (!cursor.isFinished());
        return count;
    }
}

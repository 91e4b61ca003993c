package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every script on a Redis out of memory ({@code maxmemory} reached, {@code noeviction}): a
 * decision that would write is refused by Redis at its first write, which must therefore be a
 * command Redis checks against maxmemory (a write such as {@code DEL} or {@code PEXPIRE} first
 * would switch the check off for the rest of the script), and nothing is written. The failure
 * policy answers the call. The test starts its own server and fills it until writes fail.
 */
class RedisOutOfMemoryTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);

    private static List<Limit> everyAlgorithm() {
        return List.of(
                TokenBucket.of(10, 1, Duration.ofHours(1)),
                LeakyBucket.meter(1, Duration.ofHours(1), 10),
                LeakyBucket.queue(1, Duration.ofHours(1), 10),
                SlidingWindow.log(10, Duration.ofHours(1)),
                SlidingWindow.counter(10, Duration.ofHours(1)));
    }

    @Test
    void outOfMemoryEveryScriptIsRefusedWritesNothingAndThePolicyAnswers() throws Exception {
        try (RedisProcess redis = RedisProcess.start("--maxmemory", "8mb", "--maxmemory-policy", "noeviction");
             RespClient admin = redis.client()) {
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
                Function<FailurePolicy, RedisRateLimiters> limiters = policy -> RedisRateLimiters
                        .builder(connection.async()).prefix("oom:").failurePolicy(policy)
                        .failureListener(failures::add)
                        .clientTime(nanos::get, TimeUnit.MICROSECONDS, 0).ttlGrace(Duration.ofHours(1))
                        .sleeper(n -> nanos.addAndGet(n)).build();
                RedisRateLimiters propagate = limiters.apply(FailurePolicy.propagate());
                RedisRateLimiters closed = limiters.apply(FailurePolicy.failClosed(Duration.ofSeconds(7)));

                // One keyed limiter and one composite (a group limit and a per-key limit) per
                // algorithm, and a composite of all five; each with state before memory runs out.
                Map<String, RedisRateLimiters.KeyedLimiter> keyed = new LinkedHashMap<>();
                Map<String, CompositeLimiter> composites = new LinkedHashMap<>();
                List<Limit> all = everyAlgorithm();
                for (int i = 0; i < all.size(); i++) {
                    keyed.put("keyed" + i, propagate.keyed("k" + i, all.get(i)));
                    composites.put("composite" + i, propagate.composite("c" + i, k -> "g",
                            List.of(all.get(i)), List.of(all.get((i + 1) % all.size()))));
                }
                composites.put("composite-all", propagate.composite("call", all.toArray(new Limit[0])));
                for (RedisRateLimiters.KeyedLimiter k : keyed.values()) {
                    assertThat(k.decide("old", 1).isAllowed()).isTrue();
                }
                for (CompositeLimiter c : composites.values()) {
                    assertThat(c.decide("old", 1).isAllowed()).isTrue();
                }
                // A composite whose per-key limit is used up: its group limit would grant.
                CompositeLimiter usedUp = propagate.composite("used", k -> "g",
                        List.of(TokenBucket.of(10, 1, Duration.ofDays(1))), List.of(TokenBucket.of(1, 1, Duration.ofDays(1))));
                assertThat(usedUp.decide("old", 1).isAllowed()).isTrue();
                nanos.addAndGet(Duration.ofMinutes(90).toNanos()); // the queue is empty again

                fill(admin);
                RedisCommands<String, String> sync = connection.sync();
                long keys = sync.dbsize();
                Map<String, Object> before = dumpAll(sync);
                long memoryBefore = usedMemory(admin);

                List<String> refused = new ArrayList<>();
                for (String user : List.of("old", "new")) {
                    for (Map.Entry<String, RedisRateLimiters.KeyedLimiter> e : keyed.entrySet()) {
                        assertThatThrownBy(() -> e.getValue().decide(user, 1)).as("%s %s", e.getKey(), user)
                                .isInstanceOf(RedisRateLimiterException.class).hasStackTraceContaining("OOM");
                        // A blocking acquire: the GCRA limits reserve (a script of its own), the
                        // windows poll; either way refused, and the policy answers.
                        assertThatThrownBy(() -> e.getValue().tryAcquire(user, 1, Duration.ofSeconds(1)))
                                .as("%s %s blocking", e.getKey(), user)
                                .isInstanceOf(RedisRateLimiterException.class).hasStackTraceContaining("OOM");
                        refused.add(e.getKey());
                    }
                    for (Map.Entry<String, CompositeLimiter> e : composites.entrySet()) {
                        assertThatThrownBy(() -> e.getValue().decide(user, 1)).as("%s %s", e.getKey(), user)
                                .isInstanceOf(RedisRateLimiterException.class).hasStackTraceContaining("OOM");
                        refused.add(e.getKey());
                    }
                }
                // A refusal needs no memory: refused by the limit itself, not by Redis, writing nothing
                // (were the group's grant written first, Redis would answer OOM and a fail-open
                // policy would admit the request).
                Decision byItsOwnLimit = usedUp.decide("old", 1);
                assertThat(byItsOwnLimit.isAllowed()).isFalse();
                assertThat(FailurePolicy.isUnchecked(byItsOwnLimit)).isFalse();
                // The same limits under fail-closed: answered by the policy, not thrown.
                for (int i = 0; i < all.size(); i++) {
                    Decision d = closed.keyed("k" + i, all.get(i)).decide("old", 1);
                    assertThat(d.isAllowed()).as("fail closed %s", all.get(i)).isFalse();
                    assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(7));
                    Decision c = closed.composite("c" + i, k -> "g", List.of(all.get(i)),
                            List.of(all.get((i + 1) % all.size()))).decide("new", 1);
                    assertThat(c.isAllowed()).as("fail closed composite %s", all.get(i)).isFalse();
                }
                assertThat(failures).isNotEmpty().allSatisfy(f -> assertThat(f).hasStackTraceContaining("OOM"));

                assertThat(sync.dbsize()).as("keys").isEqualTo(keys);
                assertThat(dumpAll(sync)).as("every key as it was").isEqualTo(before);
                // Loose: client buffers move used_memory a little; any write of state would show.
                assertThat(usedMemory(admin)).as("used_memory").isLessThan(memoryBefore + 64 * 1024);
            } finally {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }
    }

    /**
     * Writes 16 KiB values until Redis refuses with OOM, then lowers maxmemory to half the memory
     * used, so that the server stays out of memory whatever buffers come and go meanwhile (at
     * the limit itself, a freed query buffer is enough to let the next write pass), and checks
     * that a small write is refused.
     */
    private static void fill(RespClient admin) {
        String value = "x".repeat(16 * 1024);
        int i = 0;
        while (!(admin.command("SET", "fill:" + i++, value) instanceof RespClient.ErrorReply)) {
            if (i > 100_000) {
                throw new AssertionError("Redis never ran out of memory");
            }
        }
        admin.call("CONFIG", "SET", "maxmemory", Long.toString(usedMemory(admin) / 2));
        Object probe = admin.command("SET", "fill:probe", "1");
        assertThat(probe).isInstanceOf(RespClient.ErrorReply.class);
        assertThat(((RespClient.ErrorReply) probe).message()).startsWith("OOM");
    }

    private static long usedMemory(RespClient admin) {
        for (String line : admin.callString("INFO", "memory").split("\r\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()));
            }
        }
        throw new AssertionError("no used_memory in INFO memory");
    }

    /** @return every limiter key's type, value and TTL (the fill keys left out) */
    private static Map<String, Object> dumpAll(RedisCommands<String, String> r) {
        Map<String, Object> dump = new java.util.TreeMap<>();
        for (String key : r.keys("oom:*")) {
            Object value = switch (r.type(key)) {
                case "string" -> r.get(key);
                case "hash" -> r.hgetall(key);
                case "zset" -> r.zrangeWithScores(key, 0, -1).toString();
                case "list" -> r.lrange(key, 0, -1);
                default -> r.type(key);
            };
            dump.put(key, List.of(value, r.pttl(key) / 60_000)); // the TTL to the minute
        }
        return dump;
    }
}

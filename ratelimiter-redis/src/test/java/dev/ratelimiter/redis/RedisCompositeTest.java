package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Composite limits on a standalone Redis: all-or-nothing decisions, the most restrictive figures,
 * atomicity under concurrent callers, and TTLs. The clock is a client clock that stands still
 * unless a test moves it, so no permit comes back while a test counts.
 */
class RedisCompositeTest {

    /** The client clock, in nanoseconds; a fixed point far from the epoch. */
    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);

    private RedisRateLimiters limiters() {
        return RedisRateLimiters.builder(SharedConnection.get().async()).failurePolicy(FailurePolicy.propagate())
                .prefix(SharedConnection.freshPrefix())
                .clientTime(nanos::get, TimeUnit.MICROSECONDS, 0)
                .ttlGrace(Duration.ofHours(1))
                .build();
    }

    private static RedisCommands<String, String> redis() {
        return SharedConnection.get().sync();
    }

    private static List<Limit> everyAlgorithm(long max) {
        return List.of(
                TokenBucket.of(max, 1, Duration.ofHours(1)),
                LeakyBucket.meter(1, Duration.ofHours(1), max),
                LeakyBucket.queue(1, Duration.ofHours(1), max),
                SlidingWindow.log(max, Duration.ofHours(1)),
                SlidingWindow.counter(max, Duration.ofHours(1)));
    }

    @Test
    void grantedOnlyWhileEveryLimitGrantsAndReportsTheMostRestrictiveFigures() {
        CompositeLimiter perUser = limiters().composite("api",
                TokenBucket.of(10, 10, Duration.ofSeconds(1)), SlidingWindow.log(20, Duration.ofHours(1)));

        Decision first = perUser.decide("alice", 1);
        assertThat(first.isAllowed()).isTrue();
        assertThat(first.remaining()).isEqualTo(9); // min(10 - 1, 20 - 1)
        assertThat(first.reset()).isEqualTo(Duration.ofHours(1)); // the log's, the longer
        assertThat(first.limit()).isEqualTo(10);

        assertThat(perUser.decide("alice", 9).isAllowed()).isTrue();
        Decision refused = perUser.decide("alice", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.remaining()).isZero();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofMillis(100)); // the token bucket's refill
        assertThat(refused.reset()).isEqualTo(Duration.ofHours(1));

        nanos.addAndGet(Duration.ofSeconds(1).toNanos()); // the bucket is full again; the log has 10 left
        assertThat(perUser.decide("alice", 10).isAllowed()).isTrue();
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        Decision byTheLog = perUser.decide("alice", 1);
        assertThat(byTheLog.isAllowed()).isFalse();
        assertThat(byTheLog.remaining()).isZero();
        assertThat(byTheLog.retryAfter()).isEqualTo(Duration.ofHours(1).minusSeconds(2));

        Decision tooMany = perUser.decide("bob", 11);
        assertThat(tooMany.exceedsLimit()).isTrue();
        assertThat(tooMany.retryAfterNanos()).isEqualTo(Decision.NEVER);
        assertThat(tooMany.remaining()).isEqualTo(10);
        assertThat(perUser.decide("bob", 10).isAllowed()).isTrue();
    }

    @Test
    void aRefusalByOneLimitConsumesNothingInTheOthers() {
        // Every algorithm as the group's limit, refused by a tiny per-key limit, and the reverse.
        for (Limit limit : everyAlgorithm(10)) {
            if (isQueue(limit)) {
                continue; // grants only when empty: it never holds 10 at once
            }
            CompositeLimiter tenants = limiters().composite("t", RedisCompositeTest::tenantOf,
                    List.of(limit), List.of(TokenBucket.of(3, 1, Duration.ofHours(1))));
            long granted = 0;
            for (String user : List.of("a", "b", "c", "d", "e")) {
                for (int i = 0; i < 5; i++) {
                    if (tenants.tryAcquire("acme/" + user)) {
                        granted++;
                    }
                }
            }
            // Each user is refused twice by its own limit; the tenant's 10 must all still be there.
            assertThat(granted).as("%s", limit).isEqualTo(10);
        }
        for (Limit limit : everyAlgorithm(3)) {
            CompositeLimiter tenants = limiters().composite("t", RedisCompositeTest::tenantOf,
                    List.of(TokenBucket.of(2, 1, Duration.ofHours(1))), List.of(limit));
            assertThat(tenants.tryAcquire("acme/a")).isTrue();
            assertThat(tenants.tryAcquire("acme/b")).isTrue();
            // Refused by the tenant: the users' limits (a fresh one for c) keep all they had.
            assertThat(tenants.tryAcquire("acme/c")).isFalse();
            assertThat(tenants.tryAcquire("acme/a")).isFalse();
            assertThat(tenants.decide("acme/c", 4).remaining()).as("%s", limit).isZero();
            CompositeLimiter usersOnly = limiters().composite("u", limit);
            assertThat(usersOnly.tryAcquire("x", 1)).isTrue();
        }
    }

    @Test
    void aRefusedDecisionLeavesEveryKeyExactlyAsItWas() {
        for (Limit limit : everyAlgorithm(50)) {
            CompositeLimiter c = limiters().composite("same", RedisCompositeTest::tenantOf,
                    List.of(limit), List.of(TokenBucket.of(1, 1, Duration.ofHours(1))));
            for (int i = 4; i >= 0; i--) {
                // A queue grants only when empty: of these, only the first; the others all.
                assertThat(c.tryAcquire("g/u" + i)).isEqualTo(i == 4 || !isQueue(limit));
                nanos.addAndGet(1_000_000);
            }
            String groupKey = c.redisKeys("g/u0").get(0);
            assertThat(redis().type(groupKey)).isNotEqualTo("none");
            Object before = dump(groupKey);
            long ttlBefore = redis().pttl(groupKey);
            assertThat(c.tryAcquire("g/u0")).as("%s", limit).isFalse(); // refused by u0's own limit
            assertThat(dump(groupKey)).as("%s", limit).isEqualTo(before);
            // The TTL is restored too. A millisecond either way: Redis 6.2 reads a script's PTTL
            // against the script's start time and applies its PEXPIRE against the current time.
            assertThat(redis().pttl(groupKey)).isBetween(ttlBefore - 1000, ttlBefore + 2);
        }
    }

    private static Object dump(String key) {
        RedisCommands<String, String> r = redis();
        return switch (r.type(key)) {
            case "string" -> r.get(key);
            case "hash" -> r.hgetall(key);
            case "list" -> r.lrange(key, 0, -1);
            case "zset" -> r.zrangeWithScores(key, 0, -1).toString();
            default -> r.type(key);
        };
    }

    @Test
    void concurrentCallersNeverExceedAnyLimit() throws Exception {
        // One tenant of 100, ten users of 15 each: 150 wanted, 100 granted, no user above 15.
        CompositeLimiter c = limiters().composite("race", RedisCompositeTest::tenantOf,
                List.of(SlidingWindow.counter(100, Duration.ofHours(1))),
                List.of(TokenBucket.of(15, 1, Duration.ofHours(1)), SlidingWindow.log(40, Duration.ofHours(1))));
        Map<String, AtomicLong> perUser = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    List<CompletableFuture<Void>> calls = new ArrayList<>();
                    for (int i = 0; i < 40; i++) {
                        String user = "u" + ((thread + i) % 10);
                        long permits = 1 + (i % 3);
                        calls.add(c.decideAsync("t1/" + user, permits).toCompletableFuture().thenAccept(d -> {
                            if (d.isAllowed()) {
                                perUser.computeIfAbsent(user, u -> new AtomicLong()).addAndGet(permits);
                            }
                        }));
                    }
                    CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0])).join();
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        long total = perUser.values().stream().mapToLong(AtomicLong::get).sum();
        assertThat(perUser.values()).allSatisfy(g -> assertThat(g.get()).isLessThanOrEqualTo(15));
        assertThat(total).isLessThanOrEqualTo(100);
        // Refusals consumed nothing, so whatever is left is still grantable, one permit at a time.
        long more = 0;
        for (int u = 0; u < 10; u++) {
            while (c.tryAcquire("t1/u" + u)) {
                more++;
            }
        }
        assertThat(total + more).isEqualTo(100);
    }

    @Test
    void everyKeyOfADecisionHasATtl() {
        CompositeLimiter c = limiters().composite("ttl", RedisCompositeTest::tenantOf, everyAlgorithm(5),
                everyAlgorithm(4));
        assertThat(c.tryAcquire("t/u", 2)).isTrue();
        assertThat(c.tryAcquire("t/u", 3)).isFalse();
        List<String> keys = c.redisKeys("t/u");
        assertThat(keys).hasSize(10);
        for (String key : keys) {
            assertThat(redis().pttl(key)).as(key).isPositive();
        }
    }

    @Test
    void keysFollowTheDocumentedFormat() {
        RedisRateLimiters r = RedisRateLimiters.builder(SharedConnection.get().async()).failurePolicy(FailurePolicy.propagate()).prefix("p:").build();
        CompositeLimiter c = r.composite("api", RedisCompositeTest::tenantOf,
                List.of(TokenBucket.of(5, 1, Duration.ofSeconds(1))),
                List.of(TokenBucket.of(5, 1, Duration.ofSeconds(1)), SlidingWindow.log(3, Duration.ofSeconds(1))));
        assertThat(c.redisKeys("a{b}%/x}y")).containsExactly("p:{api:a%7Bb%7D%25}:g0", "p:{api:a%7Bb%7D%25}:k0:a{b}%/x}y",
                "p:{api:a%7Bb%7D%25}:k1:a{b}%/x}y");
        assertThat(r.composite("one", TokenBucket.of(5, 1, Duration.ofSeconds(1))).redisKeys("u"))
                .containsExactly("p:{one:u}:g0");
    }

    @Test
    void badConfigurationIsRefusedNamingTheValue() {
        RedisRateLimiters r = limiters();
        Limit ok = TokenBucket.of(5, 1, Duration.ofSeconds(1));
        assertThatThrownBy(() -> r.composite("a{b", ok)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not contain '{' or '}': name=a{b");
        assertThatThrownBy(() -> r.composite("a")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a composite needs at least one limit: groupLimits=[], keyLimits=[]");
        assertThatThrownBy(() -> r.composite("a", ok, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("groupLimits[1]");
        assertThatThrownBy(() -> r.composite("a", k -> k, List.of(ok), null)).isInstanceOf(NullPointerException.class)
                .hasMessage("keyLimits");
        assertThatThrownBy(() -> r.composite("a", k -> null, List.of(ok), List.of()).tryAcquire("k"))
                .isInstanceOf(NullPointerException.class).hasMessage("groupOf returned null for key k");
        assertThatThrownBy(() -> r.composite("a", ok).decide("k", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits=0");
    }

    @Test
    void blockingAcquireWaitsForTheSlowestLimit() throws InterruptedException {
        List<Long> slept = new ArrayList<>();
        RedisRateLimiters r = RedisRateLimiters.builder(SharedConnection.get().async()).failurePolicy(FailurePolicy.propagate())
                .prefix(SharedConnection.freshPrefix())
                .clientTime(nanos::get, TimeUnit.MICROSECONDS, 0)
                .ttlGrace(Duration.ofHours(1))
                .sleeper(n -> {
                    slept.add(n);
                    nanos.addAndGet(n);
                })
                .build();
        CompositeLimiter c = r.composite("wait", TokenBucket.of(2, 1, Duration.ofSeconds(1)),
                TokenBucket.of(2, 1, Duration.ofSeconds(3)));
        assertThat(c.tryAcquire("k", 2)).isTrue();
        assertThat(c.tryAcquire("k", 1, Duration.ofSeconds(2))).isFalse(); // needs 3 s
        assertThat(slept).isEmpty();
        assertThat(c.tryAcquire("k", 1, Duration.ofSeconds(3))).isTrue();
        assertThat(slept).containsExactly(Duration.ofSeconds(3).toNanos());
        assertThat(c.tryAcquire("k", 3, Duration.ofDays(1))).isFalse(); // more than either can hold
    }

    @Test
    void aNegativeTimeoutOfAnyMagnitudeNeverWaitsAndAnInterruptIsThrownAsSuch() throws InterruptedException {
        List<Long> slept = new ArrayList<>();
        RedisRateLimiters r = RedisRateLimiters.builder(SharedConnection.get().async()).failurePolicy(FailurePolicy.propagate())
                .prefix(SharedConnection.freshPrefix())
                .clientTime(nanos::get, TimeUnit.MICROSECONDS, 0)
                .ttlGrace(Duration.ofHours(1))
                .sleeper(n -> {
                    slept.add(n);
                    nanos.addAndGet(n);
                })
                .build();
        CompositeLimiter c = r.composite("neg", TokenBucket.of(1, 1, Duration.ofSeconds(1)),
                SlidingWindow.log(1, Duration.ofSeconds(1)));
        assertThat(c.tryAcquire("k", 1)).isTrue();

        assertThat(catching(() -> c.tryAcquire("k", 1, Duration.ofSeconds(Long.MIN_VALUE)))).isEqualTo(false);
        assertThat(catching(() -> c.tryAcquire("k", 1, Duration.ofNanos(Long.MIN_VALUE)))).isEqualTo(false);
        assertThat(slept).as("a negative timeout means do not wait").isEmpty();

        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> c.tryAcquire("k", 1, Duration.ofSeconds(5)))
                    .isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }
        assertThat(slept).isEmpty();
        assertThat(c.tryAcquire("k", 1, Duration.ofSeconds(1))).as("the interrupted wait took nothing").isTrue();
    }

    private static Object catching(java.util.concurrent.Callable<Boolean> call) {
        try {
            return call.call();
        } catch (Exception e) {
            return e;
        }
    }

    private static boolean isQueue(Limit limit) {
        return limit instanceof LeakyBucket lb && lb.mode() == LeakyBucket.Mode.QUEUE;
    }

    private static String tenantOf(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }
}

package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.RedisCluster;
import dev.ratelimiter.redis.testing.RedisExtension;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Redis limiters on a three-master Redis Cluster: keys spread over the masters, the script
 * caches of every node, and no {@code CROSSSLOT} error through the public API. Redis time mode.
 */
@ExtendWith(RedisExtension.class)
class RedisClusterTest {

    private static RedisRateLimiters limiters() {
        RedisAdvancedClusterAsyncCommands<String, String> async = ClusterConnection.get().async();
        return RedisRateLimiters.builder(async).failurePolicy(FailurePolicy.propagate()).prefix(SharedConnection.freshPrefix())
                .timeout(Duration.ofSeconds(5)).build();
    }

    /** @return the keys matching {@code pattern} on each node, by port */
    private static Map<Integer, Set<String>> keysByNode(RedisCluster cluster, String pattern) {
        Map<Integer, Set<String>> byNode = new HashMap<>();
        for (RedisProcess node : cluster.nodes()) {
            try (RespClient client = node.client()) {
                Set<String> keys = new HashSet<>();
                for (Object key : (List<?>) client.call("KEYS", pattern)) {
                    keys.add((String) key);
                }
                byNode.put(node.port(), keys);
            }
        }
        return byNode;
    }

    @Test
    void keysOfDifferentUsersLandOnAllThreeMasters(RedisCluster cluster) {
        RedisRateLimiters redis = limiters();
        RedisRateLimiters.KeyedLimiter perUser = redis.keyed("users", TokenBucket.of(5, 1, Duration.ofMinutes(1)));
        Set<String> written = new HashSet<>();
        for (int u = 0; u < 60; u++) {
            assertThat(perUser.tryAcquire("user-" + u)).isTrue();
            written.add(perUser.redisKey("user-" + u));
        }
        String prefix = perUser.redisKey("").substring(0, perUser.redisKey("").indexOf('{'));
        Map<Integer, Set<String>> byNode = keysByNode(cluster, prefix + "*");
        assertThat(byNode.values()).as("keys per master").allSatisfy(keys -> assertThat(keys).isNotEmpty());
        Set<String> all = new HashSet<>();
        byNode.forEach((port, keys) -> {
            for (String key : keys) {
                // Each key sits on the master the cluster says owns its slot.
                assertThat(cluster.portOfSlot(SlotHash.getSlot(key))).as(key).isEqualTo(port);
            }
            all.addAll(keys);
        });
        assertThat(all).isEqualTo(written);
        assertThat(cluster.keySlot(perUser.redisKey("user-1"))).isEqualTo(SlotHash.getSlot(perUser.redisKey("user-1")));
    }

    @Test
    void scriptFlushOnEveryNodeReachesNoCaller(RedisCluster cluster) {
        RedisRateLimiters redis = limiters();
        RedisRateLimiters.KeyedLimiter perUser = redis.keyed("flush", TokenBucket.of(100, 1, Duration.ofMinutes(1)));
        CompositeLimiter composite = redis.composite("flush-c", TokenBucket.of(100, 1, Duration.ofMinutes(1)),
                SlidingWindow.log(100, Duration.ofMinutes(1)));
        for (int round = 0; round < 3; round++) {
            for (RedisProcess node : cluster.nodes()) {
                try (RespClient client = node.client()) {
                    client.call("SCRIPT", "FLUSH");
                }
            }
            // Sixty users span the three masters: each node answers NOSCRIPT once, then EVAL reloads.
            for (int u = 0; u < 60; u++) {
                assertThat(perUser.tryAcquire("u" + u)).isTrue();
                assertThat(composite.tryAcquire("u" + u)).isTrue();
            }
        }
        for (RedisProcess node : cluster.nodes()) {
            try (RespClient client = node.client()) {
                assertThat(client.call("SCRIPT", "EXISTS", Scripts.GCRA.sha()))
                        .as("node %d", node.port()).isEqualTo(List.of(1L));
            }
        }
        // 3 rounds x 1 permit each: the NOSCRIPT retries did not count twice.
        assertThat(perUser.decide("u7", 1).remaining()).isEqualTo(96);
    }

    @Test
    void noCrossSlotErrorThroughThePublicApi(RedisCluster cluster) {
        Random random = new Random(42);
        String alphabet = "{}{}ab:%/ \\xy{}";
        RedisRateLimiters redis = limiters();
        List<Limit> limits = List.of(TokenBucket.of(50, 1, Duration.ofSeconds(1)),
                LeakyBucket.meter(1, Duration.ofSeconds(1), 50), LeakyBucket.queue(1, Duration.ofSeconds(1), 50),
                SlidingWindow.log(50, Duration.ofSeconds(1)), SlidingWindow.counter(50, Duration.ofSeconds(1)));
        List<CompletableFuture<Decision>> calls = new ArrayList<>();
        for (int n = 0; n < 20; n++) {
            String name = "n" + n + "-" + randomText(random, "ab%/ \\xy", 4); // no braces or colons in names
            RedisRateLimiters.KeyedLimiter keyed = redis.keyed(name, limits.get(n % limits.size()));
            CompositeLimiter perKey = redis.composite(name, limits.toArray(new Limit[0]));
            CompositeLimiter grouped = redis.composite(name + "g", k -> k.substring(0, k.length() / 2),
                    limits.subList(0, 2 + n % 3), limits.subList(n % 3, limits.size()));
            for (int k = 0; k < 25; k++) {
                String key = randomText(random, alphabet, random.nextInt(12));
                calls.add(keyed.decideAsync(key, 1).toCompletableFuture());
                calls.add(perKey.decideAsync(key, 1 + k % 3).toCompletableFuture());
                calls.add(grouped.decideAsync(key, 1).toCompletableFuture());
                Set<Integer> slots = new HashSet<>();
                for (String redisKey : grouped.redisKeys(key)) {
                    slots.add(SlotHash.getSlot(redisKey));
                }
                assertThat(slots).as("slots of %s", grouped.redisKeys(key)).hasSize(1);
            }
        }
        for (CompletableFuture<Decision> call : calls) {
            try {
                assertThat(call.join().permits()).isPositive();
            } catch (CompletionException e) {
                throw new AssertionError("a decision failed: " + e.getCause(), e.getCause());
            }
        }
    }

    @Test
    void aCompositeRefusedWhileItsSlotMigratesLosesNoState(RedisCluster cluster) {
        // A frozen client clock: nothing refills while the test counts.
        AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
        RedisRateLimiters redis = RedisRateLimiters.builder(ClusterConnection.get().async())
                .failurePolicy(FailurePolicy.propagate()).prefix(SharedConnection.freshPrefix())
                .timeout(Duration.ofSeconds(5)).clientTime(nanos::get, TimeUnit.MICROSECONDS, 0)
                .ttlGrace(Duration.ofHours(1)).build();
        CompositeLimiter c = redis.composite("mig", k -> k.substring(0, k.indexOf('/')),
                List.of(TokenBucket.of(3, 3, Duration.ofSeconds(100))),
                List.of(SlidingWindow.log(1, Duration.ofSeconds(100))));
        assertThat(c.decide("g2/a", 1).isAllowed()).isTrue();
        int slot = cluster.keySlot(c.redisKeys("g2/a").get(0));
        RedisProcess owner = null;
        RedisProcess other = null;
        for (RedisProcess node : cluster.nodes()) {
            if (node.port() == cluster.portOfSlot(slot)) {
                owner = node;
            } else if (other == null) {
                other = node;
            }
        }
        String otherId;
        try (RespClient client = other.client()) {
            otherId = client.callString("CLUSTER", "MYID");
        }
        try (RespClient client = owner.client()) {
            client.call("CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", otherId);
            try {
                // Both keys exist, so the owner runs the script; the user's log refuses. Whatever
                // Redis answers, the group's bucket must keep the permit a took.
                try {
                    assertThat(c.decide("g2/a", 1).isAllowed()).isFalse();
                } catch (RedisRateLimiterException refusedByTheMigration) {
                    // Acceptable: the decision was not taken.
                }
            } finally {
                client.call("CLUSTER", "SETSLOT", Integer.toString(slot), "STABLE");
            }
        }
        long granted = 1;
        for (String user : List.of("b", "c", "d")) {
            if (c.decide("g2/" + user, 1).isAllowed()) {
                granted++;
            }
        }
        assertThat(granted).as("grants against the group's capacity of 3").isEqualTo(3);
    }

    @Test
    void bracesInUserKeysCannotPinTheSlot() {
        RedisRateLimiters.KeyedLimiter keyed = limiters().keyed("pin", TokenBucket.of(5, 1, Duration.ofSeconds(1)));
        Set<Integer> slots = new HashSet<>();
        Set<String> redisKeys = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            // Unescaped, "}" would close the tag at once: every one of these keys in one slot.
            String key = "}" + i;
            slots.add(SlotHash.getSlot(keyed.redisKey(key)));
            redisKeys.add(keyed.redisKey(key));
        }
        assertThat(slots.size()).isGreaterThan(20);
        assertThat(redisKeys).hasSize(50);
        assertThat(keyed.redisKey("a}b")).isNotEqualTo(keyed.redisKey("a%7Db"));
    }

    private static String randomText(Random random, String alphabet, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }
}

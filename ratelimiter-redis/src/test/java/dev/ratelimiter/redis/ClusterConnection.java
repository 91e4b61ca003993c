package dev.ratelimiter.redis;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.redis.testing.RedisCluster;
import dev.ratelimiter.redis.testing.RedisServers;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One Lettuce Redis Cluster connection to the harness's shared three-master cluster, shared by
 * the test classes of a run (the cluster lives until the JVM exits, so the jqwik properties, run
 * after JUnit Jupiter, still find it).
 */
final class ClusterConnection {

    private static RedisClusterClient client;
    private static StatefulRedisClusterConnection<String, String> connection;

    private ClusterConnection() {
    }

    /** @return the shared cluster connection, opened on first use */
    static synchronized StatefulRedisClusterConnection<String, String> get() {
        if (connection == null) {
            RedisCluster cluster = RedisServers.cluster();
            client = RedisClusterClient.create(cluster.seedUris().stream().map(RedisURI::create).toList());
            connection = client.connect();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                connection.close();
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }, "lettuce-cluster-shutdown"));
        }
        return connection;
    }

    /** As {@link SharedConnection#clientTime}, on the cluster, with a 5 s timeout. */
    static RateLimiter clientTime(Limit limit, Ticker ticker, Sleeper sleeper) {
        return RedisRateLimiters.builder(get().async()).failurePolicy(FailurePolicy.propagate())
                .prefix(SharedConnection.freshPrefix())
                // Generous: the suite checks decisions, not latency, and CI machines are shared.
                .timeout(Duration.ofSeconds(5))
                .clientTime(ticker, TimeUnit.NANOSECONDS, ticker.read())
                .ttlGrace(Duration.ofHours(1))
                .sleeper(sleeper)
                .build()
                .create("conformance", limit);
    }
}

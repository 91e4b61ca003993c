package dev.ratelimiter.spring.autoconfigure;

import java.util.List;

import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.spring.LimiterBackend;
import dev.ratelimiter.spring.autoconfigure.RateLimiterAutoConfiguration.RedisBackendSupplier;
import dev.ratelimiter.spring.autoconfigure.RateLimiterRedisAutoConfiguration.RedisUris;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;

import org.springframework.beans.factory.DisposableBean;

/** One Lettuce connection for every Redis limiter, opened on first use and closed with the context. */
final class RateLimiterRedisConnection implements RedisBackendSupplier, DisposableBean {

    private final RedisClient client;
    private final RedisClusterClient cluster;
    private final RedisUris uris;
    private RedisClient ownClient;
    private RedisClusterClient ownCluster;
    private StatefulConnection<String, String> connection;

    RateLimiterRedisConnection(RedisClient client, RedisClusterClient cluster, RedisUris uris) {
        this.client = client;
        this.cluster = cluster;
        this.uris = uris;
    }

    @Override
    public synchronized LimiterBackend backend(RateLimiterProperties.Redis settings, RateLimiterListener listener) {
        return new RedisLimiterBackend(commands(), settings, listener, failure -> { });
    }

    private RedisScriptingAsyncCommands<String, String> commands() {
        if (connection == null) {
            if (cluster != null) {
                connection = cluster.connect();
            } else if (client != null) {
                connection = client.connect();
            } else if (uris != null) {
                List<RedisURI> nodes = uris.uris();
                if (uris.cluster()) {
                    ownCluster = RedisClusterClient.create(nodes);
                    connection = ownCluster.connect();
                } else {
                    ownClient = RedisClient.create(nodes.get(0));
                    connection = ownClient.connect();
                }
            } else {
                throw new IllegalStateException("the Redis backend needs a Redis connection: add "
                        + "spring-boot-starter-data-redis (and its spring.data.redis.* settings), or declare a "
                        + "Lettuce RedisClient or RedisClusterClient bean");
            }
        }
        if (connection instanceof StatefulRedisClusterConnection<String, String> c) {
            return c.async();
        }
        return ((StatefulRedisConnection<String, String>) connection).async();
    }

    @Override
    public synchronized void destroy() {
        if (connection != null) {
            connection.close();
        }
        if (ownClient != null) {
            ownClient.shutdown();
        }
        if (ownCluster != null) {
            ownCluster.shutdown();
        }
    }
}

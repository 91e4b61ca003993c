package dev.ratelimiter.spring.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import dev.ratelimiter.redis.RedisRateLimiters;
import dev.ratelimiter.spring.autoconfigure.RateLimiterAutoConfiguration.RedisBackendSupplier;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The Redis backend of the limits with {@code backend: redis}: on the application's Lettuce
 * {@link RedisClient} or {@link RedisClusterClient} bean if it has one, else on Spring Boot's
 * own Redis connection settings ({@code spring.data.redis.*}, through its
 * {@code DataRedisConnectionDetails}). It connects when the first Redis limit is made.
 */
@AutoConfiguration(before = RateLimiterAutoConfiguration.class,
        afterName = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration")
@ConditionalOnClass({RedisRateLimiters.class, RedisClient.class})
public class RateLimiterRedisAutoConfiguration {

    /**
     * @param client  the application's standalone client, if any
     * @param cluster the application's cluster client, if any
     * @param uris    Spring Boot's connection settings, if spring-boot-data-redis is present
     * @return the Redis backend, connected on first use, closed with the context
     */
    @Bean
    @ConditionalOnMissingBean
    public RedisBackendSupplier rateLimiterRedisBackend(ObjectProvider<RedisClient> client,
                                                        ObjectProvider<RedisClusterClient> cluster,
                                                        ObjectProvider<RedisUris> uris) {
        return new RateLimiterRedisConnection(client.getIfUnique(), cluster.getIfUnique(), uris.getIfAvailable());
    }

    /** Where Redis is, from Spring Boot's settings. */
    public interface RedisUris {
        /** @return one node for a standalone or sentinel setup, the seed nodes of a cluster */
        List<RedisURI> uris();

        /** @return whether the nodes are those of a Redis Cluster */
        boolean cluster();
    }

    /** Reads Spring Boot's connection details, when spring-boot-data-redis is on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(DataRedisConnectionDetails.class)
    static class BootConnectionDetails {

        @Bean
        @ConditionalOnMissingBean
        RedisUris rateLimiterRedisUris(ObjectProvider<DataRedisConnectionDetails> details) {
            return new RedisUris() {
                @Override
                public List<RedisURI> uris() {
                    DataRedisConnectionDetails d = details.getIfAvailable();
                    if (d == null) {
                        throw new IllegalStateException("the Redis backend needs a Redis connection: Spring Boot's "
                                + "spring.data.redis.* settings (spring-boot-starter-data-redis) made none; "
                                + "or declare a Lettuce RedisClient bean");
                    }
                    List<RedisURI> uris = new ArrayList<>();
                    if (d.getCluster() != null) {
                        for (DataRedisConnectionDetails.Node n : d.getCluster().getNodes()) {
                            uris.add(secure(RedisURI.builder().withHost(n.host()).withPort(n.port()), d).build());
                        }
                    } else if (d.getSentinel() != null) {
                        DataRedisConnectionDetails.Sentinel s = d.getSentinel();
                        RedisURI.Builder b = RedisURI.builder().withSentinelMasterId(s.getMaster())
                                .withDatabase(s.getDatabase());
                        for (DataRedisConnectionDetails.Node n : s.getNodes()) {
                            b.withSentinel(n.host(), n.port());
                        }
                        uris.add(secure(b, d).build());
                    } else {
                        DataRedisConnectionDetails.Standalone s = d.getStandalone();
                        uris.add(secure(RedisURI.builder().withHost(s.getHost()).withPort(s.getPort())
                                .withDatabase(s.getDatabase()), d).build());
                    }
                    return uris;
                }

                @Override
                public boolean cluster() {
                    DataRedisConnectionDetails d = details.getIfAvailable();
                    return d != null && d.getCluster() != null;
                }
            };
        }

        private static RedisURI.Builder secure(RedisURI.Builder b, DataRedisConnectionDetails d) {
            if (d.getPassword() != null) {
                if (d.getUsername() != null) {
                    b.withAuthentication(d.getUsername(), d.getPassword());
                } else {
                    b.withPassword(d.getPassword().toCharArray());
                }
            }
            if (d.getSslBundle() != null) {
                b.withSsl(true);
            }
            return b;
        }
    }
}

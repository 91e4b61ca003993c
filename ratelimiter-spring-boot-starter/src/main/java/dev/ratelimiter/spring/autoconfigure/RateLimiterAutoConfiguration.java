package dev.ratelimiter.spring.autoconfigure;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.spring.LimiterBackend;
import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.RedisBackendListener;
import dev.ratelimiter.spring.aop.RateLimitedBeanPostProcessor;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.Backend;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Role;

/**
 * The limits of {@code ratelimiter.limits} as a {@link NamedLimiters} bean, on the local backend
 * (on the application's {@link Ticker} bean if it has one) or on Redis, told to every
 * {@link RateLimiterListener} bean; and the {@code @RateLimited} annotation.
 */
@AutoConfiguration
@EnableConfigurationProperties(RateLimiterProperties.class)
public class RateLimiterAutoConfiguration {

    /**
     * @param properties the bound properties
     * @param ticker     the application's clock, if it has one
     * @param listeners  every listener bean ({@link RedisBackendListener}s are given to Redis limiters only)
     * @param redis      the Redis backend, when Redis is on the class path
     * @return the limiters
     */
    @Bean
    @ConditionalOnMissingBean
    public NamedLimiters namedLimiters(RateLimiterProperties properties, ObjectProvider<Ticker> ticker,
                                       ObjectProvider<RateLimiterListener> listeners,
                                       ObjectProvider<RedisBackendSupplier> redis) {
        List<LimitDefinition> definitions = LimitDefinition.read(properties);
        List<RateLimiterListener> all = listeners.orderedStream().toList();
        // A RedisBackendListener (the health indicator) hears the Redis limiters only.
        RateLimiterListener everyLimiter = combine(all.stream().filter(l -> !(l instanceof RedisBackendListener)).toList());
        Map<Backend, LimiterBackend> backends = new EnumMap<>(Backend.class);
        backends.put(Backend.LOCAL, new LocalLimiterBackend(ticker.getIfAvailable(Ticker::system), everyLimiter));
        if (definitions.stream().anyMatch(d -> d.backend() == Backend.REDIS)) {
            RedisBackendSupplier supplier = redis.getIfAvailable();
            if (supplier != null) {
                backends.put(Backend.REDIS, supplier.backend(properties.getRedis(), combine(all)));
            }
        }
        return new NamedLimiters(definitions, backends);
    }

    static RateLimiterListener combine(List<RateLimiterListener> all) {
        RateLimiterListener combined = null;
        for (RateLimiterListener l : all) {
            combined = combined == null ? l : RateLimiterListener.both(combined, l);
        }
        return combined;
    }

    /**
     * @param limiters the limiters, looked up once the beans are made
     * @return the post-processor proxying {@code @RateLimited} beans
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    @ConditionalOnMissingBean
    public static RateLimitedBeanPostProcessor rateLimitedBeanPostProcessor(ObjectProvider<NamedLimiters> limiters) {
        return new RateLimitedBeanPostProcessor(limiters);
    }

    /** Makes the Redis backend, connecting to Redis only when a limit runs there. */
    @FunctionalInterface
    public interface RedisBackendSupplier {
        /**
         * @param settings the {@code ratelimiter.redis.*} properties
         * @param listener told of every limiter's events, or {@code null}
         * @return the backend
         */
        LimiterBackend backend(RateLimiterProperties.Redis settings, RateLimiterListener listener);
    }

}

package dev.ratelimiter.spring.autoconfigure;

import dev.ratelimiter.micrometer.RateLimiterMetrics;
import dev.ratelimiter.spring.NamedLimiter;
import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.actuate.RateLimiterHealthIndicator;
import dev.ratelimiter.spring.actuate.RateLimitersEndpoint;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * What running the limits needs: the {@code ratelimiters} endpoint, the {@code ratelimiter}
 * health indicator, the Micrometer meters of {@link RateLimiterMetrics} (with the
 * {@code ratelimiter.keys} gauge of every local limiter), and the reconfiguration of the limits
 * from the properties at run time.
 */
@AutoConfiguration(after = RateLimiterAutoConfiguration.class,
        afterName = "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration")
public class RateLimiterActuatorAutoConfiguration {

    /**
     * @param environment the environment
     * @param limiters    the limiters
     * @return the refresher of the limits from the properties
     */
    @Bean
    @ConditionalOnMissingBean
    public RateLimiterPropertiesRefresher rateLimiterPropertiesRefresher(Environment environment,
                                                                         NamedLimiters limiters) {
        return new RateLimiterPropertiesRefresher(environment, limiters);
    }

    /** The endpoint, when Actuator is on the class path and the endpoint is exposed. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointConfiguration {
        @Bean
        @ConditionalOnMissingBean
        @ConditionalOnAvailableEndpoint(endpoint = RateLimitersEndpoint.class)
        RateLimitersEndpoint rateLimitersEndpoint(NamedLimiters limiters, RateLimiterPropertiesRefresher refresher) {
            return new RateLimitersEndpoint(limiters, refresher);
        }
    }

    /** The health indicator, {@code management.health.ratelimiter.enabled}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnEnabledHealthIndicator("ratelimiter")
    static class HealthConfiguration {
        @Bean
        @ConditionalOnMissingBean(name = "ratelimiterHealthIndicator")
        RateLimiterHealthIndicator ratelimiterHealthIndicator(ObjectProvider<NamedLimiters> limiters) {
            return new RateLimiterHealthIndicator(limiters);
        }
    }

    /** The meters, when the application has a Micrometer registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({RateLimiterMetrics.class, MeterRegistry.class})
    @ConditionalOnBean(MeterRegistry.class)
    static class MetricsConfiguration {
        @Bean
        @ConditionalOnMissingBean
        RateLimiterMetrics rateLimiterMetrics(MeterRegistry registry) {
            return new RateLimiterMetrics(registry);
        }

        @Bean
        SmartInitializingSingleton rateLimiterKeysGauges(RateLimiterMetrics metrics,
                                                         ObjectProvider<NamedLimiters> limiters) {
            return () -> {
                NamedLimiters all = limiters.getIfAvailable();
                if (all == null) {
                    return;
                }
                for (NamedLimiter l : all.all()) {
                    if (l.keysHeld().isPresent()) {
                        metrics.gaugeKeys(l.name(), () -> l.keysHeld().orElse(0));
                    }
                }
            };
        }
    }
}

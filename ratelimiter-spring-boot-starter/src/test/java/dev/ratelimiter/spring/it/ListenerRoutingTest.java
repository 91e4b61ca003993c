package dev.ratelimiter.spring.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;

import dev.ratelimiter.Decision;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.RedisBackendListener;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * Every listener bean hears the local limiters, except a {@link RedisBackendListener} (the
 * health indicator is one): local decisions never pay for it.
 */
class ListenerRoutingTest {

    static final AtomicInteger EVERY = new AtomicInteger();
    static final AtomicInteger REDIS_ONLY = new AtomicInteger();

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        RateLimiterListener counting() {
            return new RateLimiterListener() {
                @Override
                public void onGranted(String limiter, Object key, long permits, Decision decision) {
                    EVERY.incrementAndGet();
                }
            };
        }

        @Bean
        RedisBackendListener redisOnly() {
            return new RedisBackendListener() {
                @Override
                public void onGranted(String limiter, Object key, long permits, Decision decision) {
                    REDIS_ONLY.incrementAndGet();
                }
            };
        }
    }

    @Test
    void aLocalDecisionReachesThePlainListenersOnly() {
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE).properties(
                        "ratelimiter.limits.api.algorithm=token-bucket",
                        "ratelimiter.limits.api.capacity=5",
                        "ratelimiter.limits.api.period=1s").run()) {
            app.getBean(NamedLimiters.class).get("api").decide("k", 1);
            assertThat(EVERY.get()).isEqualTo(1);
            assertThat(REDIS_ONLY.get()).isZero();
        }
    }
}

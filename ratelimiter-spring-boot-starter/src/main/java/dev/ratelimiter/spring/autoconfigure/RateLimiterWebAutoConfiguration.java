package dev.ratelimiter.spring.autoconfigure;

import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.web.HttpRule;
import dev.ratelimiter.spring.web.RateLimitServletFilter;
import dev.ratelimiter.spring.web.RateLimitWebFilter;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The HTTP rules of {@code ratelimiter.http.rules}: a servlet filter in a servlet application,
 * a {@code WebFilter} in a reactive one. Off with {@code ratelimiter.http.enabled=false}.
 */
@AutoConfiguration(after = RateLimiterAutoConfiguration.class)
@ConditionalOnProperty(prefix = "ratelimiter.http", name = "enabled", matchIfMissing = true)
public class RateLimiterWebAutoConfiguration {

    /** Spring MVC and any servlet application. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass({jakarta.servlet.Filter.class, FilterRegistrationBean.class})
    static class Servlet {
        @Bean
        @ConditionalOnMissingBean(name = "rateLimitServletFilter")
        FilterRegistrationBean<RateLimitServletFilter> rateLimitServletFilter(RateLimiterProperties properties,
                                                                              NamedLimiters limiters) {
            RateLimiterProperties.Http http = properties.getHttp();
            FilterRegistrationBean<RateLimitServletFilter> registration = new FilterRegistrationBean<>(
                    new RateLimitServletFilter(HttpRule.read(http, limiters), http.isHeadersOnAllowed()));
            registration.setName("rateLimitServletFilter");
            registration.setOrder(http.getFilterOrder());
            registration.setEnabled(!http.getRules().isEmpty());
            return registration;
        }
    }

    /** WebFlux. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnClass(name = "org.springframework.web.server.WebFilter")
    static class Reactive {
        @Bean
        @ConditionalOnMissingBean
        RateLimitWebFilter rateLimitWebFilter(RateLimiterProperties properties, NamedLimiters limiters) {
            RateLimiterProperties.Http http = properties.getHttp();
            return new RateLimitWebFilter(HttpRule.read(http, limiters), http.isHeadersOnAllowed());
        }
    }
}

package dev.ratelimiter.spring.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.Principal;
import java.time.Duration;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The servlet rules' keys and costs: by principal (set by an authentication filter that runs
 * before, as Spring Security's does), by a SpEL expression over the request, a cost per request,
 * methods, several rules on one request, and the fields turned off on allowed responses.
 */
class HttpRulesTest {

    /** Stands in for an authentication filter: the principal is the X-User header. */
    @Configuration(proxyBeanMethods = false)
    static class Authentication {
        @Bean
        FilterRegistrationBean<OncePerRequestFilter> authentication() {
            FilterRegistrationBean<OncePerRequestFilter> r = new FilterRegistrationBean<>(new OncePerRequestFilter() {
                @Override
                protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
                                                FilterChain chain) throws ServletException, IOException {
                    String user = request.getHeader("X-User");
                    if (user == null) {
                        chain.doFilter(request, response);
                        return;
                    }
                    Principal principal = () -> user;
                    chain.doFilter(new HttpServletRequestWrapper(request) {
                        @Override
                        public Principal getUserPrincipal() {
                            return principal;
                        }
                    }, response);
                }
            });
            r.setOrder(-100);
            return r;
        }
    }

    static ConfigurableApplicationContext app;
    static String base;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        app = new SpringApplicationBuilder(MvcApp.class, Authentication.class).properties(
                "server.port=0",
                "ratelimiter.limits.per-user.algorithm=token-bucket",
                "ratelimiter.limits.per-user.capacity=4",
                "ratelimiter.limits.per-user.period=1h",
                "ratelimiter.limits.per-tenant.algorithm=sliding-window-log",
                "ratelimiter.limits.per-tenant.permits=3",
                "ratelimiter.limits.per-tenant.period=1h",
                "ratelimiter.http.headers-on-allowed=false",
                "ratelimiter.http.rules[0].limit=per-user",
                "ratelimiter.http.rules[0].paths=/ip",
                "ratelimiter.http.rules[0].methods=GET",
                "ratelimiter.http.rules[0].key=principal",
                "ratelimiter.http.rules[0].cost=2",
                "ratelimiter.http.rules[1].limit=per-tenant",
                "ratelimiter.http.rules[1].paths=/users/**",
                "ratelimiter.http.rules[1].key=expression:#request.getParameter('tenant')").run();
        base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    static HttpResponse<String> get(String path, String user) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        if (user != null) {
            b.header("X-User", user);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aPrincipalKeyWithACostOfTwoAdmitsTwoRequestsOfFourPermitsPerUser() throws Exception {
        assertThat(get("/ip", "ann").statusCode()).isEqualTo(200);
        HttpResponse<String> second = get("/ip", "ann");
        assertThat(second.statusCode()).isEqualTo(200);
        // 2 permits at 4 per hour: 30 minutes. headers-on-allowed=false: an allowed response carries no field.
        assertThat(second.headers().firstValue("RateLimit")).isEmpty();
        HttpResponse<String> third = get("/ip", "ann");
        assertThat(third.statusCode()).isEqualTo(429);
        assertThat(third.headers().allValues("RateLimit")).containsExactly("\"per-user\";r=0;t=1800");
        assertThat(get("/ip", "bob").statusCode()).isEqualTo(200);
        // Without a principal, requests are keyed by their address, together.
        assertThat(get("/ip", null).statusCode()).isEqualTo(200);
        assertThat(get("/ip", null).statusCode()).isEqualTo(200);
        assertThat(get("/ip", null).statusCode()).isEqualTo(429);
        assertThat(app.getBean(dev.ratelimiter.spring.NamedLimiters.class).get("per-user").limiter()
                .availablePermits(dev.ratelimiter.spring.web.HttpRule.ANONYMOUS + "127.0.0.1")).isZero();
    }

    @Test
    void anExpressionKeyLimitsPerTenantAndOnlyTheRulesPaths() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(get("/users/u" + i + "?tenant=acme", null).statusCode()).isEqualTo(200);
        }
        assertThat(get("/users/u9?tenant=acme", null).statusCode()).isEqualTo(429);
        assertThat(get("/users/u9?tenant=other", null).statusCode()).isEqualTo(200);
    }
}

package dev.ratelimiter.spring.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.spring.autoconfigure.RateLimiterPropertiesRefresher;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;

/**
 * The Actuator endpoint (list, peek, reset, refresh from the properties) and the decision meters
 * on a real Prometheus registry, read from {@code /actuator/prometheus} after a scripted sequence.
 */
class ActuatorAndMetricsTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    ConfigurableApplicationContext app;
    String base;

    ConfigurableApplicationContext start(String... extra) {
        String[] common = {
                "server.port=0",
                "management.endpoints.web.exposure.include=ratelimiters,health,prometheus",
                "management.endpoint.health.show-details=always",
                // No Redis runs in this test: Spring Boot's own Redis health check is left out.
                "management.health.redis.enabled=false",
                "ratelimiter.limits.per-ip.algorithm=token-bucket",
                "ratelimiter.limits.per-ip.capacity=3",
                "ratelimiter.limits.per-ip.permits=1",
                "ratelimiter.limits.per-ip.period=10s",
                "ratelimiter.limits.per-user.algorithm=sliding-window-counter",
                "ratelimiter.limits.per-user.permits=2",
                "ratelimiter.limits.per-user.period=1m",
                "ratelimiter.http.rules[0].limit=per-ip",
                "ratelimiter.http.rules[0].paths=/ip"};
        String[] all = new String[common.length + extra.length];
        System.arraycopy(common, 0, all, 0, common.length);
        System.arraycopy(extra, 0, all, common.length, extra.length);
        app = new SpringApplicationBuilder(MvcApp.class).properties(all).run();
        base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
        return app;
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    HttpResponse<String> send(String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void prometheusShowsTheDecisionsOfAScriptedSequence() throws Exception {
        start();
        for (int i = 0; i < 5; i++) {
            send("GET", "/ip");
        }
        String scrape = send("GET", "/actuator/prometheus").body();
        assertThat(scrape).containsPattern("ratelimiter_decisions_total\\{[^}]*name=\"per-ip\"[^}]*outcome=\"granted\"[^}]*\\} 3\\.0")
                .containsPattern("ratelimiter_decisions_total\\{[^}]*name=\"per-ip\"[^}]*outcome=\"denied\"[^}]*\\} 2\\.0")
                .containsPattern("ratelimiter_keys\\{[^}]*name=\"per-ip\"[^}]*\\} 1\\.0");
    }

    @Test
    void theEndpointListsPeeksAndReadsButDoesNotWriteByDefault() throws Exception {
        start();
        String list = send("GET", "/actuator/ratelimiters").body();
        assertThat(list).contains("\"per-ip\"").contains("\"per-user\"").contains("\"backend\":\"local\"")
                .contains("SlidingWindow");
        send("GET", "/ip");
        String peek = send("GET", "/actuator/ratelimiters/per-ip?key=127.0.0.1").body();
        assertThat(peek).contains("\"allowed\":true").contains("\"available\":2");
        // A peek consumes nothing.
        assertThat(send("GET", "/actuator/ratelimiters/per-ip?key=127.0.0.1").body()).contains("\"available\":2");
        // Writes are off unless the endpoint's access is unrestricted.
        assertThat(send("DELETE", "/actuator/ratelimiters/per-ip?key=127.0.0.1").statusCode()).isNotEqualTo(200);
        assertThat(send("GET", "/actuator/ratelimiters/per-ip?key=127.0.0.1").body()).contains("\"available\":2");
    }

    @Test
    void withWritesEnabledAResetRefillsAKey() throws Exception {
        start("management.endpoint.ratelimiters.access=unrestricted");
        for (int i = 0; i < 4; i++) {
            send("GET", "/ip");
        }
        assertThat(send("GET", "/ip").statusCode()).isEqualTo(429);
        assertThat(send("DELETE", "/actuator/ratelimiters/per-ip?key=127.0.0.1").statusCode()).isEqualTo(200);
        assertThat(send("GET", "/ip").statusCode()).isEqualTo(200);
        assertThat(send("GET", "/actuator/ratelimiters/per-ip?key=127.0.0.1").body()).contains("\"available\":2");
    }

    @Test
    void aRefreshFromTheEnvironmentReconfiguresTheRunningLimiterKeepingItsState() throws Exception {
        start("management.endpoint.ratelimiters.access=unrestricted");
        FakeClock clock = app.getBean(FakeClock.class);
        assertThat(send("GET", "/ip").statusCode()).isEqualTo(200);
        assertThat(send("GET", "/ip").statusCode()).isEqualTo(200);
        // 1 of 3 left. Raise the capacity to 10 at run time: the 2 consumed stay consumed.
        app.getEnvironment().getPropertySources().addFirst(new MapPropertySource("changed",
                java.util.Map.of("ratelimiter.limits.per-ip.capacity", "10")));
        HttpResponse<String> refreshed = send("POST", "/actuator/ratelimiters");
        assertThat(refreshed.statusCode()).isEqualTo(200);
        assertThat(refreshed.body()).contains("per-ip");
        HttpResponse<String> next = send("GET", "/ip");
        assertThat(next.headers().allValues("RateLimit-Policy")).containsExactly("\"per-ip\";q=10;w=100");
        assertThat(next.headers().allValues("RateLimit")).containsExactly("\"per-ip\";r=7");
        clock.advance(Duration.ZERO);
        // A bad value refused at run time changes nothing.
        app.getEnvironment().getPropertySources().addFirst(new MapPropertySource("bad",
                java.util.Map.of("ratelimiter.limits.per-ip.capacity", "-1")));
        HttpResponse<String> bad = send("POST", "/actuator/ratelimiters");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThatThrownBy(() -> app.getBean(RateLimiterPropertiesRefresher.class).refresh())
                .hasMessage("ratelimiter.limits.per-ip.capacity=-1: must be > 0");
        assertThat(send("GET", "/ip").headers().allValues("RateLimit")).containsExactly("\"per-ip\";r=6");
    }

    @Test
    void healthIsUpWithOnlyLocalLimits() throws Exception {
        start();
        HttpResponse<String> health = send("GET", "/actuator/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"ratelimiter\"").contains("\"status\":\"UP\"");
    }
}

package dev.ratelimiter.spring.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.ratelimiter.conformance.FakeClock;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.reactive.context.ReactiveWebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** A real WebFlux application on Netty, on a random port, called with a real HTTP client. */
class WebFluxApplicationTest {

    static ConfigurableApplicationContext app;
    static FakeClock clock;
    static String base;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        app = new SpringApplicationBuilder(WebFluxApp.class).web(WebApplicationType.REACTIVE).properties(
                "server.port=0",
                WebFluxApp.NETTY,
                "ratelimiter.limits.per-key.algorithm=leaky-bucket-meter",
                "ratelimiter.limits.per-key.permits=1",
                "ratelimiter.limits.per-key.period=2s",
                "ratelimiter.limits.per-key.capacity=2",
                "ratelimiter.limits.per-user.algorithm=sliding-window-log",
                "ratelimiter.limits.per-user.permits=1",
                "ratelimiter.limits.per-user.period=1m",
                "ratelimiter.http.rules[0].limit=per-key",
                "ratelimiter.http.rules[0].paths=/hello",
                "ratelimiter.http.rules[0].methods=GET",
                "ratelimiter.http.rules[0].key=header:X-Api-Key").run();
        clock = app.getBean(FakeClock.class);
        base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    static HttpResponse<String> get(String path, String apiKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        if (apiKey != null) {
            b.header("X-Api-Key", apiKey);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theServerIsNetty() {
        assertThat(((ReactiveWebServerApplicationContext) app).getWebServer().getClass().getSimpleName())
                .isEqualTo("NettyWebServer");
    }

    @Test
    void theRuleKeysByHeaderAndAnswers429WithTheFieldsAndAProblem() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            statuses.add(get("/hello", "k1").statusCode());
        }
        // A meter of 1 per 2 s with bursts of 2 grants 2 at once.
        assertThat(statuses).containsExactly(200, 200, 429, 429);
        HttpResponse<String> refused = get("/hello", "k1");
        assertThat(refused.headers().allValues("RateLimit-Policy")).containsExactly("\"per-key\";q=2;w=4");
        assertThat(refused.headers().allValues("RateLimit")).containsExactly("\"per-key\";r=0;t=2");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(refused.body()).contains("\"status\":429").contains("per-key");
        // Another key has its own bucket; allowed responses carry the fields.
        HttpResponse<String> other = get("/hello", "k2");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(other.body()).isEqualTo("hello");
        assertThat(other.headers().allValues("RateLimit")).containsExactly("\"per-key\";r=1");
        clock.advance(Duration.ofSeconds(2));
        assertThat(get("/hello", "k1").statusCode()).isEqualTo(200);
        assertThat(get("/hello", "k1").statusCode()).isEqualTo(429);
    }

    @Test
    void aFluxMethodUnderTheAnnotationFallsBackWhenRefused() throws Exception {
        assertThat(get("/items/zoe", null).body()).contains("a:zoe").contains("b:zoe");
        assertThat(get("/items/zoe", null).body()).contains("busy:zoe").doesNotContain("a:zoe");
        assertThat(get("/items/yan", null).body()).contains("a:yan");
        clock.advance(Duration.ofMinutes(1));
        assertThat(get("/items/zoe", null).body()).contains("a:zoe");
    }
}

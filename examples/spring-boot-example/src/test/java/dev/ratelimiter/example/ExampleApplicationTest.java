package dev.ratelimiter.example;

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
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The example application as the README runs it (its own application.yml), on a random port,
 * called with a real HTTP client; a {@link FakeClock} bean stands in for the system clock.
 */
class ExampleApplicationTest {

    @Configuration(proxyBeanMethods = false)
    static class TestClock {
        @Bean
        FakeClock clock() {
            return new FakeClock();
        }
    }

    static ConfigurableApplicationContext app;
    static FakeClock clock;
    static String base;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        app = new SpringApplicationBuilder(ExampleApplication.class, TestClock.class)
                .properties("server.port=0").run();
        clock = app.getBean(FakeClock.class);
        base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theReadmeQuotesThisApplicationsConfigurationVerbatim() throws Exception {
        List<String> readme = stripped(java.nio.file.Files.readAllLines(java.nio.file.Path.of("..", "..", "README.md")));
        List<String> yml = stripped(java.nio.file.Files.readAllLines(
                java.nio.file.Path.of("src", "main", "resources", "application.yml")));
        // The README shows the ratelimiter part, up to the management settings.
        List<String> quoted = yml.subList(0, yml.indexOf("management:"));
        assertThat(java.util.Collections.indexOfSubList(readme, quoted)).as("README quotes %s", quoted)
                .isNotNegative();
        String refusal = String.join("\n", readme);
        assertThat(refusal).contains("RateLimit-Policy: \"per-client\";q=5;w=10")
                .contains("RateLimit: \"per-client\";r=0;t=2");
    }

    static List<String> stripped(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            if (!line.isBlank()) {
                out.add(line.strip());
            }
        }
        return out;
    }

    @Test
    void helloAdmitsABurstOfFivePerClientThenOneEveryTwoSeconds() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            statuses.add(get("/hello").statusCode());
        }
        assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429, 429);
        HttpResponse<String> refused = get("/hello");
        assertThat(refused.headers().allValues("RateLimit-Policy")).containsExactly("\"per-client\";q=5;w=10");
        assertThat(refused.headers().allValues("RateLimit")).containsExactly("\"per-client\";r=0;t=2");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
        // The body the README shows.
        assertThat(refused.body()).isEqualTo("{\"type\":\"about:blank\",\"title\":\"Too Many Requests\","
                + "\"status\":429,\"detail\":\"Rate limit \\\"per-client\\\" exceeded: retry after 2 s.\","
                + "\"policy\":\"per-client\",\"retryAfter\":2}");
        clock.advance(Duration.ofSeconds(2));
        assertThat(get("/hello").statusCode()).isEqualTo(200);
        assertThat(get("/hello").statusCode()).isEqualTo(429);
    }

    @Test
    void theProfileIsLimitedPerUserAndFallsBack() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(get("/users/ann/profile").body()).isEqualTo("profile of ann");
        }
        assertThat(get("/users/ann/profile").body()).isEqualTo("busy, retry in 3 s");
        assertThat(get("/users/bob/profile").body()).isEqualTo("profile of bob");
        String scrape = get("/actuator/prometheus").body();
        assertThat(scrape).containsPattern("ratelimiter_decisions_total\\{[^}]*name=\"per-user\"[^}]*outcome=\"granted\"[^}]*\\} 4\\.0")
                .containsPattern("ratelimiter_decisions_total\\{[^}]*name=\"per-user\"[^}]*outcome=\"denied\"[^}]*\\} 1\\.0");
        assertThat(get("/actuator/ratelimiters").body()).contains("per-client").contains("per-user");
        assertThat(get("/actuator/health").body()).contains("\"status\":\"UP\"");
    }
}

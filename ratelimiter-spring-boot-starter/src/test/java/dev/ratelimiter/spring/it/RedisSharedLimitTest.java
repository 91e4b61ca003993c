package dev.ratelimiter.spring.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.ratelimiter.redis.testing.RedisProcess;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two application instances sharing one real {@code redis-server} (started here) admit exactly
 * the shared limit; with Redis killed the configured failure policy answers and the health
 * indicator says so; with Redis back, Redis decides again. The limiters run on Redis time and the
 * bucket refills once an hour, so the sequence is exact without touching any clock.
 */
class RedisSharedLimitTest {

    static RedisProcess redis;
    static ConfigurableApplicationContext a;
    static ConfigurableApplicationContext b;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static ConfigurableApplicationContext instance() {
        return new SpringApplicationBuilder(MvcApp.class).properties(
                "server.port=0",
                "spring.data.redis.host=127.0.0.1",
                "spring.data.redis.port=" + redis.port(),
                "management.endpoints.web.exposure.include=health,ratelimiters,prometheus",
                "management.endpoint.health.show-details=always",
                "ratelimiter.backend=redis",
                "ratelimiter.redis.failure-policy=fail-closed",
                "ratelimiter.redis.fail-closed-retry-after=7s",
                "ratelimiter.redis.timeout=500ms",
                // The refusals of /ip before Redis is killed would answer the request after it
                // from memory (no call, so no failure policy): this test is about the policy.
                "ratelimiter.redis.refusal-cache=0",
                "ratelimiter.limits.per-ip.algorithm=token-bucket",
                "ratelimiter.limits.per-ip.capacity=5",
                "ratelimiter.limits.per-ip.permits=1",
                "ratelimiter.limits.per-ip.period=1h",
                "ratelimiter.limits.per-user.algorithm=token-bucket",
                "ratelimiter.limits.per-user.capacity=2",
                "ratelimiter.limits.per-user.period=1h",
                "ratelimiter.limits.both.all-of[0].algorithm=token-bucket",
                "ratelimiter.limits.both.all-of[0].capacity=100",
                "ratelimiter.limits.both.all-of[0].period=1h",
                "ratelimiter.limits.both.all-of[1].algorithm=sliding-window-counter",
                "ratelimiter.limits.both.all-of[1].permits=1000",
                "ratelimiter.limits.both.all-of[1].period=1h",
                "ratelimiter.http.rules[0].limit=per-ip",
                "ratelimiter.http.rules[0].paths=/ip",
                "ratelimiter.http.rules[1].limit=both",
                "ratelimiter.http.rules[1].paths=/users/**").run();
    }

    @BeforeAll
    static void start() {
        redis = RedisProcess.start();
        a = instance();
        b = instance();
    }

    @AfterAll
    static void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    static HttpResponse<String> get(ConfigurableApplicationContext app, String path) throws Exception {
        String base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void twoInstancesAdmitExactlyTheSharedLimitThenThePolicyAnswersWhileRedisIsDown() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            statuses.add(get(i % 2 == 0 ? a : b, "/ip").statusCode());
        }
        assertThat(statuses.stream().filter(s -> s == 200).count()).isEqualTo(5);
        assertThat(statuses.subList(0, 5)).containsOnly(200);
        assertThat(statuses.subList(5, 12)).containsOnly(429);
        assertThat(get(a, "/actuator/health").body()).contains("\"ratelimiter\"")
                .contains("\"per-ip\":{\"state\":\"redis\"");
        assertThat(get(a, "/actuator/prometheus").body()).as("instance a made 6 calls to Redis for per-ip")
                .containsPattern("ratelimiter_backend_calls_seconds_count\\{[^}]*name=\"per-ip\"[^}]*outcome=\"success\"[^}]*\\} 6\\b")
                .containsPattern("ratelimiter_backend_calls_seconds_count\\{[^}]*name=\"per-ip\"[^}]*outcome=\"failure\"[^}]*\\} 0\\b");

        redis.kill();
        HttpResponse<String> answered = get(b, "/ip");
        assertThat(answered.statusCode()).isEqualTo(429);
        assertThat(answered.headers().firstValue("Retry-After")).hasValue("7");
        HttpResponse<String> health = get(b, "/actuator/health");
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(health.body()).contains("\"per-ip\":{\"state\":\"failure-policy\"")
                .contains("\"policy\":\"FAIL_CLOSED\"");
        assertThat(get(b, "/users/u1").statusCode()).as("the composite's policy answers too").isEqualTo(429);
        assertThat(get(b, "/actuator/health").body()).contains("\"both\":{\"state\":\"failure-policy\"");
        assertThat(get(b, "/actuator/prometheus").body())
                .containsPattern("ratelimiter_backend_calls_seconds_count\\{[^}]*name=\"per-ip\"[^}]*outcome=\"failure\"[^}]*\\} 1\\b")
                .containsPattern("ratelimiter_backend_calls_seconds_count\\{[^}]*name=\"both\"[^}]*outcome=\"failure\"[^}]*\\} 1\\b")
                .containsPattern("ratelimiter_failure_policy_total\\{[^}]*name=\"both\"[^}]*\\} 1\\.0");

        redis.restart();
        // Lettuce reconnects on its own; until it has, the policy keeps answering.
        HttpResponse<String> back = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            back = get(b, "/ip");
            if (back.statusCode() == 200) {
                break;
            }
            Thread.onSpinWait();
        }
        assertThat(back.statusCode()).as("Redis decides again once it is back (a fresh server: a full bucket)")
                .isEqualTo(200);
        assertThat(back.headers().allValues("RateLimit")).containsExactly("\"per-ip\";r=4");
        assertThat(get(b, "/actuator/health").body()).contains("\"per-ip\":{\"state\":\"redis\"");
    }
}

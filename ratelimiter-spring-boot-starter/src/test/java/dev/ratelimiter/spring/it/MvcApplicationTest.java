package dev.ratelimiter.spring.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.conformance.FakeClock;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real Spring MVC application on a random port, called with a real HTTP client; time is the
 * application's {@link FakeClock} bean, so nothing sleeps.
 */
class MvcApplicationTest {

    static ConfigurableApplicationContext app;
    static FakeClock clock;
    static String base;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        app = new SpringApplicationBuilder(MvcApp.class).properties(
                "server.port=0",
                "ratelimiter.limits.per-ip.algorithm=token-bucket",
                "ratelimiter.limits.per-ip.capacity=3",
                "ratelimiter.limits.per-ip.permits=1",
                "ratelimiter.limits.per-ip.period=10s",
                "ratelimiter.limits.per-user.algorithm=token-bucket",
                "ratelimiter.limits.per-user.capacity=2",
                "ratelimiter.limits.per-user.permits=1",
                "ratelimiter.limits.per-user.period=1s",
                "ratelimiter.http.rules[0].limit=per-ip",
                "ratelimiter.http.rules[0].paths=/ip",
                "ratelimiter.http.rules[0].key=client-address").run();
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
    void theRuleAdmitsExactlyTheBucketThenAnswers429WithTheFieldsAndAProblem() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        List<HttpResponse<String>> responses = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = get("/ip");
            statuses.add(r.statusCode());
            responses.add(r);
        }
        assertThat(statuses).containsExactly(200, 200, 200, 429, 429);
        HttpResponse<String> first = responses.get(0);
        assertThat(first.headers().allValues("RateLimit-Policy")).containsExactly("\"per-ip\";q=3;w=30");
        assertThat(first.headers().allValues("RateLimit")).containsExactly("\"per-ip\";r=2");
        assertThat(responses.get(2).headers().allValues("RateLimit")).containsExactly("\"per-ip\";r=0");
        HttpResponse<String> refused = responses.get(3);
        assertThat(refused.headers().allValues("RateLimit")).containsExactly("\"per-ip\";r=0;t=10");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("10");
        assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/problem+json"));
        assertThat(refused.body()).contains("\"status\":429").contains("per-ip");

        clock.advance(Duration.ofSeconds(9));
        HttpResponse<String> early = get("/ip");
        assertThat(early.statusCode()).isEqualTo(429);
        assertThat(early.headers().firstValue("Retry-After")).hasValue("1");
        clock.advance(Duration.ofSeconds(1));
        assertThat(get("/ip").statusCode()).isEqualTo(200);
        assertThat(get("/ip").statusCode()).isEqualTo(429);
    }

    @Test
    void theAnnotationLimitsPerUserAndCallsTheFallbackWithTheRetryAfter() throws Exception {
        assertThat(get("/users/ann").body()).isEqualTo("profile:ann");
        assertThat(get("/users/ann").body()).isEqualTo("profile:ann");
        assertThat(get("/users/ann").body()).isEqualTo("busy:ann:1000");
        assertThat(get("/users/bob").body()).isEqualTo("profile:bob");
        clock.advance(Duration.ofSeconds(1));
        assertThat(get("/users/ann").body()).isEqualTo("profile:ann");
        assertThat(get("/users/ann").body()).isEqualTo("busy:ann:1000");
    }

    @Test
    void withoutAFallbackARefusalThrowsNamingTheLimitAndTheKey() {
        MvcApp.Profiles profiles = app.getBean(MvcApp.Profiles.class);
        assertThat(profiles.strict("carl")).isEqualTo("strict:carl");
        assertThat(profiles.strict("carl")).isEqualTo("strict:carl");
        assertThatThrownBy(() -> profiles.strict("carl"))
                .isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
                    assertThat(e.limiterName()).isEqualTo("per-user");
                    assertThat(e.key()).isEqualTo("carl");
                    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(1));
                });
    }

    @Test
    void aCompletionStageMethodIsRefusedByAFailedStage() {
        MvcApp.Profiles profiles = app.getBean(MvcApp.Profiles.class);
        assertThat(profiles.async("dan").toCompletableFuture().join()).isEqualTo("async:dan");
        assertThat(profiles.async("dan").toCompletableFuture().join()).isEqualTo("async:dan");
        assertThatThrownBy(() -> profiles.async("dan").toCompletableFuture().join())
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(RateLimitExceededException.class);
    }

    @Test
    void aMonoIsDecidedAtEachSubscription() {
        MvcApp.Profiles profiles = app.getBean(MvcApp.Profiles.class);
        var mono = profiles.mono("eve");
        assertThat(mono.block()).isEqualTo("mono:eve");
        // The bucket holds 2 and each subscription costs 2: the second is refused.
        assertThatThrownBy(mono::block).isInstanceOf(RateLimitExceededException.class);
        clock.advance(Duration.ofSeconds(2));
        assertThat(mono.block()).isEqualTo("mono:eve");
    }
}

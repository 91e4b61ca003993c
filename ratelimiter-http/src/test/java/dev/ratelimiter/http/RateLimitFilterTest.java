package dev.ratelimiter.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.local.LocalKeyedRateLimiter;
import dev.ratelimiter.local.LocalRateLimiters;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filter in a real servlet container (embedded Tomcat on a random port), called by a real
 * HTTP client; time is a fake clock.
 */
class RateLimitFilterTest {

    @TempDir
    Path baseDir;

    private final FakeClock clock = new FakeClock();
    private final HttpClient client = HttpClient.newHttpClient();
    private final AtomicInteger served = new AtomicInteger();
    private Tomcat tomcat;
    private int port;

    @AfterEach
    void stop() throws LifecycleException {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    private void start(Filter... filters) throws LifecycleException {
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        tomcat.setPort(0);
        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "hello", new HttpServlet() {
            @Override
            protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
                served.incrementAndGet();
                response.setContentType("text/plain");
                response.getWriter().write("hello");
            }
        });
        context.addServletMappingDecoded("/*", "hello");
        for (int i = 0; i < filters.length; i++) {
            FilterDef def = new FilterDef();
            def.setFilterName("limit" + i);
            def.setFilter(filters[i]);
            context.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName("limit" + i);
            map.addURLPatternDecoded("/api/*");
            context.addFilterMap(map);
        }
        tomcat.getConnector();
        tomcat.start();
        port = tomcat.getConnector().getLocalPort();
    }

    private HttpResponse<String> get(String path, String apiKey) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path));
        if (apiKey != null) {
            request.header("X-Api-Key", apiKey);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void allowsUpToTheLimitPerKeyThenAnswers429WithHeadersAndAProblemBody() throws Exception {
        KeyedRateLimiter<String> perKey = LocalKeyedRateLimiter.builder(TokenBucket.of(2, 1, Duration.ofSeconds(1)))
                .ticker(clock).build(String.class);
        start(RateLimitFilter.builder("api", perKey).key(request -> request.getHeader("X-Api-Key")).build());

        HttpResponse<String> first = get("/api/items", "alice");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("hello");
        assertThat(first.headers().allValues("RateLimit-Policy")).containsExactly("\"api\";q=2;w=2");
        assertThat(first.headers().allValues("RateLimit")).containsExactly("\"api\";r=1");
        assertThat(first.headers().firstValue("Retry-After")).isEmpty();
        assertThat(get("/api/items", "alice").headers().allValues("RateLimit")).containsExactly("\"api\";r=0");

        clock.advance(Duration.ofMillis(200));
        HttpResponse<String> refused = get("/api/items", "alice");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).contains("1");
        assertThat(refused.headers().allValues("RateLimit")).containsExactly("\"api\";r=0;t=1");
        assertThat(refused.headers().allValues("RateLimit-Policy")).containsExactly("\"api\";q=2;w=2");
        assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(refused.body()).contains("\"status\":429", "\"retryAfter\":1", "\"title\":\"Too Many Requests\"");
        assertThat(served).hasValue(2);

        // Another key has its own limit; outside the filter's pattern nothing is limited.
        assertThat(get("/api/items", "bob").statusCode()).isEqualTo(200);
        assertThat(get("/health", "alice").statusCode()).isEqualTo(200);
        assertThat(get("/health", "alice").headers().firstValue("RateLimit")).isEmpty();

        // A client that waits Retry-After out is served.
        clock.advance(Duration.ofSeconds(1));
        assertThat(get("/api/items", "alice").statusCode()).isEqualTo(200);
    }

    @Test
    void aCostAboveWhatTheLimitEverGrantsIs413WithoutRetryAfter() throws Exception {
        RateLimiter shared = LocalRateLimiters.create(SlidingWindow.log(5, Duration.ofMinutes(1)), clock);
        start(RateLimitFilter.builder("uploads", shared)
                .cost(request -> Long.parseLong(request.getHeader("X-Api-Key")))
                .build());

        HttpResponse<String> tooLarge = get("/api/upload", "6");
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(tooLarge.headers().firstValue("Retry-After")).isEmpty();
        assertThat(tooLarge.headers().allValues("RateLimit")).containsExactly("\"uploads\";r=5");
        assertThat(tooLarge.body()).contains("\"status\":413", "never grants more than 5");
        assertThat(get("/api/upload", "5").statusCode()).isEqualTo(200);
        assertThat(get("/api/upload", "1").statusCode()).isEqualTo(429);
        // A free request passes without a decision or headers.
        HttpResponse<String> free = get("/api/upload", "0");
        assertThat(free.statusCode()).isEqualTo(200);
        assertThat(free.headers().firstValue("RateLimit")).isEmpty();
        assertThat(served).hasValue(2);
    }

    @Test
    void twoFiltersEachAddTheirPolicyAndEitherCanRefuse() throws Exception {
        RateLimiter burst = LocalRateLimiters.create(TokenBucket.of(3, 3, Duration.ofSeconds(1)), clock);
        RateLimiter daily = LocalRateLimiters.create(SlidingWindow.counter(4, Duration.ofDays(1)), clock);
        start(RateLimitFilter.builder("burst", burst).build(), RateLimitFilter.builder("daily", daily).build());

        HttpResponse<String> ok = get("/api/x", null);
        assertThat(String.join(", ", ok.headers().allValues("RateLimit-Policy")))
                .isEqualTo("\"burst\";q=3;w=1, \"daily\";q=4;w=86400");
        assertThat(ok.headers().allValues("RateLimit")).containsExactly("\"burst\";r=2", "\"daily\";r=3");
        assertThat(get("/api/x", null).statusCode()).isEqualTo(200);
        assertThat(get("/api/x", null).statusCode()).isEqualTo(200);
        HttpResponse<String> byBurst = get("/api/x", null);
        assertThat(byBurst.statusCode()).isEqualTo(429);
        assertThat(byBurst.headers().allValues("RateLimit")).containsExactly("\"burst\";r=0;t=1");
        clock.advance(Duration.ofSeconds(1));
        assertThat(get("/api/x", null).statusCode()).isEqualTo(200);
        HttpResponse<String> byDaily = get("/api/x", null);
        assertThat(byDaily.statusCode()).isEqualTo(429);
        assertThat(byDaily.headers().allValues("RateLimit").get(1)).startsWith("\"daily\";r=0;t=");
        assertThat(served).hasValue(4);
    }

    @Test
    void headersOnAllowedResponsesCanBeTurnedOffAndSelectionLimitsSomeRequestsOnly() throws Exception {
        RateLimiter posts = LocalRateLimiters.create(TokenBucket.of(1, 1, Duration.ofMinutes(1)), clock);
        start(RateLimitFilter.builder("writes", posts).headersOnAllowed(false)
                .selecting(request -> "POST".equals(request.getMethod())).build());

        HttpRequest post = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/api/x"))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> allowed = client.send(post, HttpResponse.BodyHandlers.ofString());
        assertThat(allowed.statusCode()).isEqualTo(200);
        assertThat(allowed.headers().firstValue("RateLimit")).isEmpty();
        HttpResponse<String> refused = client.send(post, HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().allValues("RateLimit")).isEqualTo(List.of("\"writes\";r=0;t=60"));
        assertThat(get("/api/x", null).statusCode()).isEqualTo(200);
    }

    @Test
    void aKeyFunctionReturningNullIsAnErrorNotAFreePass() throws Exception {
        KeyedRateLimiter<String> perKey = LocalRateLimiters.keyed(TokenBucket.of(1, 1, Duration.ofSeconds(1)));
        start(RateLimitFilter.builder("api", perKey).key(request -> request.getHeader("X-Api-Key")).build());

        assertThat(get("/api/x", null).statusCode()).isEqualTo(500);
        assertThat(served).hasValue(0);
    }
}

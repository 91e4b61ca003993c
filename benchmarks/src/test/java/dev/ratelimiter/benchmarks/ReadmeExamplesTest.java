package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.RateLimiterFactory;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.RateLimiterRegistry;
import dev.ratelimiter.local.LocalCompositeKeyedRateLimiter;
import dev.ratelimiter.micrometer.RateLimiterMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import dev.ratelimiter.Decorators;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.http.ProblemDetails;
import dev.ratelimiter.http.RateLimitFilter;
import dev.ratelimiter.http.RateLimitHeaders;
import dev.ratelimiter.local.LocalKeyedRateLimiter;
import dev.ratelimiter.local.LocalRateLimiters;
import dev.ratelimiter.redis.CompositeLimiter;
import dev.ratelimiter.redis.FailurePolicy;
import dev.ratelimiter.redis.RedisRateLimiters;
import io.lettuce.core.ClientOptions;
import jakarta.servlet.Filter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every Java example of the top-level README compiles and does what the README says: each one
 * is copied here verbatim (checked by {@link #everyReadmeExampleIsCopiedHereVerbatim}) and
 * followed by assertions. The examples on the system clock never wait: each blocking acquire in
 * them is the first on its limiter.
 */
class ReadmeExamplesTest {

    private static final Path README = Path.of("..", "README.md");
    private static final Path THIS_SOURCE =
            Path.of("src", "test", "java", "dev", "ratelimiter", "benchmarks", "ReadmeExamplesTest.java");
    /** The Spring Boot section quotes the example application, whose own test runs it. */
    private static final Path SPRING_EXAMPLE =
            Path.of("..", "examples", "spring-boot-example", "src", "main", "java", "dev", "ratelimiter", "example");

    // The placeholders the examples use.
    private final Object request = "GET /";
    private final Object message = "hello";
    private final List<Object> handled = new ArrayList<>();
    private final List<Object> rejected = new ArrayList<>();
    private final List<Object> sent = new ArrayList<>();
    private final Service service = new Service();
    private int status = 200;

    private void handle(Object r) {
        handled.add(r);
    }

    private void reject(Object r) {
        rejected.add(r);
    }

    private void send(Object m) {
        sent.add(m);
    }

    private static final class Service {
        int calls;

        String fetch() {
            calls++;
            return "body";
        }
    }

    static long ceilSeconds(long nanos) {
        return nanos / 1_000_000_000L + (nanos % 1_000_000_000L == 0 ? 0 : 1);
    }

    @Test
    void everyReadmeExampleIsCopiedHereVerbatim() throws IOException {
        List<String> source = stripped(Files.readAllLines(THIS_SOURCE));
        List<List<String>> spring = new ArrayList<>();
        try (var files = Files.list(SPRING_EXAMPLE)) {
            for (Path f : files.sorted().toList()) {
                spring.add(stripped(Files.readAllLines(f)));
            }
        }
        assertThat(spring).as("the example application's sources").isNotEmpty();
        List<List<String>> examples = javaBlocks(Files.readAllLines(README));

        assertThat(examples).hasSizeGreaterThanOrEqualTo(12);
        for (List<String> example : examples) {
            assertThat(containsRun(source, example) || spring.stream().anyMatch(f -> containsRun(f, example)))
                    .as("README example not found verbatim in this test nor in the Spring Boot example:%n%s",
                            String.join("\n", example))
                    .isTrue();
        }
    }

    @Test
    void tokenBucket() {
        // Bursts of up to 100, refilled at 10 per second.
        RateLimiter api = LocalRateLimiters.create(TokenBucket.of(100, 10, Duration.ofSeconds(1)));
        if (api.tryAcquire()) {
            handle(request);
        } else {
            reject(request);
        }
        boolean batch = api.tryAcquire(20);   // all 20 permits or none; a refusal consumes nothing

        assertThat(handled).containsExactly(request);
        assertThat(batch).isTrue();
        assertThat(TokenBucket.builder().capacity(100).refill(10, Duration.ofSeconds(1)).build())
                .isEqualTo(TokenBucket.of(100, 10, Duration.ofSeconds(1)));
        // The same capacity and rate, kept as one permit per 100 ms.
        TokenBucket perSecond = TokenBucket.ofRate(100, 10.0);
        assertThat(perSecond.capacity()).isEqualTo(100);
        assertThat(perSecond.refillPermits() * 1_000_000_000L / perSecond.refillPeriodNanos()).isEqualTo(10);
    }

    @Test
    void leakyMeter() {
        // 50 per second, bursts of up to 10.
        RateLimiter meter = LocalRateLimiters.create(LeakyBucket.meter(50, Duration.ofSeconds(1), 10));
        boolean conforming = meter.tryAcquire();

        assertThat(conforming).isTrue();
    }

    @Test
    void leakyQueue() throws InterruptedException {
        // One admission every 200 ms; at most 20 permits wait at once.
        RateLimiter paced = LocalRateLimiters.create(LeakyBucket.queue(5, Duration.ofSeconds(1), 20));
        if (paced.tryAcquire(1, Duration.ofSeconds(2))) {   // waits for its turn, at most 2 s
            send(message);
        }

        assertThat(sent).containsExactly(message);
    }

    @Test
    void slidingLog() {
        // Never more than 60 in any minute.
        RateLimiter exact = LocalRateLimiters.create(SlidingWindow.log(60, Duration.ofMinutes(1)));
        boolean granted = exact.tryAcquire();

        assertThat(granted).isTrue();
    }

    @Test
    void slidingCounter() {
        // About 60 per minute, constant memory; up to 119 in a minute straddling a window boundary.
        RateLimiter cheap = LocalRateLimiters.create(SlidingWindow.counter(60, Duration.ofMinutes(1)));
        boolean admitted = cheap.tryAcquire();

        assertThat(admitted).isTrue();
    }

    private Map<String, String> headersFor(long permits) {
        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(2, 1, Duration.ofSeconds(1)), clock, clock);
        assertThat(limiter.tryAcquire(2)).isTrue();
        Map<String, String> headers = new LinkedHashMap<>();
        status = 200;
        Decision d = limiter.decide(permits);
        headers.put("RateLimit-Limit", Long.toString(d.limit()));
        headers.put("RateLimit-Remaining", Long.toString(d.remaining()));
        headers.put("RateLimit-Reset", Long.toString(ceilSeconds(d.resetNanos())));
        if (d.exceedsLimit()) {
            status = 413;   // more than the limit can ever grant: retrying will not help
        } else if (!d.isAllowed()) {
            headers.put("Retry-After", Long.toString(ceilSeconds(d.retryAfterNanos())));
            status = 429;   // Too Many Requests
        }
        return headers;
    }

    @Test
    void refusedDecisionBecomesTooManyRequestsWithRetryAfter() {
        Map<String, String> headers = headersFor(1);

        assertThat(status).isEqualTo(429);
        assertThat(headers).containsExactly(Map.entry("RateLimit-Limit", "2"), Map.entry("RateLimit-Remaining", "0"),
                Map.entry("RateLimit-Reset", "2"), Map.entry("Retry-After", "1"));
    }

    @Test
    void requestAboveTheLimitIsNeverRetryable() {
        Map<String, String> headers = headersFor(3);

        assertThat(status).isEqualTo(413);
        assertThat(headers).doesNotContainKey("Retry-After");
    }

    @Test
    void ceilSecondsRoundsUp() {
        assertThat(ceilSeconds(0)).isZero();
        assertThat(ceilSeconds(1)).isEqualTo(1);
        assertThat(ceilSeconds(1_000_000_000L)).isEqualTo(1);
        assertThat(ceilSeconds(1_000_000_001L)).isEqualTo(2);
        assertThat(ceilSeconds(Decision.NEVER)).isEqualTo(Long.MAX_VALUE / 1_000_000_000L + 1);
    }

    @Test
    void ietfFields() {
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(100, 10, Duration.ofSeconds(1)), new FakeClock());
        assertThat(limiter.tryAcquire(100)).isTrue();
        Decision decision = limiter.decide(30);
        String policy = RateLimitHeaders.policy("api", limiter.limit());   // "api";q=100;w=10
        String state = RateLimitHeaders.rateLimit("api", decision);        // "api";r=0;t=3 when refused

        assertThat(policy).isEqualTo("\"api\";q=100;w=10");
        assertThat(state).isEqualTo("\"api\";r=0;t=3");
        assertThat(RateLimitHeaders.retryAfterSeconds(decision)).isEqualTo(3);
        assertThat(ProblemDetails.json("api", decision)).contains("\"status\":429", "\"retryAfter\":3");
    }

    @Test
    void servletFilter() {
        KeyedRateLimiter<String> perClient = LocalRateLimiters.keyed(TokenBucket.of(100, 10, Duration.ofSeconds(1)));
        Filter filter = RateLimitFilter.builder("api", perClient)
                .key(request -> request.getHeader("X-Api-Key"))   // default: the client address
                .cost(request -> 1)                                // permits per request; 0 lets it through
                .build();

        assertThat(filter).hasToString("RateLimitFilter{policy=api, limiter=" + perClient + "}");
    }

    @Test
    void keyed() {
        KeyedRateLimiter<String> perUser = LocalRateLimiters.keyed(TokenBucket.of(20, 20, Duration.ofMinutes(1)));
        boolean allowed = perUser.tryAcquire("alice");

        LocalKeyedRateLimiter<String> perTenant = LocalKeyedRateLimiter
                .builder(SlidingWindow.counter(1_000, Duration.ofMinutes(1)))
                .maxKeys(50_000)
                .build();
        Decision tenantDecision = perTenant.decide("tenant-42", 1);
        perTenant.cleanUp();           // drop now every key that is back to full
        long held = perTenant.size();  // keys currently held

        assertThat(allowed).isTrue();
        assertThat(tenantDecision.isAllowed()).isTrue();
        assertThat(tenantDecision.remaining()).isEqualTo(999);
        assertThat(held).as("tenant-42 is not full again, so it is kept").isEqualTo(1);
    }

    @Test
    void decoratorRunsTheCallWhenGrantedAndThrowsWhenRefused() {
        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(1, 1, Duration.ofSeconds(1)), clock, clock);
        assertThat(Decorators.supplier(limiter, service::fetch).get()).isEqualTo("body");

        // The one permit is gone: the example's call is refused and never reaches the service.
        Supplier<String> guarded = Decorators.supplier(limiter, service::fetch);
        try {
            String body = guarded.get();
        } catch (RateLimitExceededException e) {
            Duration wait = e.retryAfter();
        }

        assertThat(service.calls).isEqualTo(1);
        assertThatThrownBy(guarded::get)
                .isInstanceOfSatisfying(RateLimitExceededException.class,
                        e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(1)));
        clock.advance(Duration.ofSeconds(1));
        assertThat(guarded.get()).isEqualTo("body");
        assertThat(service.calls).isEqualTo(2);
    }

    @Test
    void operations() {
        RateLimiter api = LocalRateLimiters.create(TokenBucket.of(10, 10, Duration.ofSeconds(1)));

        Decision wouldBe = api.peek(3);          // what decide(3) would answer now; consumes nothing
        long now = api.availablePermits();       // the most one request could be granted now

        if (api.tryAcquire(5)) {
            api.refund(2);                       // the work cost less than paid for: give 2 back
        }
        long taken = api.drain();                // upstream said 429: take every permit left
        api.reset();                             // back to full, history forgotten

        assertThat(wouldBe.isAllowed()).isTrue();
        assertThat(wouldBe.remaining()).isEqualTo(7);
        assertThat(now).isEqualTo(10);
        assertThat(taken).as("10 - 5 + 2, and what refilled meanwhile").isBetween(7L, 10L);
        assertThat(api.availablePermits()).isEqualTo(10);
    }

    @Test
    void operationsOnTheFakeClock() {
        FakeClock clock = new FakeClock();
        RateLimiter api = LocalRateLimiters.create(TokenBucket.of(10, 10, Duration.ofSeconds(1)), clock, clock);
        assertThat(api.tryAcquire(5)).isTrue();
        api.refund(2);
        assertThat(api.availablePermits()).isEqualTo(7);
        assertThat(api.drain()).isEqualTo(7);
        assertThat(api.peek(1).retryAfter()).isEqualTo(Duration.ofMillis(100));
        api.reset();
        assertThat(api.availablePermits()).isEqualTo(10);
    }

    @Test
    void reconfigure() {
        RateLimiter perSecond = LocalRateLimiters.create(TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        perSecond.tryAcquire(4);
        perSecond.reconfigure(TokenBucket.of(20, 20, Duration.ofSeconds(1)));  // keeps the 4 consumed

        assertThat(perSecond.limit()).isEqualTo(TokenBucket.of(20, 20, Duration.ofSeconds(1)));
        // A debt of 400 ms carried over: at 20 per second that is 8 permits short of 20.
        assertThat(perSecond.availablePermits()).isBetween(12L, 20L);
    }

    @Test
    void reconfigureOnTheFakeClock() {
        FakeClock clock = new FakeClock();
        RateLimiter perSecond = LocalRateLimiters.create(TokenBucket.of(10, 10, Duration.ofSeconds(1)), clock, clock);
        assertThat(perSecond.tryAcquire(4)).isTrue();
        perSecond.reconfigure(TokenBucket.of(20, 20, Duration.ofSeconds(1)));
        assertThat(perSecond.availablePermits()).isEqualTo(12);
        assertThatThrownBy(() -> perSecond.reconfigure(SlidingWindow.log(10, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void composite() {
        RateLimiter burstAndQuota = LocalRateLimiters.composite(
                TokenBucket.of(10, 10, Duration.ofSeconds(1)),
                TokenBucket.of(1_000, 1_000, Duration.ofHours(1)));
        boolean ok = burstAndQuota.tryAcquire();

        assertThat(ok).isTrue();
        assertThat(burstAndQuota.availablePermits()).isBetween(9L, 10L);
    }

    @Test
    void keyedComposite() {
        LocalCompositeKeyedRateLimiter<String, String> perUserInTenant = LocalRateLimiters.composite(
                (String user) -> user.substring(0, user.indexOf('/')),             // the group: the tenant
                List.of(TokenBucket.of(100, 100, Duration.ofSeconds(1))),          // shared by the tenant
                List.of(TokenBucket.of(10, 10, Duration.ofSeconds(1))));           // each user's own
        boolean allowed = perUserInTenant.tryAcquire("acme/alice");
        perUserInTenant.resetGroup("acme");

        assertThat(allowed).isTrue();
        assertThat(perUserInTenant.tryAcquire("acme/bob", 10)).isTrue();
        assertThat(perUserInTenant.tryAcquire("acme/bob")).as("bob's own limit is spent").isFalse();
    }

    @Test
    void listenerAndFactory() {
        LongAdder refusals = new LongAdder();
        RateLimiterListener countRefusals = new RateLimiterListener() {
            @Override
            public void onDenied(String limiter, Object key, long permits, Decision decision) {
                refusals.increment();
            }
        };
        RateLimiterFactory factory = LocalRateLimiters.factoryBuilder().listener(countRefusals).build();
        RateLimiter login = factory.create("login", TokenBucket.of(5, 5, Duration.ofMinutes(1)));

        for (int i = 0; i < 6; i++) {
            login.tryAcquire();
        }
        assertThat(refusals.sum()).isEqualTo(1);
    }

    @Test
    void registry() {
        RateLimiterFactory factory = LocalRateLimiters.factory();

        RateLimiterRegistry registry = RateLimiterRegistry.of(factory);
        RateLimiter search = registry.limiter("search", TokenBucket.of(20, 20, Duration.ofSeconds(1)));
        KeyedRateLimiter<String> perUser = registry.keyed("per-user", TokenBucket.of(5, 5, Duration.ofSeconds(1)));
        registry.reconfigure("search", TokenBucket.of(40, 40, Duration.ofSeconds(1)));
        List<RateLimiterRegistry.Entry> all = registry.entries();            // name, limit, single or keyed

        assertThat(registry.limiter("search", TokenBucket.of(40, 40, Duration.ofSeconds(1)))).isSameAs(search);
        assertThat(search.limit()).isEqualTo(TokenBucket.of(40, 40, Duration.ofSeconds(1)));
        assertThat(all).hasSize(2);
        assertThatThrownBy(() -> registry.limiter("search", TokenBucket.of(1, 1, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("search");
        assertThat(perUser.tryAcquire("alice")).isTrue();
    }

    @Test
    void fluentDecorators() {
        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(2, 2, Duration.ofSeconds(1)), clock, clock);
        KeyedRateLimiter<String> perUser = LocalKeyedRateLimiter.builder(TokenBucket.of(1, 1, Duration.ofSeconds(1)))
                .ticker(clock).build();

        Supplier<String> patient = Decorators.of(limiter)
                .named("quotes")
                .permits(2)
                .waitUpTo(Duration.ofMillis(100))
                .withFallback(refused -> "cached")
                .supplier(service::fetch);

        Function<String, String> perUserCall = Decorators.of(perUser)
                .named("per-user")
                .key((String user) -> user)
                .function(user -> "hello " + user);

        assertThat(patient.get()).isEqualTo("body");
        assertThat(patient.get()).as("2 permits need 1 s, more than the 100 ms wait").isEqualTo("cached");
        assertThat(perUserCall.apply("alice")).isEqualTo("hello alice");
        assertThatThrownBy(() -> perUserCall.apply("alice"))
                .isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
                    assertThat(e.limiterName()).isEqualTo("per-user");
                    assertThat(e.key()).isEqualTo("alice");
                    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(1));
                });
    }

    @Test
    void micrometer() {
        MeterRegistry meterRegistry = new SimpleMeterRegistry();
        RateLimiterMetrics metrics = new RateLimiterMetrics(meterRegistry);
        RateLimiterFactory limiters = LocalRateLimiters.factoryBuilder().listener(metrics).build();

        RateLimiter search = limiters.create("search", TokenBucket.of(10, 10, Duration.ofSeconds(1)));
        search.tryAcquire();
        double granted = meterRegistry.get("ratelimiter.decisions")
                .tags("name", "search", "outcome", "granted").counter().count();   // 1.0

        assertThat(granted).isEqualTo(1.0);
    }

    @Test
    void blockingAcquire() {
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(1, 1, Duration.ofSeconds(1)));

        try {
            if (limiter.tryAcquire(1, Duration.ofMillis(500))) {
                handle(request);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }

        assertThat(handled).containsExactly(request);
    }

    @Test
    void fakeClock() {
        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(2, 1, Duration.ofSeconds(1)), clock, clock);
        assertThat(limiter.tryAcquire(2)).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.tryAcquire()).isTrue();
    }

    @Test
    void blockingAcquireOnTheFakeClockAdvancesItInsteadOfWaiting() throws InterruptedException {
        FakeClock clock = new FakeClock();

        RateLimiter paced = LocalRateLimiters.create(LeakyBucket.queue(5, Duration.ofSeconds(1), 20), clock, clock);
        long start = clock.read();
        assertThat(paced.tryAcquire(1, Duration.ofSeconds(1))).isTrue();   // the first leaves at once
        assertThat(paced.tryAcquire(1, Duration.ofSeconds(1))).isTrue();   // the next one 200 ms later
        assertThat(clock.read() - start).isEqualTo(Duration.ofMillis(200).toNanos());
    }

    @Test
    void badConfigurationNamesTheParameterAndTheValue() {
        assertThatThrownBy(() -> TokenBucket.of(0, 10, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be > 0: capacity=0");
        assertThatThrownBy(() -> SlidingWindow.log(10, Duration.ofNanos(1)))
                .hasMessage("window must be >= 1 ms: window=PT0.000000001S");
    }

    /** The lines of each {@code ```java} block, stripped of indentation, blank lines dropped. */
    // ---- The Redis examples: compile-only, since they need a Redis server; the tests of
    // ratelimiter-redis make the same calls against real servers (standalone and cluster).

    private final String userId = "alice";
    private final Log log = new Log();

    private static final class Log {
        void warn(String message, Throwable t) {
        }
    }

    private void respond(boolean allowed, Duration retryAfter) {
    }

    @SuppressWarnings("unused")
    private void redisStandalone() {
        RedisClient client = RedisClient.create("redis://localhost:6379");
        StatefulRedisConnection<String, String> connection = client.connect();
        RedisRateLimiters redis = RedisRateLimiters.builder(connection.async())
                .timeout(Duration.ofMillis(200))   // every call answers or fails within this
                .build();
        RedisRateLimiters.KeyedLimiter perUser = redis.keyed("api", TokenBucket.of(20, 20, Duration.ofMinutes(1)));
        if (perUser.tryAcquire(userId)) {
            handle(request);
        } else {
            reject(request);
        }
        RateLimiter global = redis.create("search", SlidingWindow.log(1000, Duration.ofMinutes(1)));
    }

    @SuppressWarnings("unused")
    private void redisCluster() {
        RedisClusterClient clusterClient = RedisClusterClient.create("redis://node1:6379");
        StatefulRedisClusterConnection<String, String> cluster = clusterClient.connect();
        RedisRateLimiters redis = RedisRateLimiters.builder(cluster.async()).build();
    }

    @SuppressWarnings("unused")
    private void redisClusterOptions(RedisClusterClient clusterClient, StatefulRedisClusterConnection<String, String> cluster) {
        Duration timeout = Duration.ofMillis(200);
        clusterClient.setOptions(ClusterClientOptions.builder()
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        .enableAllAdaptiveRefreshTriggers()
                        .enablePeriodicRefresh(Duration.ofSeconds(30))
                        .build())
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).keepAlive(true).build())
                .build());
        RedisRateLimiters clusterLimiters = RedisRateLimiters.builder(cluster.async()).timeout(timeout).build();
    }

    @SuppressWarnings("unused")
    private void redisAsync(RedisRateLimiters.KeyedLimiter perUser) {
        perUser.decideAsync(userId, 1).thenAccept(d -> respond(d.isAllowed(), d.retryAfter()));
    }

    @SuppressWarnings("unused")
    private void redisClientTime(StatefulRedisConnection<String, String> connection) {
        RedisRateLimiters redis = RedisRateLimiters.builder(connection.async())
                .clientTime(() -> System.currentTimeMillis() * 1_000_000L, TimeUnit.MICROSECONDS, 0)
                .build();
    }

    @SuppressWarnings("unused")
    private void redisFailurePolicy(StatefulRedisConnection<String, String> connection) {
        RedisRateLimiters redis = RedisRateLimiters.builder(connection.async())
                .timeout(Duration.ofMillis(200))
                .failurePolicy(FailurePolicy.fallbackToLocal(4))   // 4 instances share the limit
                .failureListener(e -> log.warn("rate limiter degraded", e))
                .build();
    }

    @SuppressWarnings("unused")
    private void redisRefusalCache(StatefulRedisConnection<String, String> connection) {
        RedisRateLimiters redis = RedisRateLimiters.builder(connection.async())
                .refusalCache(4_096)        // entries per limiter; the default is 1,024, 0 turns it off
                .build();
    }

    @SuppressWarnings("unused")
    private void redisCoalescing(StatefulRedisConnection<String, String> connection) {
        RedisRateLimiters oneCallEach = RedisRateLimiters.builder(connection.async())
                .coalescing(false)          // every decision its own script call
                .build();
    }

    @SuppressWarnings("unused")
    private void redisComposite(RedisRateLimiters redis) {
        // 10 per second and 1,000 per hour, per user, in one decision.
        CompositeLimiter perUserBoth = redis.composite("user",
                TokenBucket.of(10, 10, Duration.ofSeconds(1)),
                SlidingWindow.counter(1_000, Duration.ofHours(1)));
        boolean ok = perUserBoth.tryAcquire(userId);

        // Per tenant (the group) and per user within the tenant, keys like "acme:alice".
        CompositeLimiter tenantAndUser = redis.composite("tenant",
                key -> key.substring(0, key.indexOf(':')),                 // the group of a key
                List.of(TokenBucket.of(1_000, 100, Duration.ofSeconds(1))),  // each group's limits
                List.of(TokenBucket.of(20, 5, Duration.ofSeconds(1))));      // each key's limits
        Decision d = tenantAndUser.decide("acme:alice", 1);
    }

    private static List<List<String>> javaBlocks(List<String> markdown) {
        List<List<String>> blocks = new ArrayList<>();
        List<String> current = null;
        for (String line : markdown) {
            if (current == null && line.strip().equals("```java")) {
                current = new ArrayList<>();
            } else if (current != null && line.strip().equals("```")) {
                blocks.add(current);
                current = null;
            } else if (current != null && !line.isBlank()) {
                current.add(line.strip());
            }
        }
        return blocks;
    }

    private static List<String> stripped(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            if (!line.isBlank()) {
                out.add(line.strip());
            }
        }
        return out;
    }

    private static boolean containsRun(List<String> haystack, List<String> run) {
        return run.isEmpty() || java.util.Collections.indexOfSubList(haystack, run) >= 0;
    }
}

package dev.ratelimiter.spring.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;

import dev.ratelimiter.spring.RateLimited;

import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.annotation.Import;

/**
 * Every mistake fails start-up with a message naming what is wrong: a bad property (path and
 * value), a fallback whose signature does not fit (the method), an unknown limit name.
 */
class StartupFailureTest {

    static final String[] LIMIT = {
            "ratelimiter.limits.api.algorithm=token-bucket",
            "ratelimiter.limits.api.capacity=5",
            "ratelimiter.limits.api.period=1s"};

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Empty {
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(WrongFallback.class)
    static class WithWrongFallback {
    }

    public static class WrongFallback {
        @RateLimited(name = "api", key = "#id", fallbackMethod = "busy")
        public String get(String id) {
            return id;
        }

        String busy(int id) {
            return "busy";
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(WrongReturn.class)
    static class WithWrongReturn {
    }

    public static class WrongReturn {
        @RateLimited(name = "api", fallbackMethod = "busy")
        public String get(String id) {
            return id;
        }

        Integer busy(String id) {
            return 0;
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(UnknownName.class)
    static class WithUnknownName {
    }

    public static class UnknownName {
        @RateLimited(name = "nope")
        public String get(String id) {
            return id;
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(BadKey.class)
    static class WithBadKey {
    }

    public static class BadKey {
        @RateLimited(name = "api", key = "#id +")
        public String get(String id) {
            return id;
        }
    }

    /** Starts the application, which must fail; asserts on the deepest cause (or the failure itself). */
    static AbstractThrowableAssert<?, ? extends Throwable> start(Class<?> app, String... properties) {
        return start(WebApplicationType.NONE, app, properties);
    }

    static AbstractThrowableAssert<?, ? extends Throwable> start(WebApplicationType web, Class<?> app,
                                                                 String... properties) {
        List<String> all = new ArrayList<>(List.of(properties));
        all.add("server.port=0");
        Throwable failure = catchThrowable(() -> new SpringApplicationBuilder(app).web(web)
                .properties(all.toArray(String[]::new)).run().close());
        assertThat(failure).as("start-up fails").isNotNull();
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return assertThat(root);
    }

    static String[] with(String... more) {
        List<String> all = new ArrayList<>(List.of(LIMIT));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void aNegativeCapacityNamesThePropertyAndTheValue() {
        start(Empty.class, "ratelimiter.limits.api.algorithm=token-bucket", "ratelimiter.limits.api.capacity=-5",
                "ratelimiter.limits.api.period=1s")
                .hasMessage("ratelimiter.limits.api.capacity=-5: must be > 0");
    }

    @Test
    void aMissingAlgorithmAndAMissingPeriodAreNamed() {
        start(Empty.class, "ratelimiter.limits.api.capacity=5", "ratelimiter.limits.api.period=1s")
                .hasMessageStartingWith("ratelimiter.limits.api.algorithm=null: required");
        start(Empty.class, "ratelimiter.limits.api.algorithm=sliding-window-log", "ratelimiter.limits.api.permits=5")
                .hasMessageStartingWith("ratelimiter.limits.api.period=null: required");
    }

    @Test
    void anUnknownAlgorithmFailsBindingWithThePropertyAndTheValue() {
        // Spring Boot's binder refuses it, naming the property and the value.
        Throwable failure = catchThrowable(() -> new SpringApplicationBuilder(Empty.class)
                .web(WebApplicationType.NONE).properties("ratelimiter.limits.api.algorithm=fixed-window",
                        "ratelimiter.limits.api.permits=5", "ratelimiter.limits.api.period=1s").run().close());
        assertThat(failure).hasStackTraceContaining("Failed to bind properties under 'ratelimiter.limits.api.algorithm'")
                .hasStackTraceContaining("fixed-window");
    }

    @Test
    void aCompositePartIsNamedByItsIndex() {
        start(Empty.class, "ratelimiter.limits.api.all-of[0].algorithm=token-bucket",
                "ratelimiter.limits.api.all-of[0].capacity=5", "ratelimiter.limits.api.all-of[0].period=1s",
                "ratelimiter.limits.api.all-of[1].algorithm=sliding-window-counter",
                "ratelimiter.limits.api.all-of[1].permits=0", "ratelimiter.limits.api.all-of[1].period=1h")
                .hasMessage("ratelimiter.limits.api.all-of[1].permits=0: must be > 0");
    }

    @Test
    void aBadHttpRuleNamesItsProperty() {
        start(WebApplicationType.SERVLET, Empty.class,
                with("ratelimiter.http.rules[0].limit=api", "ratelimiter.http.rules[0].key=cookie"))
                .hasMessageStartingWith("ratelimiter.http.rules[0].key=cookie: must be client-address");
        start(WebApplicationType.REACTIVE, Empty.class, with("ratelimiter.http.rules[0].limit=other"))
                .hasMessage("ratelimiter.http.rules[0].limit=other: must name a limit of ratelimiter.limits: [api]");
    }

    @Test
    void aFallbackWhoseParametersDoNotFitFailsStartUpNamingTheMethod() {
        start(WithWrongFallback.class, LIMIT)
                .hasMessageContaining("@RateLimited on " + WrongFallback.class.getName() + ".get(String)")
                .hasMessageContaining("fallbackMethod \"busy\" does not fit: expected busy(String) or "
                        + "busy(String, RateLimitExceededException) returning String")
                .hasMessageContaining("found [" + WrongFallback.class.getName() + ".busy(int)]");
    }

    @Test
    void aFallbackWhoseReturnDoesNotFitFailsStartUp() {
        start(WithWrongReturn.class, LIMIT)
                .hasMessageContaining("fallbackMethod \"busy\" returns java.lang.Integer, which is not "
                        + "assignable to the method's return type java.lang.String");
    }

    @Test
    void anUnknownLimitNameFailsStartUp() {
        start(WithUnknownName.class, LIMIT)
                .hasMessage("@RateLimited on " + UnknownName.class.getName() + ".get(String): "
                        + "name=\"nope\" is not a limit of ratelimiter.limits; the limits are [api]");
    }

    @Test
    void aKeyThatIsNotSpelFailsStartUpNamingTheMethod() {
        Throwable failure = catchThrowable(() -> new SpringApplicationBuilder(WithBadKey.class)
                .web(WebApplicationType.NONE).properties(LIMIT).run().close());
        assertThat(failure).hasStackTraceContaining("@RateLimited on " + BadKey.class.getName()
                + ".get(String): key is not a valid SpEL expression: key=\"#id +\"");
    }

    @Test
    void aBadRefusalCacheNamesItsProperty() {
        try (dev.ratelimiter.redis.testing.RedisProcess redis = dev.ratelimiter.redis.testing.RedisProcess.start()) {
            String port = "spring.data.redis.port=" + redis.port();
            start(Empty.class, with("ratelimiter.limits.api.backend=redis", "spring.data.redis.host=127.0.0.1", port,
                    "ratelimiter.redis.refusal-cache=-1"))
                    .hasMessage("ratelimiter.redis.refusal-cache=-1: refusalCache entries must be between 0 (off) and "
                            + "1048576: entries=-1");
            start(Empty.class, with("ratelimiter.limits.api.backend=redis", "spring.data.redis.host=127.0.0.1", port,
                    "ratelimiter.redis.refusal-cache-max-age=0s"))
                    .hasMessage("ratelimiter.redis.refusal-cache-max-age=PT0S: refusalCache maxAge must be between "
                            + "1 ms and PT24H: maxAge=PT0S");
        }
    }

    @Test
    void aRedisLimitWithoutRedisOnTheClassPathOrAConnectionSaysWhatToAdd() {
        start(Empty.class, with("ratelimiter.limits.api.backend=redis",
                "spring.autoconfigure.exclude=org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration"))
                .hasMessageContaining("the Redis backend needs a Redis connection");
    }
}

package dev.ratelimiter.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterFactory;
import dev.ratelimiter.RateLimiterListener.DropCause;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.local.LocalKeyedRateLimiter;
import dev.ratelimiter.local.LocalRateLimiters;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The meters, read from a real {@link SimpleMeterRegistry} after limiters built by a listened factory decide. */
class RateLimiterMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RateLimiterMetrics metrics = new RateLimiterMetrics(registry);
    private final FakeClock clock = new FakeClock();
    private final RateLimiterFactory factory =
            LocalRateLimiters.factoryBuilder().ticker(clock).sleeper(clock).listener(metrics).build();

    private double count(String meter, String name, String... tags) {
        return registry.get(meter).tag("name", name).tags(tags).counter().count();
    }

    @Test
    void decisionsAndPermitsAreCountedByNameAndOutcome() {
        RateLimiter api = factory.create("api", TokenBucket.of(3, 3, Duration.ofSeconds(1)));

        assertThat(api.tryAcquire(2)).isTrue();
        assertThat(api.decide(1).isAllowed()).isTrue();
        assertThat(api.tryAcquire()).isFalse();
        assertThat(api.decide(2).isAllowed()).isFalse();

        assertThat(count(RateLimiterMetrics.DECISIONS, "api", "outcome", "granted")).isEqualTo(2);
        assertThat(count(RateLimiterMetrics.DECISIONS, "api", "outcome", "denied")).isEqualTo(2);
        assertThat(count(RateLimiterMetrics.PERMITS, "api", "outcome", "granted")).isEqualTo(3);
        assertThat(count(RateLimiterMetrics.PERMITS, "api", "outcome", "denied")).isEqualTo(3);
    }

    @Test
    void keyedLimitersAreMeasuredUnderTheirNameNeverByKey() {
        KeyedRateLimiter<String> perUser = factory.keyed("per-user", TokenBucket.of(1, 1, Duration.ofSeconds(1)));

        assertThat(perUser.tryAcquire("alice")).isTrue();
        assertThat(perUser.tryAcquire("bob")).isTrue();
        assertThat(perUser.tryAcquire("alice")).isFalse();

        assertThat(count(RateLimiterMetrics.DECISIONS, "per-user", "outcome", "granted")).isEqualTo(2);
        assertThat(count(RateLimiterMetrics.DECISIONS, "per-user", "outcome", "denied")).isEqualTo(1);
        assertThat(registry.getMeters()).allSatisfy(m ->
                assertThat(m.getId().getTags()).noneMatch(t -> t.getValue().equals("alice")));
    }

    @Test
    void waitsAreTimedWithTheirOutcome() throws InterruptedException {
        RateLimiter queue = factory.create("queue", TokenBucket.of(1, 1, Duration.ofSeconds(1)));
        assertThat(queue.tryAcquire()).isTrue();

        assertThat(queue.tryAcquire(1, Duration.ofSeconds(2))).isTrue(); // the fake clock sleeps 1 s

        Timer granted = registry.get(RateLimiterMetrics.WAITS).tags("name", "queue", "outcome", "granted").timer();
        assertThat(granted.count()).isEqualTo(1);
        assertThat(granted.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(1000.0);
    }

    @Test
    void reconfigurationsAreCounted() {
        RateLimiter api = factory.create("api", TokenBucket.of(3, 3, Duration.ofSeconds(1)));
        metrics.onReconfigured("api", api.limit(), TokenBucket.of(6, 6, Duration.ofSeconds(1)));

        assertThat(count(RateLimiterMetrics.RECONFIGURATIONS, "api")).isEqualTo(1);
    }

    @Test
    void failurePolicyAnswersMisconfigurationsAndDroppedKeysAreCounted() {
        Decision open = Decision.allowed(1, 0, 0, 10);
        metrics.onFailurePolicy("redis-api", "k", "failOpen", open, new IllegalStateException("down"));
        metrics.onFailurePolicy("redis-api", "k", "failOpen", open, new IllegalStateException("down"));
        metrics.onMisconfiguration("redis-api", "k", new IllegalStateException("READONLY"));
        metrics.onKeyDropped("per-user", "alice", DropCause.IDLE);
        metrics.onKeyDropped("per-user", "bob", DropCause.BOUND);

        assertThat(count(RateLimiterMetrics.FAILURE_POLICY, "redis-api", "policy", "failOpen", "outcome", "granted"))
                .isEqualTo(2);
        assertThat(count(RateLimiterMetrics.MISCONFIGURATIONS, "redis-api")).isEqualTo(1);
        assertThat(count(RateLimiterMetrics.KEYS_DROPPED, "per-user", "cause", "idle")).isEqualTo(1);
        assertThat(count(RateLimiterMetrics.KEYS_DROPPED, "per-user", "cause", "bound")).isEqualTo(1);
    }

    @Test
    void backendCallsAreTimedByOutcomeAndOnlyForLimitersThatCall() {
        RateLimiter local = factory.create("local-api", TokenBucket.of(1, 1, Duration.ofSeconds(1)));
        assertThat(local.tryAcquire()).isTrue();
        metrics.onBackendCall("redis-api", 2_000_000L, true);
        metrics.onBackendCall("redis-api", 4_000_000L, true);
        metrics.onBackendCall("redis-api", 50_000_000L, false);

        Timer ok = registry.get(RateLimiterMetrics.BACKEND_CALLS).tag("name", "redis-api").tag("outcome", "success").timer();
        Timer failed = registry.get(RateLimiterMetrics.BACKEND_CALLS).tag("name", "redis-api").tag("outcome", "failure")
                .timer();
        assertThat(ok.count()).isEqualTo(2);
        assertThat(ok.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(6.0);
        assertThat(ok.max(TimeUnit.MILLISECONDS)).isEqualTo(4.0);
        assertThat(failed.count()).isEqualTo(1);
        assertThat(failed.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(50.0);
        assertThat(registry.find(RateLimiterMetrics.BACKEND_CALLS).tag("name", "local-api").timers())
                .as("a local limiter makes no backend call, so it has no call timer").isEmpty();
    }

    @Test
    void theKeysGaugeReadsTheKeyedLimitersSize() {
        LocalKeyedRateLimiter<String> perUser = LocalRateLimiters.keyed(TokenBucket.of(1, 1, Duration.ofSeconds(1)));
        metrics.gaugeKeys("per-user", perUser::size);

        assertThat(perUser.tryAcquire("alice")).isTrue();
        assertThat(perUser.tryAcquire("bob")).isTrue();

        assertThat(registry.get(RateLimiterMetrics.KEYS).tag("name", "per-user").gauge().value()).isEqualTo(2.0);
    }

    @Test
    void extraTagsGoOnEveryMeter() {
        RateLimiterMetrics tagged = new RateLimiterMetrics(registry, Tags.of("application", "shop"));
        tagged.onGranted("api", null, 1, Decision.allowed(1, 0, 0, 1));

        assertThat(registry.get(RateLimiterMetrics.DECISIONS).tags("application", "shop", "name", "api", "outcome", "granted").counter().count())
                .isEqualTo(1);
    }

    @Test
    void nullArgumentsAreRefusedByName() {
        assertThatThrownBy(() -> new RateLimiterMetrics(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("registry");
        assertThatThrownBy(() -> metrics.gaugeKeys("x", null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("keys");
    }
}

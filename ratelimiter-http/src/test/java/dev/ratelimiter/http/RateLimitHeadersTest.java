package dev.ratelimiter.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.local.LocalRateLimiters;
import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class RateLimitHeadersTest {

    @Test
    void policyOfEachFamilyGivesItsQuotaAndTheSecondsToGrantItAgain() {
        assertThat(RateLimitHeaders.policy("api", TokenBucket.of(100, 10, Duration.ofSeconds(1))))
                .isEqualTo("\"api\";q=100;w=10");
        assertThat(RateLimitHeaders.policy("daily", SlidingWindow.log(1000, Duration.ofDays(1))))
                .isEqualTo("\"daily\";q=1000;w=86400");
        assertThat(RateLimitHeaders.policy("c", SlidingWindow.counter(5, Duration.ofMillis(1500))))
                .isEqualTo("\"c\";q=5;w=2");
        // 3 per second, capacity 10: 10/3 s rounds up to 4.
        assertThat(RateLimitHeaders.policy("b", TokenBucket.of(10, 3, Duration.ofSeconds(1))))
                .isEqualTo("\"b\";q=10;w=4");
        LeakyBucket meter = LeakyBucket.meter(50, Duration.ofSeconds(1), 10);
        assertThat(RateLimitHeaders.quota(meter)).isEqualTo(meter.maxPermits());
        assertThat(RateLimitHeaders.windowSeconds(meter)).isEqualTo(1);
        // Under a second: at least 1.
        assertThat(RateLimitHeaders.windowSeconds(SlidingWindow.log(1, Duration.ofMillis(1)))).isEqualTo(1);
    }

    @Test
    void windowOfTheSlowestLimitsIsExact() {
        // About 133 years to refill: the products exceed a long, the result does not.
        TokenBucket slow = TokenBucket.of(1L << 20, 1, Duration.ofSeconds(4000));
        assertThat(RateLimitHeaders.windowSeconds(slow)).isEqualTo((1L << 20) * 4000);
        // The largest capacity at 10^9 per second: 4,611,686,018.43 s, rounded up.
        TokenBucket largest = TokenBucket.of(Long.MAX_VALUE / 2, 1_000_000, Duration.ofMillis(1));
        assertThat(RateLimitHeaders.windowSeconds(largest)).isEqualTo(4_611_686_019L);
    }

    @Test
    void allowedDecisionCarriesRemainingOnlyAndRefusalCarriesTheSecondsToWait() {
        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(2, 1, Duration.ofSeconds(2)), clock);
        assertThat(RateLimitHeaders.rateLimit("api", limiter.decide(1))).isEqualTo("\"api\";r=1");
        assertThat(RateLimitHeaders.rateLimit("api", limiter.decide(1))).isEqualTo("\"api\";r=0");
        clock.advance(Duration.ofMillis(500));
        Decision refused = limiter.decide(1);
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofMillis(1500));
        assertThat(RateLimitHeaders.rateLimit("api", refused)).isEqualTo("\"api\";r=0;t=2");
        assertThat(RateLimitHeaders.retryAfterSeconds(refused)).isEqualTo(2);

        Decision never = limiter.decide(3);
        assertThat(never.exceedsLimit()).isTrue();
        assertThat(RateLimitHeaders.rateLimit("api", never)).isEqualTo("\"api\";r=0");
        assertThatThrownBy(() -> RateLimitHeaders.retryAfterSeconds(never))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decision=");
        assertThatThrownBy(() -> RateLimitHeaders.retryAfterSeconds(Decision.allowed(1, 0, 0, 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Property(tries = 300)
    void retryAfterIsNeverEarlierThanTheRetryAfterOfTheDecision(@ForAll @LongRange(min = 1, max = Long.MAX_VALUE - 1) long nanos) {
        long seconds = RateLimitHeaders.ceilSeconds(nanos);
        assertThat(seconds * 1_000_000_000.0).isGreaterThanOrEqualTo((double) nanos);
        assertThat((seconds - 1) * 1_000_000_000L).isLessThan(nanos);
    }

    @Test
    void policyNamesAreStructuredFieldStrings() {
        assertThat(RateLimitHeaders.policy("a \"b\" \\c", SlidingWindow.log(1, Duration.ofSeconds(1))))
                .isEqualTo("\"a \\\"b\\\" \\\\c\";q=1;w=1");
        assertThatThrownBy(() -> RateLimitHeaders.checkPolicyName("caf\u00e9"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("policyName=caf\u00e9").hasMessageContaining("U+00E9");
        assertThatThrownBy(() -> RateLimitHeaders.checkPolicyName("a\nb")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RateLimitHeaders.checkPolicyName("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("policyName");
        assertThatThrownBy(() -> RateLimitHeaders.checkPolicyName(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("policyName");
        assertThatThrownBy(() -> RateLimitHeaders.ceilSeconds(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nanos=-1");
    }

    @Test
    void problemBodiesAreJsonWithTheStatusAndTheWait() {
        Decision refused = Decision.denied(1, 0, 2_000_000_001L, 5_000_000_000L, 10);
        assertThat(ProblemDetails.status(refused)).isEqualTo(429);
        assertThat(ProblemDetails.json("api", refused)).isEqualTo("{\"type\":\"about:blank\",\"title\":\"Too Many Requests\","
                + "\"status\":429,\"detail\":\"Rate limit \\\"api\\\" exceeded: retry after 3 s.\",\"policy\":\"api\","
                + "\"retryAfter\":3}");
        Decision never = Decision.exceeding(11, 10, 0, 10);
        assertThat(ProblemDetails.status(never)).isEqualTo(413);
        assertThat(ProblemDetails.json("https://example.com/p", "api", never)).isEqualTo("{\"type\":\"https://example.com/p\","
                + "\"title\":\"Content Too Large\",\"status\":413,\"detail\":\"The request asks for 11 permits; rate limit "
                + "\\\"api\\\" never grants more than 10 at once.\",\"policy\":\"api\"}");
        assertThatThrownBy(() -> ProblemDetails.json("api", Decision.allowed(1, 0, 0, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refusal");
        assertThatThrownBy(() -> ProblemDetails.json(" ", "api", refused))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("type=");
        assertThat(ProblemDetails.quote("a\u0001\"\\\n")).isEqualTo("\"a\\u0001\\\"\\\\\\n\"");
    }
}

package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DecisionTest {

    @Test
    void permitsMustBePositive() {
        assertThatThrownBy(() -> Decision.allowed(0, 0, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> Decision.denied(-2, 0, 1, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=-2");
        assertThatThrownBy(() -> Decision.exceeding(0, 0, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=0");
    }

    @Test
    void remainingResetAndLimitMustBeInRange() {
        assertThatThrownBy(() -> Decision.allowed(1, -1, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("remaining must be >= 0: remaining=-1");
        assertThatThrownBy(() -> Decision.allowed(1, 0, -1, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("resetNanos must be >= 0: resetNanos=-1");
        assertThatThrownBy(() -> Decision.allowed(1, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must be > 0: limit=0");
        assertThatThrownBy(() -> Decision.exceeding(2, 0, 0, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must be > 0: limit=-1");
    }

    @Test
    void deniedDecisionNeedsAPositiveRetryAfter() {
        assertThatThrownBy(() -> Decision.denied(1, 0, 0, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retryAfterNanos must be > 0 for a denied decision: retryAfterNanos=0");
        assertThatThrownBy(() -> Decision.denied(1, 0, -5, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retryAfterNanos must be > 0 for a denied decision: retryAfterNanos=-5");
    }

    @Test
    void onlyAnExceedingDecisionExceedsTheLimit() {
        Decision never = Decision.denied(1, 0, Decision.NEVER, 5, 10);
        assertThat(never.exceedsLimit()).as("denied with NEVER is a 429, not a 413").isFalse();
        assertThat(never.retryAfterNanos()).isEqualTo(Decision.NEVER);
        Decision exceeding = Decision.exceeding(11, 0, 5, 10);
        assertThat(exceeding.exceedsLimit()).isTrue();
        assertThat(never).isNotEqualTo(Decision.exceeding(1, 0, 5, 10));
        assertThat(Decision.denied(1, 0, 7, 5, 10).exceedsLimit()).isFalse();
        assertThat(Decision.allowed(1, 0, 5, 10).exceedsLimit()).isFalse();
    }

    @Test
    void reportsWhatHeadersNeed() {
        Decision allowed = Decision.allowed(2, 3, 400, 5);
        assertThat(allowed.isAllowed()).isTrue();
        assertThat(allowed.retryAfterNanos()).isZero();
        assertThat(allowed.exceedsLimit()).isFalse();
        assertThat(allowed.reset()).isEqualTo(Duration.ofNanos(400));
        Decision denied = Decision.denied(2, 1, 700, 900, 5);
        assertThat(denied.isAllowed()).isFalse();
        assertThat(denied.exceedsLimit()).isFalse();
        assertThat(denied.retryAfter()).isEqualTo(Duration.ofNanos(700));
        assertThat(denied.toString())
                .isEqualTo("Decision{denied, permits=2, remaining=1, retryAfterNanos=700, resetNanos=900, limit=5}");
        Decision exceeding = Decision.exceeding(6, 5, 0, 5);
        assertThat(exceeding.exceedsLimit()).isTrue();
        assertThat(exceeding.retryAfterNanos()).isEqualTo(Decision.NEVER);
        assertThat(exceeding.retryAfter()).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
        assertThat(exceeding.toString()).contains("exceedsLimit", "retryAfterNanos=NEVER");
        assertThat(Decision.denied(1, 0, 3, 3, 1)).isEqualTo(Decision.denied(1, 0, 3, 3, 1))
                .hasSameHashCodeAs(Decision.denied(1, 0, 3, 3, 1)).isNotEqualTo(Decision.denied(1, 0, 4, 3, 1));
    }

    @Test
    void exceptionCarriesOnlyARefusal() {
        assertThatThrownBy(() -> new RateLimitExceededException(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("decision");
        assertThatThrownBy(() -> new RateLimitExceededException(Decision.allowed(1, 0, 0, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("decision must be a refusal");
        RateLimitExceededException e = new RateLimitExceededException(Decision.denied(1, 0, 250, 250, 1));
        assertThat(e.retryAfterNanos()).isEqualTo(250);
        assertThat(e).hasMessage("rate limit exceeded: retry after 250 ns");
        assertThat(new RateLimitExceededException(Decision.exceeding(3, 1, 0, 2)))
                .hasMessage("rate limit exceeded: 3 permits can never be granted (limit 2)");
    }
}

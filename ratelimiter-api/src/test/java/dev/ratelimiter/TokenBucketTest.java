package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long MAX = Long.MAX_VALUE / 2;
    private static final Duration SECOND = Duration.ofSeconds(1);

    @Test
    void capacityMustBePositiveAndAtMostHalfOfLongMax() {
        assertThatThrownBy(() -> TokenBucket.of(0, 1, SECOND)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be > 0: capacity=0");
        assertThatThrownBy(() -> TokenBucket.of(-5, 1, SECOND)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be > 0: capacity=-5");
        assertThatThrownBy(() -> TokenBucket.of(MAX + 1, 1, SECOND)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be <= Long.MAX_VALUE / 2 (4611686018427387903): capacity=4611686018427387904");
        assertThatThrownBy(() -> TokenBucket.of(Long.MAX_VALUE, 1, SECOND)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity=" + Long.MAX_VALUE);
        assertThat(TokenBucket.of(MAX, 1, SECOND).capacity()).isEqualTo(MAX);
    }

    @Test
    void refillPermitsMustBePositiveAndAtMostHalfOfLongMax() {
        assertThatThrownBy(() -> TokenBucket.of(1, 0, SECOND)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPermits must be > 0: refillPermits=0");
        assertThatThrownBy(() -> TokenBucket.of(1, -1, SECOND)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPermits must be > 0: refillPermits=-1");
        assertThatThrownBy(() -> TokenBucket.of(1, MAX + 1, Duration.ofDays(30)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPermits must be <= Long.MAX_VALUE / 2 (4611686018427387903): refillPermits=4611686018427387904");
    }

    @Test
    void refillPeriodMustBeBetweenOneMillisecondAndThirtyDays() {
        assertThatThrownBy(() -> TokenBucket.of(1, 1, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("refillPeriod");
        assertThatThrownBy(() -> TokenBucket.of(1, 1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPeriod must be > 0: refillPeriod=PT0S");
        assertThatThrownBy(() -> TokenBucket.of(1, 1, Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPeriod must be > 0: refillPeriod=PT-1S");
        assertThatThrownBy(() -> TokenBucket.of(1, 1, Duration.ofNanos(999_999)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPeriod must be >= 1 ms: refillPeriod=PT0.000999999S");
        assertThatThrownBy(() -> TokenBucket.of(1, 1, Duration.ofDays(30).plusNanos(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPeriod must be <= 30 days: refillPeriod=PT720H0.000000001S");
        assertThatThrownBy(() -> TokenBucket.of(1, 1, Duration.ofSeconds(Long.MAX_VALUE)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("refillPeriod must be <= 30 days");
        assertThat(TokenBucket.of(1, 1, Duration.ofMillis(1)).refillPeriodNanos()).isEqualTo(1_000_000L);
        assertThat(TokenBucket.of(1, 1, Duration.ofDays(30)).refillPeriod()).isEqualTo(Duration.ofDays(30));
    }

    @Test
    void rateMustBeAtMostOneBillionPerSecond() {
        assertThatThrownBy(() -> TokenBucket.of(10, 1_000_001, Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rate must be at most 10^9 permits per second: refillPermits=1000001 per 1000000 ns");
        assertThat(TokenBucket.of(10, 1_000_000_000L, SECOND).refillPermits()).isEqualTo(1_000_000_000L);
    }

    @Test
    void ofRateRejectsNonFiniteAndOutOfRangeRates() {
        assertThatThrownBy(() -> TokenBucket.ofRate(1, Double.NaN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be a finite number > 0: permitsPerSecond=NaN");
        assertThatThrownBy(() -> TokenBucket.ofRate(1, Double.POSITIVE_INFINITY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be a finite number > 0: permitsPerSecond=Infinity");
        assertThatThrownBy(() -> TokenBucket.ofRate(1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be a finite number > 0: permitsPerSecond=0.0");
        assertThatThrownBy(() -> TokenBucket.ofRate(1, -2.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be a finite number > 0: permitsPerSecond=-2.5");
        assertThatThrownBy(() -> TokenBucket.ofRate(1, 1.000000001e9)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be <= 1e9 permits per second: permitsPerSecond=1.000000001E9");
        assertThatThrownBy(() -> TokenBucket.ofRate(1, 1e-7)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be at least one permit per 30 days: permitsPerSecond=1.0E-7");
        assertThatThrownBy(() -> TokenBucket.ofRate(0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be > 0: capacity=0");
    }

    @Test
    void ofRateTurnsTheRateIntoWholePermitsPerPeriod() {
        TokenBucket three = TokenBucket.ofRate(10, 3);
        assertThat(three.refillPermits()).isEqualTo(1);
        assertThat(three.refillPeriodNanos()).isEqualTo(333_333_333L);
        TokenBucket fast = TokenBucket.ofRate(10, 2000.5);
        assertThat(fast.refillPermits()).isEqualTo(2_000_500L);
        assertThat(fast.refillPeriod()).isEqualTo(Duration.ofSeconds(1000));
        assertThat(TokenBucket.ofRate(1, 1e9).refillPermits()).isEqualTo(1_000_000_000_000L);
        assertThat(TokenBucket.ofRate(1, 1.0 / (30 * 24 * 3600)).refillPeriod()).isEqualTo(Duration.ofDays(30));
    }

    @Test
    void builderValidatesEachSettingAndRequiresBoth() {
        assertThatThrownBy(() -> TokenBucket.builder().capacity(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be > 0: capacity=0");
        assertThatThrownBy(() -> TokenBucket.builder().refill(0, SECOND)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refillPermits must be > 0: refillPermits=0");
        assertThatThrownBy(() -> TokenBucket.builder().refill(1, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("refillPeriod");
        assertThatThrownBy(() -> TokenBucket.builder().refill(2_000_000, Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("rate must be at most 10^9");
        assertThatThrownBy(() -> TokenBucket.builder().refill(1, SECOND).build()).isInstanceOf(IllegalStateException.class)
                .hasMessage("capacity must be set");
        assertThatThrownBy(() -> TokenBucket.builder().capacity(1).build()).isInstanceOf(IllegalStateException.class)
                .hasMessage("refill must be set");
        assertThat(TokenBucket.builder().capacity(100).refill(10, SECOND).build())
                .isEqualTo(TokenBucket.of(100, 10, SECOND));
    }

    @Test
    void isAValue() {
        TokenBucket a = TokenBucket.of(100, 10, SECOND);
        assertThat(a).isEqualTo(TokenBucket.of(100, 10, SECOND)).hasSameHashCodeAs(TokenBucket.of(100, 10, SECOND))
                .isNotEqualTo(TokenBucket.of(100, 10, Duration.ofSeconds(2)));
        assertThat(a.maxPermits()).isEqualTo(100);
        assertThat(a.toString()).isEqualTo("TokenBucket{capacity=100, refill=10 per PT1S}");
    }
}

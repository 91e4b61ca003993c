package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LeakyBucketTest {

    private static final long MAX = Long.MAX_VALUE / 2;
    private static final Duration SECOND = Duration.ofSeconds(1);

    @Test
    void permitsMustBePositiveAndAtMostHalfOfLongMax() {
        assertThatThrownBy(() -> LeakyBucket.meter(0, SECOND, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> LeakyBucket.queue(-7, SECOND, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=-7");
        assertThatThrownBy(() -> LeakyBucket.meter(MAX + 1, Duration.ofDays(30), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be <= Long.MAX_VALUE / 2 (4611686018427387903): permits=4611686018427387904");
    }

    @Test
    void burstAndQueueCapacityMustBePositiveAndAtMostHalfOfLongMax() {
        assertThatThrownBy(() -> LeakyBucket.meter(1, SECOND, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("burst must be > 0: burst=0");
        assertThatThrownBy(() -> LeakyBucket.meter(1, SECOND, MAX + 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("burst must be <= Long.MAX_VALUE / 2 (4611686018427387903): burst=4611686018427387904");
        assertThatThrownBy(() -> LeakyBucket.queue(1, SECOND, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("queueCapacity must be > 0: queueCapacity=-1");
        assertThatThrownBy(() -> LeakyBucket.meter(2.0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("burst must be > 0: burst=0");
        assertThat(LeakyBucket.queue(1, SECOND, MAX).capacity()).isEqualTo(MAX);
    }

    @Test
    void periodMustBeBetweenOneMillisecondAndThirtyDays() {
        assertThatThrownBy(() -> LeakyBucket.meter(1, null, 1)).isInstanceOf(NullPointerException.class)
                .hasMessage("period");
        assertThatThrownBy(() -> LeakyBucket.queue(1, null, 1)).isInstanceOf(NullPointerException.class)
                .hasMessage("period");
        assertThatThrownBy(() -> LeakyBucket.meter(1, Duration.ZERO, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("period must be > 0: period=PT0S");
        assertThatThrownBy(() -> LeakyBucket.queue(1, Duration.ofMillis(-3), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("period must be > 0: period=PT-0.003S");
        assertThatThrownBy(() -> LeakyBucket.meter(1, Duration.ofNanos(1), 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("period must be >= 1 ms: period=PT0.000000001S");
        assertThatThrownBy(() -> LeakyBucket.queue(1, Duration.ofDays(31), 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("period must be <= 30 days: period=PT744H");
    }

    @Test
    void rateMustBeAtMostOneBillionPerSecond() {
        assertThatThrownBy(() -> LeakyBucket.meter(2_000_000_000L, SECOND, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rate must be at most 10^9 permits per second: permits=2000000000 per 1000000000 ns");
        assertThatThrownBy(() -> LeakyBucket.queue(1_000_001, Duration.ofMillis(1), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rate must be at most 10^9 permits per second: permits=1000001 per 1000000 ns");
        assertThatThrownBy(() -> LeakyBucket.meter(Double.NaN, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be a finite number > 0: permitsPerSecond=NaN");
        assertThatThrownBy(() -> LeakyBucket.meter(Double.NEGATIVE_INFINITY, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be a finite number > 0: permitsPerSecond=-Infinity");
        assertThatThrownBy(() -> LeakyBucket.meter(2e9, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permitsPerSecond must be <= 1e9 permits per second: permitsPerSecond=2.0E9");
    }

    @Test
    void isAValue() {
        LeakyBucket meter = LeakyBucket.meter(50, SECOND, 10);
        assertThat(meter.mode()).isEqualTo(LeakyBucket.Mode.METER);
        assertThat(meter.maxPermits()).isEqualTo(10);
        assertThat(meter).isEqualTo(LeakyBucket.meter(50, SECOND, 10))
                .isNotEqualTo(LeakyBucket.queue(50, SECOND, 10));
        assertThat(LeakyBucket.meter(5.0, 10)).isEqualTo(LeakyBucket.meter(1, Duration.ofMillis(200), 10));
        assertThat(LeakyBucket.queue(5, SECOND, 20).toString())
                .isEqualTo("LeakyBucket{QUEUE, 5 per PT1S, queueCapacity=20}");
    }
}

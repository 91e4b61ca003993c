package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

class SlidingWindowTest {

    private static final long MAX = Long.MAX_VALUE / 2;

    @Test
    void limitMustBePositiveAndAtMostHalfOfLongMax() {
        for (BiFunction<Long, Duration, SlidingWindow> factory : factories()) {
            assertThatThrownBy(() -> factory.apply(0L, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("limit must be > 0: limit=0");
            assertThatThrownBy(() -> factory.apply(-1L, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("limit must be > 0: limit=-1");
            assertThatThrownBy(() -> factory.apply(MAX + 1, Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("limit must be <= Long.MAX_VALUE / 2 (4611686018427387903): limit=4611686018427387904");
            assertThat(factory.apply(MAX, Duration.ofSeconds(1)).limit()).isEqualTo(MAX);
        }
    }

    @Test
    void windowMustBeBetweenOneMillisecondAndThirtyDays() {
        for (BiFunction<Long, Duration, SlidingWindow> factory : factories()) {
            assertThatThrownBy(() -> factory.apply(1L, null)).isInstanceOf(NullPointerException.class).hasMessage("window");
            assertThatThrownBy(() -> factory.apply(1L, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("window must be > 0: window=PT0S");
            assertThatThrownBy(() -> factory.apply(1L, Duration.ofMinutes(-1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("window must be > 0: window=PT-1M");
            assertThatThrownBy(() -> factory.apply(1L, Duration.ofMillis(1).minusNanos(1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("window must be >= 1 ms: window=PT0.000999999S");
            assertThatThrownBy(() -> factory.apply(1L, Duration.ofDays(30).plusNanos(1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("window must be <= 30 days: window=PT720H0.000000001S");
            assertThat(factory.apply(1L, Duration.ofMillis(1)).windowNanos()).isEqualTo(1_000_000L);
            assertThat(factory.apply(1L, Duration.ofDays(30)).window()).isEqualTo(Duration.ofDays(30));
        }
    }

    @Test
    void isAValue() {
        SlidingWindow log = SlidingWindow.log(100, Duration.ofMinutes(1));
        assertThat(log.mode()).isEqualTo(SlidingWindow.Mode.LOG);
        assertThat(log.maxPermits()).isEqualTo(100);
        assertThat(log).isEqualTo(SlidingWindow.log(100, Duration.ofMinutes(1)))
                .hasSameHashCodeAs(SlidingWindow.log(100, Duration.ofMinutes(1)))
                .isNotEqualTo(SlidingWindow.counter(100, Duration.ofMinutes(1)));
        assertThat(SlidingWindow.counter(5, Duration.ofSeconds(2)).toString())
                .isEqualTo("SlidingWindow{COUNTER, limit=5 per PT2S}");
    }

    private static java.util.List<BiFunction<Long, Duration, SlidingWindow>> factories() {
        return java.util.List.of(SlidingWindow::log, SlidingWindow::counter);
    }
}

package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.SlidingWindow;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Linearizability (Lincheck) of the sliding window log and counter, with the stress strategy and
 * with model checking. The clock is fixed while operations run; see
 * {@link StressSupport.LimiterOperations} for why, and how the configurations reach states where
 * the window holds entries of different ages instead.
 *
 * <p>Before each check, one plain call on a fresh configuration must be granted: Lincheck counts
 * an exception thrown by every operation as a consistent result, so without this a limiter that
 * fails on every call would pass.
 */
public class SlidingWindowLincheckTest {

    /**
     * A clock origin that is a whole number of windows (1 s), so the counter's fixed windows
     * start at the same instants whether they are aligned to the clock's origin or to the
     * limiter's creation.
     */
    static final long WINDOW_ALIGNED_START = 1_000_000L * 1_000_000_000L;

    /** An empty log of 4 per second. */
    public static class EmptyLog extends StressSupport.LimiterOperations {
        /** A new, empty log. */
        public EmptyLog() {
            super(SlidingWindow.log(4, Duration.ofSeconds(1)));
        }
    }

    /**
     * A log of 5 per second holding grants made 1.1 s ago (2, now outside the window), 800 ms
     * ago (2) and 400 ms ago (1): 2 permits are free, and a request of 3 must wait 200 ms, until
     * the grants of 800 ms ago leave the window.
     */
    public static class StraddlingLog extends StressSupport.LimiterOperations {
        /** A new log with entries of three ages. */
        public StraddlingLog() {
            super(SlidingWindow.log(5, Duration.ofSeconds(1)));
            consume(2);
            clock.advance(Duration.ofMillis(300));
            consume(2);
            clock.advance(Duration.ofMillis(400));
            consume(1);
            clock.advance(Duration.ofMillis(400));
        }
    }

    /**
     * A counter of 4 per second whose previous fixed window was used up and whose current one is
     * half over: the previous window's weight leaves 2 permits.
     */
    public static class HalfWeightedCounter extends StressSupport.LimiterOperations {
        /** A new counter, half-way through the window after a full one. */
        public HalfWeightedCounter() {
            super(SlidingWindow.counter(4, Duration.ofSeconds(1)), WINDOW_ALIGNED_START);
            consume(4);
            clock.advance(Duration.ofMillis(1_500));
        }
    }

    @Test
    void emptyLogIsLinearizableUnderStress() {
        assertThat(new EmptyLog().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().check(EmptyLog.class);
    }

    @Test
    void emptyLogIsLinearizableUnderModelChecking() {
        assertThat(new EmptyLog().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().check(EmptyLog.class);
    }

    @Test
    void straddlingLogIsLinearizableUnderStress() {
        assertThat(new StraddlingLog().tryAcquire(2)).isTrue();
        StressSupport.lincheckStress().check(StraddlingLog.class);
    }

    @Test
    void straddlingLogIsLinearizableUnderModelChecking() {
        assertThat(new StraddlingLog().tryAcquire(2)).isTrue();
        StressSupport.lincheckModelChecking().check(StraddlingLog.class);
    }

    @Test
    void halfWeightedCounterIsLinearizableUnderStress() {
        assertThat(new HalfWeightedCounter().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().check(HalfWeightedCounter.class);
    }

    @Test
    void halfWeightedCounterIsLinearizableUnderModelChecking() {
        assertThat(new HalfWeightedCounter().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().check(HalfWeightedCounter.class);
    }
}

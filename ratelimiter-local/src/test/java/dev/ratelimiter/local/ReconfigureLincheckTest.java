package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import java.time.Duration;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * Linearizability (Lincheck) of decisions racing reconfigurations and refunds: every decision
 * (whose {@code Decision} reports the limit it was decided under, its remaining permits and its
 * times) must equal the one some sequential order of the same calls gives, so a decision that
 * mixed the old limit with the new one, or a permit lost or created by a swap, fails the check.
 * The clock is fixed while operations run (see {@link StressSupport.LimiterOperations}).
 */
public class ReconfigureLincheckTest {

    /** Decisions, reconfigurations between two limits and refunds on one limiter. */
    public abstract static class Reconfigured extends StressSupport.LimiterOperations {
        private final Limit first;
        private final Limit second;

        /**
         * @param first  the limit to start with
         * @param second the other limit of the same family
         */
        protected Reconfigured(Limit first, Limit second) {
            super(first);
            this.first = first;
            this.second = second;
        }

        /**
         * @param which 0 for the first limit, 1 for the second
         */
        @Operation
        public void reconfigure(@Param(gen = IntGen.class, conf = "0:1") int which) {
            limiter.reconfigure(which == 0 ? first : second);
        }

        /**
         * @param permits 1 to 2 permits to give back
         */
        @Operation
        public void refund(@Param(gen = IntGen.class, conf = "1:2") int permits) {
            limiter.refund(permits);
        }

        /** @return the permits available now */
        @Operation
        public long available() {
            return limiter.availablePermits();
        }

        /** @return the permits taken */
        @Operation
        public long drain() {
            return limiter.drain();
        }
    }

    /** A token bucket of 3 (whole nanoseconds a permit) and one of 4 at 3 per second (exact). */
    public static class Bucket extends Reconfigured {
        /** A new bucket. */
        public Bucket() {
            super(TokenBucket.of(3, 1, Duration.ofSeconds(1)), TokenBucket.of(4, 3, Duration.ofSeconds(1)));
        }
    }

    /** A sliding window log of 3 in 1 s and one of 2 in 2 s. */
    public static class Log extends Reconfigured {
        /** A new log. */
        public Log() {
            super(SlidingWindow.log(3, Duration.ofSeconds(1)), SlidingWindow.log(2, Duration.ofSeconds(2)));
        }
    }

    /** A sliding window counter of 3 and one of 2, both in 1 s windows. */
    public static class Counter extends Reconfigured {
        /** A new counter. */
        public Counter() {
            super(SlidingWindow.counter(3, Duration.ofSeconds(1)), SlidingWindow.counter(2, Duration.ofSeconds(1)));
        }
    }

    @Test
    void bucketIsLinearizableUnderStress() {
        assertThat(new Bucket().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().check(Bucket.class);
    }

    @Test
    void bucketIsLinearizableUnderModelChecking() {
        assertThat(new Bucket().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().check(Bucket.class);
    }

    @Test
    void logIsLinearizableUnderStress() {
        assertThat(new Log().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().iterations(3).check(Log.class);
    }

    @Test
    void counterIsLinearizableUnderModelChecking() {
        assertThat(new Counter().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().iterations(12).check(Counter.class);
    }
}

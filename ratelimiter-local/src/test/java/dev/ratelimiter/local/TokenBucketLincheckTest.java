package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.TokenBucket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Linearizability (Lincheck) of the GCRA limiters: the token bucket, and the leaky bucket as a
 * meter and as a queue. Each configuration is checked with the stress strategy (real threads, the
 * real memory model) and with model checking (every interleaving point explored, under sequential
 * consistency). The clock is fixed while operations run; see
 * {@link StressSupport.LimiterOperations} for why a clock-advance operation would not be
 * linearizable, and how the configurations reach partly consumed states instead.
 *
 * <p>Before each check, one plain call on a fresh configuration must be granted: Lincheck counts
 * an exception thrown by every operation as a consistent result, so without this a limiter that
 * fails on every call would pass.
 */
public class TokenBucketLincheckTest {

    /** A full bucket of 4, so that three requests of up to 3 permits compete for it. */
    public static class FullBucket extends StressSupport.LimiterOperations {
        /** A new full bucket. */
        public FullBucket() {
            super(TokenBucket.of(4, 1, Duration.ofSeconds(1)));
        }
    }

    /**
     * A bucket of 5 refilled at 2 per second, emptied, then left for 1.25 s: it holds 2.5
     * permits, so decisions report a fractional refill in their retry-after and reset times.
     */
    public static class PartlyRefilledBucket extends StressSupport.LimiterOperations {
        /** A new bucket holding 2.5 permits. */
        public PartlyRefilledBucket() {
            super(TokenBucket.of(5, 2, Duration.ofSeconds(1)));
            consume(5);
            clock.advance(Duration.ofMillis(1_250));
        }
    }

    /**
     * A bucket of 4 refilled at 3 per second (333,333,333 1/3 ns a permit: the exact limiter,
     * whose state is an object holding a remainder), emptied, then left for 500 ms: it holds 1.5
     * permits.
     */
    public static class FractionalRateBucket extends StressSupport.LimiterOperations {
        /** A new bucket holding 1.5 permits. */
        public FractionalRateBucket() {
            super(TokenBucket.of(4, 3, Duration.ofSeconds(1)));
            consume(4);
            clock.advance(Duration.ofMillis(500));
        }
    }

    /**
     * A meter of 2 per second with a burst of 3, its burst used up 750 ms ago: 1.5 permits
     * conform, and a request of 3 asks for the whole burst.
     */
    public static class PartlyDrainedMeter extends StressSupport.LimiterOperations {
        /** A new meter with 1.5 permits conforming. */
        public PartlyDrainedMeter() {
            super(LeakyBucket.meter(2, Duration.ofSeconds(1), 3));
            consume(3);
            clock.advance(Duration.ofMillis(750));
        }
    }

    /**
     * A queue leaking 4 per second with room for 3 waiting permits. With the clock still, only
     * one request can ever leave at once, so the checks run no operations before the parallel
     * part: the threads race for that one slot.
     */
    public static class Queue extends StressSupport.LimiterOperations {
        /** A new, empty queue. */
        public Queue() {
            super(LeakyBucket.queue(4, Duration.ofSeconds(1), 3));
        }
    }

    @Test
    void fullBucketIsLinearizableUnderStress() {
        assertThat(new FullBucket().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().check(FullBucket.class);
    }

    @Test
    void fullBucketIsLinearizableUnderModelChecking() {
        assertThat(new FullBucket().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().check(FullBucket.class);
    }

    @Test
    void partlyRefilledBucketIsLinearizableUnderStress() {
        assertThat(new PartlyRefilledBucket().tryAcquire(2)).isTrue();
        StressSupport.lincheckStress().check(PartlyRefilledBucket.class);
    }

    @Test
    void partlyRefilledBucketIsLinearizableUnderModelChecking() {
        assertThat(new PartlyRefilledBucket().tryAcquire(2)).isTrue();
        StressSupport.lincheckModelChecking().check(PartlyRefilledBucket.class);
    }

    @Test
    void fractionalRateBucketIsLinearizableUnderStress() {
        assertThat(new FractionalRateBucket().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().check(FractionalRateBucket.class);
    }

    @Test
    void fractionalRateBucketIsLinearizableUnderModelChecking() {
        assertThat(new FractionalRateBucket().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().check(FractionalRateBucket.class);
    }

    @Test
    void partlyDrainedMeterIsLinearizableUnderStress() {
        assertThat(new PartlyDrainedMeter().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().check(PartlyDrainedMeter.class);
    }

    @Test
    void partlyDrainedMeterIsLinearizableUnderModelChecking() {
        assertThat(new PartlyDrainedMeter().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().check(PartlyDrainedMeter.class);
    }

    @Test
    void queueIsLinearizableUnderStress() {
        assertThat(new Queue().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().actorsBefore(0).check(Queue.class);
    }

    @Test
    void queueIsLinearizableUnderModelChecking() {
        assertThat(new Queue().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().actorsBefore(0).check(Queue.class);
    }
}

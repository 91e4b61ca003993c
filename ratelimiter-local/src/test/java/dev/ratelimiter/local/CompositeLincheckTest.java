package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.List;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * Linearizability (Lincheck) of the single-key local composite: decisions, peeks, drains and
 * refunds racing on two token buckets, one of them partly refilled with a fractional rate, under
 * the stress strategy and under model checking. The clock is fixed while operations run, for the
 * reason {@link StressSupport.LimiterOperations} gives.
 */
public class CompositeLincheckTest {

    /** The operations raced on a composite of two buckets, set up by the subclass. */
    public abstract static class TwoBucketOperations {
        final FakeClock clock = new FakeClock();
        final RateLimiter composite;

        /**
         * @param limits  the two limits
         * @param drained the permits drained at the start (checked)
         * @param since   how long ago
         */
        TwoBucketOperations(List<Limit> limits, long drained, Duration since) {
            composite = LocalRateLimiters.composite(limits, clock, clock);
            if (composite.drain() != drained) {
                throw new IllegalStateException("setup drain");
            }
            clock.advance(since);
        }

        /**
         * @param permits 1 to 3
         * @return whether granted
         */
        @Operation
        public boolean tryAcquire(@Param(gen = IntGen.class, conf = "1:3") int permits) {
            return composite.tryAcquire(permits);
        }

        /** @return whether one permit was granted (the one-permit path) */
        @Operation
        public boolean tryAcquireOne() {
            return composite.tryAcquire();
        }

        /**
         * @param permits 1 to 3
         * @return the whole decision
         */
        @Operation
        public Decision decide(@Param(gen = IntGen.class, conf = "1:3") int permits) {
            return composite.decide(permits);
        }

        /**
         * @param permits 1 to 3
         * @return the decision {@code decide} would return
         */
        @Operation
        public Decision peek(@Param(gen = IntGen.class, conf = "1:3") int permits) {
            return composite.peek(permits);
        }

        /** @return the permits taken */
        @Operation
        public long drain() {
            return composite.drain();
        }

        /** @param permits 1 to 2 permits given back */
        @Operation
        public void refund(@Param(gen = IntGen.class, conf = "1:2") int permits) {
            composite.refund(permits);
        }

        /** Back to full. */
        @Operation
        public void reset() {
            composite.reset();
        }
    }

    /**
     * A bucket of 4 at 8 per second and a bucket of 5 at 3 per second (a fractional cost per
     * permit), both drained of 4 permits 500 ms ago: the first is full again, the second holds 2.5,
     * so the second binds, and a refund or a drain changes which requests it grants.
     */
    public static class TwoBuckets extends TwoBucketOperations {
        /** A new composite in the state above. */
        public TwoBuckets() {
            super(List.of(TokenBucket.of(4, 8, Duration.ofSeconds(1)), TokenBucket.of(5, 3, Duration.ofSeconds(1))),
                    4, Duration.ofMillis(500));
        }
    }

    /**
     * Two one-word buckets, whose state is one {@link PairEpoch}: a bucket of 4 at one permit per
     * 1.5 s (one grant's cost fits an epoch's 31-bit offset, two do not) and a bucket of 5 at one
     * per second (up to four fit the 32-bit offset). Both drained of 4 permits 3 s ago: the first
     * holds 2, the second 4. So grants that fit the epoch's word race with grants, drains, refunds
     * (below the bases) and resets that freeze it and make the next, and with peeks.
     */
    public static class TwoOneWordBuckets extends TwoBucketOperations {
        /** A new composite in the state above. */
        public TwoOneWordBuckets() {
            super(List.of(TokenBucket.of(4, 2, Duration.ofSeconds(3)), TokenBucket.of(5, 1, Duration.ofSeconds(1))),
                    4, Duration.ofSeconds(3));
        }
    }

    @Test
    void pairCompositeIsLinearizableUnderStress() {
        assertThat(new TwoOneWordBuckets().tryAcquire(2)).isTrue();
        StressSupport.lincheckStress().iterations(3).check(TwoOneWordBuckets.class);
    }

    /**
     * Also non-blocking: a thread suspended after freezing an epoch's word must not hold up the
     * others (whoever reads a frozen word installs the next epoch).
     */
    @Test
    void pairCompositeIsLinearizableAndNonBlockingUnderModelChecking() {
        assertThat(new TwoOneWordBuckets().tryAcquire(2)).isTrue();
        StressSupport.lincheckModelChecking().checkObstructionFreedom(true).iterations(12)
                .check(TwoOneWordBuckets.class);
    }

    @Test
    void compositeIsLinearizableUnderStress() {
        assertThat(new TwoBuckets().tryAcquire(1)).isTrue();
        StressSupport.lincheckStress().iterations(3).check(TwoBuckets.class);
    }

    @Test
    void compositeIsLinearizableUnderModelChecking() {
        assertThat(new TwoBuckets().tryAcquire(1)).isTrue();
        StressSupport.lincheckModelChecking().iterations(12).check(TwoBuckets.class);
    }
}

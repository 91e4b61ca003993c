package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.List;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * Linearizability (Lincheck) of the keyed local composite across the keys of one group: two keys
 * share a group limit, each has its own limit, and decisions on the two keys race. Operations on
 * one key are kept out of parallel with each other ({@code nonParallelGroup}): under concurrency on
 * one key the keyed composite may refuse a request for another's tentative charge, which it
 * documents and which is not linearizable; across keys the group is charged only by grants and
 * every undo is exact, which is what this checks. The clock is fixed while operations run.
 *
 * <p>Scenarios start from the constructor's state (no actors before) and end with two actors
 * after the parallel part, so that a key charge a refusal failed to undo shows in a later
 * decision: the stress run finds a composite that forfeits instead of undoing.
 */
public class CompositeKeyedLincheckTest {

    /** A group of 3 shared by keys "a" and "b", each of 2; "a" has taken 1 already. */
    public static class TwoKeys {
        private final FakeClock clock = new FakeClock();
        private final LocalCompositeKeyedRateLimiter<String, String> keyed = LocalCompositeKeyedRateLimiter
                .<String, String>builder(k -> "g", List.<Limit>of(TokenBucket.of(3, 1, Duration.ofSeconds(1))),
                        List.<Limit>of(TokenBucket.of(2, 1, Duration.ofSeconds(1))))
                .ticker(clock).sleeper(clock).build();

        /** A new composite in the state above. */
        public TwoKeys() {
            if (!keyed.tryAcquire("a", 1)) {
                throw new IllegalStateException("setup refused");
            }
        }

        /**
         * @param permits 1 or 2
         * @return the decision on key a
         */
        @Operation(nonParallelGroup = "a")
        public Decision decideA(@Param(gen = IntGen.class, conf = "1:2") int permits) {
            return keyed.decide("a", permits);
        }

        /**
         * @param permits 1 or 2
         * @return the decision on key b
         */
        @Operation(nonParallelGroup = "b")
        public Decision decideB(@Param(gen = IntGen.class, conf = "1:2") int permits) {
            return keyed.decide("b", permits);
        }

        /** @return the permits key b could be granted */
        @Operation(nonParallelGroup = "b")
        public long availableB() {
            return keyed.availablePermits("b");
        }

        /** @return the permits drained from key a */
        @Operation(nonParallelGroup = "a")
        public long drainA() {
            return keyed.drain("a");
        }
    }

    @Test
    void keysOfOneGroupAreLinearizableUnderStress() {
        assertThat(new TwoKeys().decideB(2).isAllowed()).isTrue();
        StressSupport.lincheckStress().iterations(8).actorsBefore(0).actorsAfter(2).check(TwoKeys.class);
    }

    @Test
    void keysOfOneGroupAreLinearizableUnderModelChecking() {
        assertThat(new TwoKeys().decideB(2).isAllowed()).isTrue();
        StressSupport.lincheckModelChecking().iterations(6).actorsBefore(0).actorsAfter(2).check(TwoKeys.class);
    }
}

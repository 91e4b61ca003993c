package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The composite of two one-word buckets keeps its state in a {@link PairEpoch} (two bases and one
 * word of offsets); the same composite built with the state in the cell's array, as every other
 * shape, is the reference. On random scripts they answer every operation alike and hold the same
 * state after every step, including permits whose cost does not fit an epoch's offsets (every
 * grant then makes a new epoch), drains that move a full-at time by hours, clock jumps of
 * minutes, the clock going back, refunds below an epoch's base and resets. (Saturation of a
 * full-at time needs a clock reading past 2^62 ns, about 146 years, and is not reached here.)
 */
class PairCompositePropertyTest {

    /** One step: the clock moves by {@code advance} (negative: back), then operation {@code op}. */
    record Step(long advance, int op, long permits) {
        private static final String[] OPS = {"decide", "peek", "available", "drain", "tryAcquire", "refund", "reset",
                "tryAcquire(1)"};

        @Override
        public String toString() {
            return (advance >= 0 ? "+" : "") + advance + " " + OPS[op] + " " + permits;
        }
    }

    /** A bucket whose rate reduces to one permit per {@code cost} ns (a one-word part). */
    @Provide
    Arbitrary<Limit> oneWordBucket() {
        Arbitrary<Long> capacity = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.longs().between(1, 9)),
                Tuple.of(1, Arbitraries.of(100L, 1_000L)));
        // Permits per period, as {permits, period ns}: costs of 1 ns, 1 ms, and below, near and
        // above the 2^31 and 2^32 ns an epoch's offsets hold (0.7, 1.5, 2.2, 3.6, 4.5 s), and one
        // permit per 30 days.
        Arbitrary<long[]> rate = Arbitraries.of(new long[] {1_000_000, 1_000_000}, new long[] {1_000, 1_000_000_000L},
                new long[] {10, 7_000_000_000L}, new long[] {2, 3_000_000_000L}, new long[] {1, 2_200_000_000L},
                new long[] {1_000, 3_600_000_000_000L}, new long[] {2, 9_000_000_000L},
                new long[] {1, 2_592_000_000_000_000L});
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 4);
        return Combinators.combine(kind, capacity, rate).as((k, c, r) -> k < 3
                ? TokenBucket.of(c, r[0], Duration.ofNanos(r[1]))
                : k < 4 ? LeakyBucket.meter(r[0], Duration.ofNanos(r[1]), c)
                : LeakyBucket.queue(r[0], Duration.ofNanos(r[1]), c));
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Long> advance = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(3, Arbitraries.longs().between(1, 2_000_000L)),
                Tuple.of(3, Arbitraries.longs().between(1, 5_000_000_000L)),
                Tuple.of(1, Arbitraries.longs().between(1, 200_000_000_000L)),
                Tuple.of(1, Arbitraries.longs().between(-3_000_000_000L, -1)));
        Arbitrary<Integer> op = Arbitraries.frequency(Tuple.of(5, 0), Tuple.of(2, 1), Tuple.of(1, 2), Tuple.of(1, 3),
                Tuple.of(4, 4), Tuple.of(2, 5), Tuple.of(1, 6), Tuple.of(5, 7));
        Arbitrary<Long> permits = Arbitraries.longs().between(1, 10);
        return Combinators.combine(advance, op, permits).as(Step::new).list().ofMinSize(1).ofMaxSize(60);
    }

    @Property(tries = 1000, edgeCases = EdgeCasesMode.MIXIN)
    void pairInOneWordAnswersAsThePairInAnArray(@ForAll("oneWordBucket") Limit a, @ForAll("oneWordBucket") Limit b,
                                                @ForAll("steps") List<Step> steps) {
        FakeClock clock = new FakeClock();
        LocalCompositeLimiter pair = new LocalCompositeLimiter(List.of(a, b), clock, clock, true);
        LocalCompositeLimiter array = new LocalCompositeLimiter(List.of(a, b), clock, clock, false);
        assertThat(pair.limits()).containsExactly(a, b);
        for (Step s : steps) {
            clock.advance(s.advance());
            String at = s + " at " + clock.read();
            long n = s.permits();
            switch (s.op()) {
                case 0 -> assertThat(pair.decide(n)).as(at).isEqualTo(array.decide(n));
                case 1 -> assertThat(pair.peek(n)).as(at).isEqualTo(array.peek(n));
                case 2 -> assertThat(pair.availablePermits()).as(at).isEqualTo(array.availablePermits());
                case 3 -> assertThat(pair.drain()).as(at).isEqualTo(array.drain());
                case 4 -> assertThat(pair.tryAcquire(n)).as(at).isEqualTo(array.tryAcquire(n));
                case 5 -> {
                    pair.refund(n);
                    array.refund(n);
                }
                case 6 -> {
                    pair.reset();
                    array.reset();
                }
                default -> assertThat(pair.tryAcquire()).as(at).isEqualTo(array.tryAcquire());
            }
            assertThat(pair.state()).as("state after " + at).containsExactly(array.state());
        }
    }
}

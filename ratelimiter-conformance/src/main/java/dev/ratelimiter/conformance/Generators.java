package dev.ratelimiter.conformance;

import dev.ratelimiter.internal.Checks;
import java.math.BigInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;

/**
 * Generators of limit settings for the properties: mostly small limits (where scripts reach
 * every state), sometimes huge ones (where products overflow 64 bits), periods from 1 ms to 30
 * days, and rates whose period is often not a multiple of the permits.
 */
final class Generators {

    /**
     * The largest count of permits generated. Keeps the time to drain a full bucket, and so every
     * clock reading of a script, well inside a {@code long}, so that the exact model and a
     * saturating backend agree; the extreme {@code Long.MAX_VALUE / 2} is tested separately.
     */
    static final long MAX_GENERATED_PERMITS = 1L << 50;

    /** The longest refill time (capacity times the time per permit) a generated limit may have. */
    private static final BigInteger MAX_REFILL_NANOS = BigInteger.ONE.shiftLeft(58);

    private Generators() {
    }

    /** @return a count of permits: a limit, capacity, burst or queue capacity */
    static Arbitrary<Long> maxPermits() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.longs().between(1, 12)),
                Tuple.of(1, Arbitraries.longs().between(13, 1_000_000)),
                Tuple.of(1, Arbitraries.longs().between(1, MAX_GENERATED_PERMITS)));
    }

    /** @return a period or window, in ns, from 1 ms to 30 days */
    static Arbitrary<Long> periods() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(Checks.MIN_PERIOD_NANOS, 1_000_000_000L, 60_000_000_000L,
                        86_400_000_000_000L, Checks.MAX_PERIOD_NANOS)),
                Tuple.of(2, Arbitraries.longs().between(Checks.MIN_PERIOD_NANOS, 10_000_000_000L)),
                Tuple.of(1, Arbitraries.longs().between(Checks.MIN_PERIOD_NANOS, Checks.MAX_PERIOD_NANOS)));
    }

    /**
     * @param capacity the capacity the rate refills
     * @param period   the period, in ns
     * @return permits per period: at most one per ns, and enough that refilling
     *     {@code capacity} takes at most 2^58 ns
     */
    static Arbitrary<Long> permitsPerPeriod(long capacity, long period) {
        long lowest = BigInteger.valueOf(capacity).multiply(BigInteger.valueOf(period))
                .add(MAX_REFILL_NANOS).subtract(BigInteger.ONE).divide(MAX_REFILL_NANOS).max(BigInteger.ONE)
                .longValueExact();
        return Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(lowest, Math.min(period, lowest + 12))),
                Tuple.of(3, Arbitraries.longs().between(lowest, period)),
                Tuple.of(1, Arbitraries.just(period)));
    }

    /**
     * @param capacity permits
     * @param permits  permits per period
     * @param period   the period, in ns
     * @return {@code ceil(capacity * period / permits)}, the time to refill from empty
     */
    static long refillNanos(long capacity, long permits, long period) {
        return ReferenceModel.saturated(ReferenceModel.ceilDiv(
                BigInteger.valueOf(capacity).multiply(BigInteger.valueOf(period)), BigInteger.valueOf(permits)));
    }
}

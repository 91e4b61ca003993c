package dev.ratelimiter.conformance;

import dev.ratelimiter.Limit;
import java.util.List;
import java.util.Objects;

/**
 * A generated test script: a limit and the steps a single caller takes against a limiter built
 * from it, under a {@link FakeClock}.
 *
 * @param limit the limit under test
 * @param steps the steps, in order
 */
public record Script(Limit limit, List<Step> steps) {

    /**
     * @param limit the limit under test
     * @param steps the steps, in order
     */
    public Script {
        Objects.requireNonNull(limit, "limit");
        steps = List.copyOf(steps);
    }

    /** How a step asks for its permits. */
    public enum Kind {
        /** {@code decide(permits)}. */
        DECIDE,
        /** {@code tryAcquire(permits)}. */
        TRY_ACQUIRE,
        /** {@code tryAcquire(permits, timeout)}: a blocking acquire. */
        BLOCKING
    }

    /**
     * One step: advance the clock, then ask for permits.
     *
     * @param advanceNanos how far the clock moves first, {@code >= 0}
     * @param permits      the permits asked for, {@code > 0}
     * @param kind         which method asks
     * @param timeoutNanos the timeout of a {@link Kind#BLOCKING} step
     * @param repeats      how many times a refused request is asked again at the same instant
     */
    public record Step(long advanceNanos, long permits, Kind kind, long timeoutNanos, int repeats) {
    }
}

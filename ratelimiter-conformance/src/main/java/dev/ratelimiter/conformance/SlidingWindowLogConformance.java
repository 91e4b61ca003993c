package dev.ratelimiter.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Conformance of {@link SlidingWindow#log sliding window logs}: the general
 * {@link RateLimiterContract}, exact scenarios, and exactness: never more than L permits in any
 * window {@code (t - W, t]}. A backend subclasses it and implements {@link #create}.
 */
public abstract class SlidingWindowLogConformance extends RateLimiterContract {

    private static final long MS = 1_000_000L;

    /** Subclasses only. */
    protected SlidingWindowLogConformance() {
    }

    @Override
    protected Limit standardLimit() {
        return SlidingWindow.log(STANDARD_MAX, Duration.ofSeconds(1));
    }

    @Override
    protected Limit limit(long maxPermits, long permits, Duration period) {
        return SlidingWindow.log(maxPermits, period);
    }

    @Override
    protected Arbitrary<Limit> limits() {
        return Combinators.combine(Generators.maxPermits(), Generators.periods())
                .as((limit, window) -> SlidingWindow.log(limit, Duration.ofNanos(window)));
    }

    @Override
    protected long timeScale(Limit limit) {
        return ((SlidingWindow) limit).windowNanos();
    }

    @Test
    public void grantsLeaveTheWindowExactlyOneWindowLater() {
        Run run = new Run(SlidingWindow.log(3, Duration.ofSeconds(1)), null);
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 2, 1000 * MS, 3));
        run.advance(400 * MS);
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 1, 1000 * MS, 3));
        run.advance(400 * MS);
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 0, 1000 * MS, 3));
        run.advance(199 * MS);
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, MS, 801 * MS, 3));
        assertThat(run.decide(2)).isEqualTo(Decision.denied(2, 0, 401 * MS, 801 * MS, 3));
        run.advance(MS - 1);
        assertThat(run.decide(1).retryAfterNanos()).isEqualTo(1);
        run.advance(1); // at 1000 ms the grant made at 0 leaves (t - W, t]
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 0, 1000 * MS, 3));
        run.advance(400 * MS);
        assertThat(run.decide(1).isAllowed()).isTrue();
        run.advance(Duration.ofSeconds(5).toNanos());
        assertThat(run.decide(3)).isEqualTo(Decision.allowed(3, 0, 1000 * MS, 3));
        assertThat(run.decide(4)).isEqualTo(Decision.exceeding(4, 0, 1000 * MS, 3));
    }

    @Test
    public void admitsExactlyTheLimitPerWindowUnderSteadyPressure() {
        Run run = new Run(SlidingWindow.log(100, Duration.ofSeconds(1)), null);
        long granted = 0;
        for (int ms = 0; ms < 10_000; ms++) {
            if (run.decide(1).isAllowed()) {
                granted++;
            }
            run.advance(MS);
        }
        assertThat(granted).isEqualTo(1000);
    }

    /**
     * No window {@code (t - W, t]} ever holds more than L permits.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void neverMoreThanTheLimitInAnyWindow(@ForAll("scripts") Script script) {
        SlidingWindow sw = (SlidingWindow) script.limit();
        List<long[]> grants = grants(script);
        for (long[] last : grants) {
            assertThat(permitsIn(grants, last[0] - sw.windowNanos(), last[0]))
                    .as("permits in (%s, %s]", last[0] - sw.windowNanos(), last[0]).isLessThanOrEqualTo(sw.limit());
        }
    }

    /**
     * @param grants the grants, {time, permits}
     * @param after  exclusive start
     * @param upTo   inclusive end
     * @return the permits granted in {@code (after, upTo]}
     */
    static long permitsIn(List<long[]> grants, long after, long upTo) {
        long sum = 0;
        for (long[] g : grants) {
            if (g[0] > after && g[0] <= upTo) {
                sum += g[1];
            }
        }
        return sum;
    }
}

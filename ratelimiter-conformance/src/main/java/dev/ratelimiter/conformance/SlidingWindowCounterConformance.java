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
 * Conformance of {@link SlidingWindow#counter sliding window counters}: the general
 * {@link RateLimiterContract}, exact scenarios, and the documented worst-case error: never more
 * than L permits in one fixed window, never more than {@code 2L - 1} in any sliding window
 * {@code (t - W, t]}, a bound the adversarial pattern reaches. A backend subclasses it and
 * implements {@link #create}.
 */
public abstract class SlidingWindowCounterConformance extends RateLimiterContract {

    private static final long MS = 1_000_000L;

    /** Subclasses only. */
    protected SlidingWindowCounterConformance() {
    }

    @Override
    protected Limit standardLimit() {
        return SlidingWindow.counter(STANDARD_MAX, Duration.ofSeconds(1));
    }

    @Override
    protected Limit limit(long maxPermits, long permits, Duration period) {
        return SlidingWindow.counter(maxPermits, period);
    }

    @Override
    protected Arbitrary<Limit> limits() {
        return Combinators.combine(Generators.maxPermits(), Generators.periods())
                .as((limit, window) -> SlidingWindow.counter(limit, Duration.ofNanos(window)));
    }

    @Override
    protected long timeScale(Limit limit) {
        return ((SlidingWindow) limit).windowNanos();
    }

    @Test
    public void weighsThePreviousWindowByItsOverlap() {
        Run run = standardRun(); // 10 per second
        assertThat(run.decide(10)).isEqualTo(Decision.allowed(10, 0, 2000 * MS, 10));
        run.advance(999 * MS);
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, 101 * MS, 1001 * MS, 10));
        run.advance(MS); // window 1 begins: the previous window still weighs fully
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, 100 * MS, 1000 * MS, 10));
        run.advance(500 * MS); // half of window 0 still overlaps: 10 * 0.5 = 5 counted
        assertThat(grantSingles(run)).isEqualTo(5);
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, 100 * MS, 1500 * MS, 10));
        run.advance(1000 * MS); // window 2, half elapsed: 5 * 0.5 = 2.5 counted, 7 more fit
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 6, 1500 * MS, 10));
        assertThat(grantSingles(run)).isEqualTo(6);
        assertThat(run.decide(11)).isEqualTo(Decision.exceeding(11, 0, 1500 * MS, 10));
    }

    @Test
    public void adversarialBurstAtAWindowBoundaryReachesTwiceTheLimitMinusOne() {
        Run run = standardRun();
        run.advance(1000 * MS - 1); // the last ns of fixed window 0
        assertThat(run.decide(10).isAllowed()).isTrue();
        long grantedInWindowOne = 0;
        run.advance(1);
        for (int ms = 0; ms < 1000; ms++) {
            grantedInWindowOne += grantSingles(run);
            run.advance(MS);
        }
        // Just before 2000 ms the sliding window (999 ms, 1999 ms] holds the 10 from the end of
        // window 0 and the 9 granted in window 1 up to 1999 ms: 2L - 1, the documented bound.
        assertThat(grantedInWindowOne).isEqualTo(9);
        assertThat(10 + grantedInWindowOne).isEqualTo(2 * 10 - 1);
    }

    private static long grantSingles(Run run) {
        long n = 0;
        while (run.decide(1).isAllowed()) {
            n++;
        }
        return n;
    }

    /**
     * Never more than L permits in one fixed window, nor more than {@code 2L - 1} in any window
     * {@code (t - W, t]}.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void neverMoreThanTheDocumentedWorstCase(@ForAll("scripts") Script script) {
        SlidingWindow sw = (SlidingWindow) script.limit();
        long w = sw.windowNanos();
        List<long[]> grants = grants(script);
        for (long[] last : grants) {
            long start = Math.floorDiv(last[0], w) * w;
            assertThat(SlidingWindowLogConformance.permitsIn(grants, start - 1, start + w - 1))
                    .as("permits in fixed window [%s, %s)", start, start + w).isLessThanOrEqualTo(sw.limit());
            assertThat(SlidingWindowLogConformance.permitsIn(grants, last[0] - w, last[0]))
                    .as("permits in (%s, %s]", last[0] - w, last[0]).isLessThanOrEqualTo(2 * sw.limit() - 1);
        }
    }
}

package dev.ratelimiter.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.TokenBucket;
import java.time.Duration;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Conformance of {@link LeakyBucket#meter leaky bucket meters} (GCRA): the general
 * {@link RateLimiterContract}, exact scenarios, the bound {@code B + R*t/P}, and equality with
 * the token bucket whose capacity is the burst tolerance. A backend subclasses it and implements
 * {@link #create}.
 */
public abstract class LeakyBucketMeterConformance extends RateLimiterContract {

    /** Subclasses only. */
    protected LeakyBucketMeterConformance() {
    }

    @Override
    protected Limit standardLimit() {
        return LeakyBucket.meter(5, Duration.ofSeconds(1), STANDARD_MAX);
    }

    @Override
    protected Limit limit(long maxPermits, long permits, Duration period) {
        return LeakyBucket.meter(permits, period, maxPermits);
    }

    @Override
    protected Arbitrary<Limit> limits() {
        return Combinators.combine(Generators.maxPermits(), Generators.periods()).flatAs((burst, period) ->
                Generators.permitsPerPeriod(burst, period)
                        .map(permits -> LeakyBucket.meter(permits, Duration.ofNanos(period), burst)));
    }

    @Override
    protected long timeScale(Limit limit) {
        LeakyBucket lb = (LeakyBucket) limit;
        return Generators.refillNanos(lb.capacity(), lb.permits(), lb.periodNanos());
    }

    @Test
    public void grantsItsBurstThenOnePermitPerEmissionInterval() {
        Run run = new Run(LeakyBucket.meter(4, Duration.ofSeconds(1), 2), null); // one per 250 ms, bursts of 2
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 1, 250_000_000L, 2));
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 0, 500_000_000L, 2));
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, 250_000_000L, 500_000_000L, 2));
        long granted = 0;
        for (int ms = 1; ms <= 10_000; ms++) {
            run.advance(1_000_000L);
            if (run.decide(1).isAllowed()) {
                granted++;
            }
        }
        assertThat(granted).as("4 per second for 10 s").isEqualTo(40);
    }

    /**
     * A meter decides exactly as the token bucket whose capacity is its burst tolerance.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void decidesExactlyAsTheEquivalentTokenBucket(@ForAll("scripts") Script script) {
        LeakyBucket meter = (LeakyBucket) script.limit();
        FakeClock meterClock = new FakeClock();
        RateLimiter a = create(meter, meterClock, meterClock);
        FakeClock bucketClock = new FakeClock();
        RateLimiter b = create(TokenBucket.of(meter.capacity(), meter.permits(), meter.period()), bucketClock,
                bucketClock);
        for (Script.Step step : script.steps()) {
            meterClock.advance(step.advanceNanos());
            bucketClock.advance(step.advanceNanos());
            assertThat(a.decide(step.permits())).isEqualTo(b.decide(step.permits()));
        }
    }

    /**
     * Over any interval [t1, t2] the permits granted are at most {@code B + R*(t2 - t1)/P}.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void neverGrantsMoreThanBurstPlusRate(@ForAll("scripts") Script script) {
        LeakyBucket lb = (LeakyBucket) script.limit();
        TokenBucketConformance.assertRefillBound(grants(script), lb.capacity(), lb.permits(), lb.periodNanos());
    }
}

package dev.ratelimiter.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.TokenBucket;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Conformance of {@link TokenBucket} limiters: the general {@link RateLimiterContract}, exact
 * scenarios, and the bound {@code C + R*t/P} on the permits granted over any interval of length
 * t. A backend subclasses it and implements {@link #create}.
 */
public abstract class TokenBucketConformance extends RateLimiterContract {

    /** Subclasses only. */
    protected TokenBucketConformance() {
    }

    @Override
    protected Limit standardLimit() {
        return TokenBucket.of(STANDARD_MAX, 5, Duration.ofSeconds(1));
    }

    @Override
    protected Limit limit(long maxPermits, long permits, Duration period) {
        return TokenBucket.of(maxPermits, permits, period);
    }

    @Override
    protected Arbitrary<Limit> limits() {
        return Combinators.combine(Generators.maxPermits(), Generators.periods()).flatAs((capacity, period) ->
                Generators.permitsPerPeriod(capacity, period)
                        .map(permits -> TokenBucket.of(capacity, permits, Duration.ofNanos(period))));
    }

    @Override
    protected long timeScale(Limit limit) {
        TokenBucket tb = (TokenBucket) limit;
        return Generators.refillNanos(tb.capacity(), tb.refillPermits(), tb.refillPeriodNanos());
    }

    @Test
    public void grantsItsCapacityAtOnceThenRefillsAtItsRate() {
        Run run = standardRun(); // 10, refilled 5 per second: one permit every 200 ms
        for (int i = 1; i <= 10; i++) {
            Decision d = run.decide(1);
            assertThat(d.isAllowed()).isTrue();
            assertThat(d.remaining()).isEqualTo(10 - i);
            assertThat(d.resetNanos()).isEqualTo(i * 200_000_000L);
        }
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, 200_000_000L, 2_000_000_000L, 10));
        assertThat(run.decide(3)).isEqualTo(Decision.denied(3, 0, 600_000_000L, 2_000_000_000L, 10));
        run.advance(199_999_999L);
        assertThat(run.decide(1).retryAfterNanos()).isEqualTo(1);
        run.advance(1);
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 0, 2_000_000_000L, 10));
        assertThat(run.decide(1).isAllowed()).isFalse();
        run.advance(Duration.ofSeconds(1).toNanos());
        assertThat(grantSingles(run)).isEqualTo(5);
        run.advance(Duration.ofSeconds(10).toNanos());
        assertThat(grantSingles(run)).as("never more than the capacity").isEqualTo(10);
        run.advance(Duration.ofMillis(500).toNanos());
        assertThat(grantSingles(run)).isEqualTo(2);
    }

    @Test
    public void nonIntegerTimePerPermitKeepsItsRateOverALongRun() {
        Run run = new Run(TokenBucket.of(3, 3, Duration.ofSeconds(1)), null); // 333,333,333.3 ns per permit
        long end = Duration.ofSeconds(1000).toNanos();
        long granted = 0;
        while (run.now() <= end) {
            Decision d = run.decide(1);
            if (d.isAllowed()) {
                granted++;
            } else {
                run.advance(d.retryAfterNanos());
            }
        }
        // An exact bucket grants 3 + 3 * 1000 in [0, 1000 s], no more and no fewer.
        assertThat(granted).isEqualTo(3003L);
    }

    /**
     * C single permits pass from full whatever the rate, remaining counting down by one, and the
     * next one waits exactly one permit's cost rounded up to a whole nanosecond: the period need
     * not be a whole number of nanoseconds per permit.
     */
    @Test
    public void fullBucketGrantsItsCapacityOnePermitAtATime() {
        for (TokenBucket limit : List.of(TokenBucket.of(3, 3, Duration.ofSeconds(1)),
                TokenBucket.of(7, 7, Duration.ofMinutes(1)), TokenBucket.of(10, 10, Duration.ofSeconds(3)),
                TokenBucket.of(5, 3, Duration.ofSeconds(1)))) {
            if (!accepts(limit)) {
                continue;
            }
            Run run = new Run(limit, null);
            long c = limit.capacity();
            for (long i = 1; i <= c; i++) {
                Decision d = run.decide(1);
                assertThat(d.isAllowed()).as("permit %s of %s", i, limit).isTrue();
                assertThat(d.remaining()).as("remaining after permit %s of %s", i, limit).isEqualTo(c - i);
            }
            long cost = BigInteger.valueOf(limit.refillPeriodNanos())
                    .add(BigInteger.valueOf(limit.refillPermits() - 1))
                    .divide(BigInteger.valueOf(limit.refillPermits())).longValueExact();
            Decision refused = run.decide(1);
            assertThat(refused.isAllowed()).isFalse();
            assertThat(refused.retryAfterNanos()).as("retry-after of %s", limit).isEqualTo(cost);
            run.advance(cost);
            assertThat(run.decide(1).isAllowed()).isTrue();
        }
    }

    /** Three permits a second keep exactly that rate, one permit at a time, over a long run. */
    @Test
    public void singlePermitsAtTheRateAreNeverRefusedOverALongRun() {
        // Capacity 2: one permit of slack, so that a client arriving up to a nanosecond after the
        // bucket is full again loses nothing.
        TokenBucket limit = TokenBucket.of(2, 3, Duration.ofSeconds(1));
        if (!accepts(limit)) {
            return;
        }
        Run run = new Run(limit, null);
        // The exact arrival times of permit k are k / 3 s; a client arriving at each, rounded up
        // to the nanosecond, is always granted.
        for (long k = 0; k < 3000; k++) {
            long at = BigInteger.valueOf(k).multiply(BigInteger.valueOf(1_000_000_000L))
                    .add(BigInteger.TWO).divide(BigInteger.valueOf(3)).longValueExact();
            run.advance(at - run.now());
            assertThat(run.decide(1).isAllowed()).as("permit %s at %s ns", k, at).isTrue();
        }
    }

    @Test
    public void exactCapacityRequestIsGrantedFromFull() {
        Run run = new Run(TokenBucket.of(7, 3, Duration.ofSeconds(1)), null);
        assertThat(run.decide(7)).isEqualTo(Decision.allowed(7, 0, 2_333_333_334L, 7));
        assertThat(run.decide(8).exceedsLimit()).isTrue();
    }

    private static long grantSingles(Run run) {
        long n = 0;
        while (run.decide(1).isAllowed()) {
            n++;
        }
        return n;
    }

    /**
     * Over any interval [t1, t2] the permits granted are at most {@code C + R*(t2 - t1)/P}.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void neverGrantsMoreThanCapacityPlusRefill(@ForAll("scripts") Script script) {
        TokenBucket tb = (TokenBucket) script.limit();
        assertRefillBound(grants(script), tb.capacity(), tb.refillPermits(), tb.refillPeriodNanos());
    }

    /**
     * Checks {@code sum(permits in [t_i, t_j]) * P <= C*P + R*(t_j - t_i)} for every pair of grants.
     *
     * @param grants   the grants, {time, permits}, in time order
     * @param capacity C
     * @param permits  R
     * @param period   P
     */
    static void assertRefillBound(List<long[]> grants, long capacity, long permits, long period) {
        BigInteger c = BigInteger.valueOf(capacity);
        BigInteger r = BigInteger.valueOf(permits);
        BigInteger p = BigInteger.valueOf(period);
        for (int i = 0; i < grants.size(); i++) {
            BigInteger sum = BigInteger.ZERO;
            for (int j = i; j < grants.size(); j++) {
                sum = sum.add(BigInteger.valueOf(grants.get(j)[1]));
                BigInteger t = BigInteger.valueOf(grants.get(j)[0] - grants.get(i)[0]);
                assertThat(sum.multiply(p)).as("permits granted in [%s, %s] ns", grants.get(i)[0], grants.get(j)[0])
                        .isLessThanOrEqualTo(c.multiply(p).add(r.multiply(t)));
            }
        }
    }
}

package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.conformance.ReferenceModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The local composites against a model built from the reference models of the conformance
 * suite: a request is granted iff every model grants it, and then every model consumes it.
 */
class CompositePropertyTest {

    /**
     * The composite of reference models. Models consume when they grant, so every question is
     * asked of fresh models that replay the composite's grants: a limit that granted a request
     * inside the composite granted it alone too (it was decided on the same state).
     */
    static final class CompositeModel {
        private final List<Limit> limits;
        private final List<long[]> grants = new ArrayList<>();
        private final long max;

        CompositeModel(List<Limit> limits) {
            this.limits = limits;
            this.max = limits.stream().mapToLong(Limit::maxPermits).min().orElseThrow();
        }

        private ReferenceModel replayed(Limit limit) {
            ReferenceModel m = ReferenceModel.of(limit);
            for (long[] g : grants) {
                if (!m.decide(g[0], g[1]).isAllowed()) {
                    throw new AssertionError("a replayed grant must be granted again: " + m);
                }
            }
            return m;
        }

        /** @return the figures of limit {@code i}'s unchanged state at {@code now}: a request above its maximum */
        private Decision unchanged(Limit limit, long now) {
            return replayed(limit).decide(limit.maxPermits() + 1, now);
        }

        Decision decide(long n, long now, boolean consume) {
            long remaining = Long.MAX_VALUE;
            long reset = 0;
            for (Limit l : limits) {
                Decision u = unchanged(l, now);
                remaining = Math.min(remaining, u.remaining());
                reset = Math.max(reset, u.resetNanos());
            }
            if (n > max) {
                return Decision.exceeding(n, remaining, reset, max);
            }
            List<Decision> ds = new ArrayList<>();
            for (Limit l : limits) {
                ds.add(replayed(l).decide(n, now));
            }
            if (ds.stream().allMatch(Decision::isAllowed)) {
                if (consume) {
                    grants.add(new long[] {n, now});
                }
                return Decision.allowed(n, ds.stream().mapToLong(Decision::remaining).min().orElseThrow(),
                        ds.stream().mapToLong(Decision::resetNanos).max().orElseThrow(), max);
            }
            long retry = ds.stream().filter(d -> !d.isAllowed()).mapToLong(Decision::retryAfterNanos).max()
                    .orElseThrow();
            return Decision.denied(n, remaining, retry, reset, max);
        }

        long available(long now) {
            long remaining = Long.MAX_VALUE;
            for (Limit l : limits) {
                remaining = Math.min(remaining, unchanged(l, now).remaining());
            }
            return remaining;
        }
    }

    /** One step of a script: the clock moves by {@code advance}, then an operation. */
    record Step(long advance, int op, long permits) {
        @Override
        public String toString() {
            return "+" + advance + (op == 0 ? " decide " + permits : op == 1 ? " peek " + permits
                    : op == 2 ? " available" : op == 3 ? " drain" : " tryAcquire " + permits);
        }
    }

    @Provide
    Arbitrary<Limit> limit() {
        Arbitrary<Long> capacity = Arbitraries.longs().between(1, 8);
        Arbitrary<Long> permits = Arbitraries.longs().between(1, 7);
        Arbitrary<Long> period = Arbitraries.of(1_000_000L, 1_000_000_000L, 3_000_000_007L, 60_000_000_000L);
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 11);
        return Combinators.combine(kind, capacity, permits, period).as((k, c, r, p) -> k < 6
                ? TokenBucket.of(c, r, Duration.ofNanos(p))
                : k < 8 ? LeakyBucket.meter(r, Duration.ofNanos(p), c)
                : k < 9 ? LeakyBucket.queue(r, Duration.ofNanos(p), c)
                : SlidingWindow.counter(c, Duration.ofNanos(p)));
    }

    @Provide
    Arbitrary<List<Limit>> limits() {
        return limit().list().ofMinSize(1).ofMaxSize(3);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Long> advance = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(1, 2_000_000L)),
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(1, 2_000_000_000L)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 120_000_000_000L)));
        Arbitrary<Integer> op = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(6, 0), net.jqwik.api.Tuple.of(2, 1), net.jqwik.api.Tuple.of(1, 2),
                net.jqwik.api.Tuple.of(1, 3), net.jqwik.api.Tuple.of(4, 4));
        Arbitrary<Long> permits = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(1L)),
                net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(1, 9)));
        return Combinators.combine(advance, op, permits).as(Step::new).list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 300)
    void singleCompositeDecidesAsTheCompositeOfTheModels(@ForAll("limits") List<Limit> limits,
                                                         @ForAll("steps") List<Step> steps) {
        FakeClock clock = new FakeClock();
        long start = clock.read();
        RateLimiter composite = LocalRateLimiters.composite(limits, clock, clock);
        CompositeModel model = new CompositeModel(limits);
        check(steps, clock, start, model, n -> composite.decide(n), n -> composite.peek(n),
                composite::availablePermits, composite::drain, n -> composite.tryAcquire(n));
    }

    @Property(tries = 200)
    void keyedCompositeDecidesAsTheCompositeOfTheModels(@ForAll("limits") List<Limit> groupLimits,
                                                        @ForAll("limits") List<Limit> keyLimits,
                                                        @ForAll("steps") List<Step> steps) {
        FakeClock clock = new FakeClock();
        long start = clock.read();
        LocalCompositeKeyedRateLimiter<String, String> keyed = LocalCompositeKeyedRateLimiter
                .<String, String>builder(k -> "g", groupLimits, keyLimits).ticker(clock).sleeper(clock).build();
        List<Limit> all = new ArrayList<>(groupLimits);
        all.addAll(keyLimits);
        CompositeModel model = new CompositeModel(all);
        check(steps, clock, start, model, n -> keyed.decide("k", n), n -> keyed.peek("k", n),
                () -> keyed.availablePermits("k"), () -> keyed.drain("k"), n -> keyed.tryAcquire("k", n));
    }

    private static void check(List<Step> steps, FakeClock clock, long start, CompositeModel model,
                              Function<Long, Decision> decide, Function<Long, Decision> peek,
                              java.util.function.LongSupplier available, java.util.function.LongSupplier drain,
                              java.util.function.LongPredicate tryAcquire) {
        for (Step s : steps) {
            long now = clock.advance(s.advance()) - start;
            switch (s.op()) {
                case 0 -> assertThat(decide.apply(s.permits())).as("%s at %d", s, now)
                        .isEqualTo(model.decide(s.permits(), now, true));
                case 1 -> {
                    Decision expected = model.decide(s.permits(), now, false);
                    assertThat(peek.apply(s.permits())).as("%s at %d", s, now).isEqualTo(expected);
                    assertThat(peek.apply(s.permits())).as("peek again").isEqualTo(expected);
                }
                case 2 -> assertThat(available.getAsLong()).as("%s at %d", s, now).isEqualTo(model.available(now));
                case 4 -> assertThat(tryAcquire.test(s.permits())).as("%s at %d", s, now)
                        .isEqualTo(model.decide(s.permits(), now, true).isAllowed());
                default -> {
                    long n = model.available(now);
                    if (n > 0) {
                        assertThat(model.decide(n, now, true).isAllowed()).isTrue();
                    }
                    assertThat(drain.getAsLong()).as("%s at %d", s, now).isEqualTo(n);
                }
            }
        }
    }
}

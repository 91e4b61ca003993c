package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.local.LocalRateLimiters;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The in-process limiters and the Redis scripts (client time, in nanoseconds, on the same fake
 * readings) decide alike on every sequence, the clock stepping backwards included: every field of
 * every {@link Decision}, every {@code tryAcquire}, and every blocking acquire's outcome and wait.
 */
class LocalRedisDifferentialTest {

    /** One operation: a time step (possibly backwards), then a call. */
    record Step(long deltaNanos, int kind, long permits, long timeoutNanos) {
        static final int DECIDE = 0;
        static final int TRY = 1;
        static final int BLOCKING = 2;

        @Override
        public String toString() {
            String call = switch (kind) {
                case DECIDE -> "decide(" + permits + ")";
                case TRY -> "tryAcquire(" + permits + ")";
                default -> "tryAcquire(" + permits + ", " + timeoutNanos + " ns)";
            };
            return (deltaNanos >= 0 ? "+" : "") + deltaNanos + " ns, " + call;
        }
    }

    record Sequence(Limit limit, List<Step> steps) {
    }

    private static long scaleOf(Limit limit) {
        if (limit instanceof TokenBucket tb) {
            return tb.refillPeriodNanos();
        }
        if (limit instanceof LeakyBucket lb) {
            return lb.periodNanos();
        }
        return ((SlidingWindow) limit).windowNanos();
    }

    @Provide
    Arbitrary<Sequence> sequences() {
        Arbitrary<Long> periods = Arbitraries.longs().between(1, 7).map(ms -> ms * 1_000_000L);
        Arbitrary<Integer> small = Arbitraries.integers().between(1, 5);
        Arbitrary<Integer> rates = Arbitraries.integers().between(1, 7);
        Arbitrary<Limit> limits = Arbitraries.oneOf(
                Combinators.combine(small, rates, periods)
                        .as((c, r, p) -> (Limit) TokenBucket.of(c, r, Duration.ofNanos(p))),
                Combinators.combine(small, rates, periods)
                        .as((b, r, p) -> (Limit) LeakyBucket.meter(r, Duration.ofNanos(p), b)),
                Combinators.combine(small, rates, periods)
                        .as((q, r, p) -> (Limit) LeakyBucket.queue(r, Duration.ofNanos(p), q)),
                Combinators.combine(small, periods).as((l, w) -> (Limit) SlidingWindow.log(l, Duration.ofNanos(w))),
                Combinators.combine(small, periods).as((l, w) -> (Limit) SlidingWindow.counter(l, Duration.ofNanos(w))));
        return limits.flatMap(limit -> {
            long scale = scaleOf(limit);
            Arbitrary<Long> deltas = Arbitraries.oneOf(
                    Arbitraries.longs().between(-scale, 2 * scale),
                    Arbitraries.longs().between(-3, 3),
                    Arbitraries.of(0L, scale, -scale, scale / 2, scale / 3 + 1, -1L));
            Arbitrary<Step> steps = Combinators.combine(
                    deltas,
                    Arbitraries.integers().between(0, 9).map(i -> i < 5 ? Step.DECIDE : i < 8 ? Step.TRY : Step.BLOCKING),
                    Arbitraries.longs().between(1, limit.maxPermits() + 1),
                    Arbitraries.longs().between(-1, 2 * scale))
                    .as(Step::new);
            return steps.list().ofMinSize(1).ofMaxSize(25).map(list -> new Sequence(limit, list));
        });
    }

    @Property(tries = 300)
    void localAndRedisDecideAlike(@ForAll("sequences") Sequence sequence) throws InterruptedException {
        replay(sequence.limit(), sequence.steps());
    }

    private static void replay(Limit limit, List<Step> steps) throws InterruptedException {
        FakeClock localClock = new FakeClock(1_000_000_000_000L);
        FakeClock redisClock = new FakeClock(1_000_000_000_000L);
        RateLimiter local = LocalRateLimiters.create(limit, localClock, localClock);
        RateLimiter redis = SharedConnection.clientTime(limit, redisClock, redisClock);
        StringBuilder history = new StringBuilder(limit.toString());
        for (Step step : steps) {
            localClock.advance(step.deltaNanos());
            redisClock.set(localClock.read());
            history.append("\n  ").append(step);
            String label = history.toString();
            switch (step.kind()) {
                case Step.DECIDE -> assertThat(redis.decide(step.permits())).as(label)
                        .isEqualTo(local.decide(step.permits()));
                case Step.TRY -> assertThat(redis.tryAcquire(step.permits())).as(label)
                        .isEqualTo(local.tryAcquire(step.permits()));
                default -> {
                    long before = localClock.read();
                    boolean expected = local.tryAcquire(step.permits(), Duration.ofNanos(step.timeoutNanos()));
                    boolean actual = redis.tryAcquire(step.permits(), Duration.ofNanos(step.timeoutNanos()));
                    assertThat(actual).as(label).isEqualTo(expected);
                    assertThat(redisClock.read() - before).as("waited, " + label).isEqualTo(localClock.read() - before);
                }
            }
        }
    }

    /** The log scenario: an oversized request must not let an earlier reading in. */
    @Test
    void anOversizedRequestDoesNotMoveTheLogWindow() throws InterruptedException {
        long s = 1_000_000_000L;
        replay(SlidingWindow.log(1, Duration.ofSeconds(1)), List.of(
                new Step(0, Step.DECIDE, 1, 0),
                new Step(s, Step.TRY, 2, 0),
                new Step(-1, Step.DECIDE, 1, 0)));
        replay(SlidingWindow.log(1, Duration.ofSeconds(1)), List.of(
                new Step(0, Step.DECIDE, 1, 0),
                new Step(s, Step.DECIDE, 2, 0),
                new Step(-1, Step.DECIDE, 1, 0)));
    }

    /** The counter scenario. */
    @Test
    void anOversizedRequestDoesNotRotateTheCounter() throws InterruptedException {
        long s = 1_000_000_000L;
        replay(SlidingWindow.counter(1, Duration.ofSeconds(1)), List.of(
                new Step(s / 2, Step.DECIDE, 1, 0),
                new Step(3 * s / 2, Step.TRY, 2, 0),
                new Step(-s / 2, Step.DECIDE, 1, 0)));
        replay(SlidingWindow.counter(1, Duration.ofSeconds(1)), List.of(
                new Step(s / 2, Step.DECIDE, 1, 0),
                new Step(3 * s / 2, Step.DECIDE, 2, 0),
                new Step(-s / 2, Step.DECIDE, 1, 0)));
    }

    /** The GCRA scenario: a reading before the limiter's creation. */
    @Test
    void aReadingBeforeCreationFindsTheBucketFullInBoth() throws InterruptedException {
        replay(TokenBucket.of(1, 1, Duration.ofSeconds(1)), List.of(new Step(-1, Step.DECIDE, 1, 0)));
        replay(TokenBucket.of(2, 1, Duration.ofSeconds(1)), List.of(
                new Step(-1, Step.DECIDE, 1, 0), new Step(0, Step.DECIDE, 1, 0), new Step(1, Step.DECIDE, 1, 0)));
    }
}

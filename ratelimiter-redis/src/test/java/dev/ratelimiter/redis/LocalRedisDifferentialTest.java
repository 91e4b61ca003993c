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
 * every {@link Decision}, every {@code tryAcquire}, and every blocking acquire's outcome and wait;
 * and the operations mixed in: every peek, availablePermits and drain answer equal, refunds,
 * resets and reconfigurations (to another limit of the same family, and back) changing both alike.
 */
class LocalRedisDifferentialTest {

    /** One operation: a time step (possibly backwards), then a call. */
    record Step(long deltaNanos, int kind, long permits, long timeoutNanos) {
        static final int DECIDE = 0;
        static final int TRY = 1;
        static final int BLOCKING = 2;
        static final int PEEK = 3;
        static final int AVAILABLE = 4;
        static final int REFUND = 5;
        static final int DRAIN = 6;
        static final int RESET = 7;
        static final int RECONFIGURE = 8;

        @Override
        public String toString() {
            String call = switch (kind) {
                case DECIDE -> "decide(" + permits + ")";
                case TRY -> "tryAcquire(" + permits + ")";
                case BLOCKING -> "tryAcquire(" + permits + ", " + timeoutNanos + " ns)";
                case PEEK -> "peek(" + permits + ")";
                case AVAILABLE -> "availablePermits()";
                case REFUND -> "refund(" + permits + ")";
                case DRAIN -> "drain()";
                case RESET -> "reset()";
                default -> "reconfigure (to the other limit)";
            };
            return (deltaNanos >= 0 ? "+" : "") + deltaNanos + " ns, " + call;
        }
    }

    /** A limit, another of its family that reconfigure steps alternate with, and the steps. */
    record Sequence(Limit limit, Limit other, List<Step> steps) {
    }

    /**
     * Another limit of the family of {@code limit}: a log or a counter of the same window, or a
     * GCRA limit (bucket, meter or queue) of the same rate. A log's window is held because the
     * local log, grown to a longer window, judges a reading from a clock behind the change at an
     * instant derived from its own head, which the Redis log (one floor for all keys) does not
     * know; RedisOperationsTest checks the longer window. Only the rate is held: across a change of
     * rate the local limiter converts its state once, at the change (rounding a remainder the new
     * rate cannot express up), while Redis converts the stored state whenever it is read at
     * another rate than its writer's, so that a change back before any write finds the exact
     * state again in Redis and the twice-rounded one locally (1 ns later at most). Both are
     * within the contract; RedisOperationsTest checks Redis's rounding.
     */
    private static Arbitrary<Limit> sameFamily(Limit limit, Arbitrary<Integer> small, Arbitrary<Integer> rates,
                                               Arbitrary<Long> periods) {
        if (limit instanceof TokenBucket tb) {
            return gcraOfRate(small, tb.refillPermits(), tb.refillPeriod());
        }
        if (limit instanceof LeakyBucket lb) {
            return gcraOfRate(small, lb.permits(), lb.period());
        }
        SlidingWindow sw = (SlidingWindow) limit;
        if (sw.mode() == SlidingWindow.Mode.COUNTER) {
            return small.map(l -> SlidingWindow.counter(l, sw.window()));
        }
        return small.map(l -> SlidingWindow.log(l, sw.window()));
    }

    private static Arbitrary<Limit> gcraOfRate(Arbitrary<Integer> small, long permits, Duration period) {
        return Arbitraries.oneOf(
                small.map(c -> (Limit) TokenBucket.of(c, permits, period)),
                small.map(b -> (Limit) LeakyBucket.meter(permits, period, b)),
                small.map(q -> (Limit) LeakyBucket.queue(permits, period, q)));
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
        return limits.flatMap(limit -> sameFamily(limit, small, rates, periods).flatMap(other -> {
            long scale = scaleOf(limit);
            Arbitrary<Long> deltas = Arbitraries.oneOf(
                    Arbitraries.longs().between(-scale, 2 * scale),
                    Arbitraries.longs().between(-3, 3),
                    Arbitraries.of(0L, scale, -scale, scale / 2, scale / 3 + 1, -1L));
            Arbitrary<Step> steps = Combinators.combine(
                    deltas,
                    Arbitraries.integers().between(0, 15).map(i -> i < 4 ? Step.DECIDE : i < 6 ? Step.TRY
                            : i < 7 ? Step.BLOCKING : i < 9 ? Step.PEEK : i < 10 ? Step.AVAILABLE
                            : i < 12 ? Step.REFUND : i < 13 ? Step.DRAIN : i < 14 ? Step.RESET : Step.RECONFIGURE),
                    Arbitraries.longs().between(1, limit.maxPermits() + 1),
                    Arbitraries.longs().between(-1, 2 * scale))
                    .as(Step::new);
            // A counter's reset is left out: the Redis key starts again on the fixed windows every
            // process shares (the limiter's origin), the local limiter on windows from the reset.
            boolean counter = limit instanceof SlidingWindow sw && sw.mode() == SlidingWindow.Mode.COUNTER;
            return steps.filter(st -> !(counter && st.kind() == Step.RESET)).list().ofMinSize(1).ofMaxSize(25)
                    .map(list -> new Sequence(limit, other, list));
        }));
    }

    @Property(tries = 300)
    void localAndRedisDecideAlike(@ForAll("sequences") Sequence sequence) throws InterruptedException {
        replay(sequence.limit(), sequence.other(), sequence.steps(), true);
    }

    private static void replay(Limit limit, List<Step> steps) throws InterruptedException {
        replay(limit, limit, steps, false);
    }

    private static void replay(Limit limit, Limit other, List<Step> steps) throws InterruptedException {
        replay(limit, other, steps, false);
    }

    /**
     * @param refundsAtTheLatestReading for a window, take every refund at the latest reading so
     *     far: a window refunded at a reading behind its newest grant is judged afterwards at an
     *     instant each implementation derives from what the refund left (the local log from the
     *     grants it removed, the Redis log from its head), which may differ by up to a window,
     *     both without creating a permit; the scripted tests below replay such sequences exactly
     */
    private static void replay(Limit limit, Limit other, List<Step> steps, boolean refundsAtTheLatestReading)
            throws InterruptedException {
        FakeClock localClock = new FakeClock(1_000_000_000_000L);
        FakeClock redisClock = new FakeClock(1_000_000_000_000L);
        RateLimiter local = LocalRateLimiters.create(limit, localClock, localClock);
        RateLimiter redis = SharedConnection.clientTime(limit, redisClock, redisClock);
        StringBuilder history = new StringBuilder(limit + (other.equals(limit) ? "" : ", other " + other));
        boolean window = limit instanceof SlidingWindow;
        boolean refunded = false;
        long latest = localClock.read();
        for (Step step : steps) {
            // After a refund or a reconfiguration, a window's clock does not step back: judging a
            // reading behind one, the local limiter keeps the instant (or fixed window) it acted
            // at, also when nothing was refunded, as its successor's state, while Redis writes
            // nothing for a reconfiguration or an empty refund. Neither creates a permit.
            refunded |= step.kind() == Step.REFUND || step.kind() == Step.RECONFIGURE;
            localClock.advance(window && refunded ? Math.max(0, step.deltaNanos()) : step.deltaNanos());
            if (window && refundsAtTheLatestReading && step.kind() == Step.REFUND && localClock.read() < latest) {
                localClock.set(latest);
            }
            latest = Math.max(latest, localClock.read());
            redisClock.set(localClock.read());
            history.append("\n  ").append(step);
            String label = history.toString();
            switch (step.kind()) {
                case Step.DECIDE -> assertThat(redis.decide(step.permits())).as(label)
                        .isEqualTo(local.decide(step.permits()));
                case Step.TRY -> assertThat(redis.tryAcquire(step.permits())).as(label)
                        .isEqualTo(local.tryAcquire(step.permits()));
                case Step.PEEK -> assertThat(redis.peek(step.permits())).as(label)
                        .isEqualTo(local.peek(step.permits()));
                case Step.AVAILABLE -> assertThat(redis.availablePermits()).as(label)
                        .isEqualTo(local.availablePermits());
                case Step.REFUND -> {
                    redis.refund(step.permits());
                    local.refund(step.permits());
                }
                case Step.DRAIN -> assertThat(redis.drain()).as(label).isEqualTo(local.drain());
                case Step.RESET -> {
                    redis.reset();
                    local.reset();
                }
                case Step.RECONFIGURE -> {
                    Limit next = local.limit().equals(limit) ? other : limit;
                    local.reconfigure(next);
                    redis.reconfigure(next);
                    assertThat(redis.limit()).as(label).isEqualTo(next);
                }
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

    /**
     * A shrunk failure of the property: after a refund of every live grant, a grant at the very time
     * of the log's head (a clock behind it) replaced the head in Redis, so Redis forgot it and
     * granted its permits again (available 3 where the local log, right, had 1).
     */
    @Test
    void aGrantAtTheHeadsTimeAfterAFullRefundIsCounted() throws InterruptedException {
        long ms = 1_000_000L;
        replay(SlidingWindow.log(1, Duration.ofMillis(1)), SlidingWindow.log(3, Duration.ofMillis(1)), List.of(
                new Step(0, Step.DECIDE, 1, 0),
                new Step(-ms, Step.DECIDE, 1, 0),
                new Step(0, Step.DECIDE, 1, 0),
                new Step(0, Step.REFUND, 1, 0),
                new Step(0, Step.PEEK, 2, 0),
                new Step(-1, Step.RECONFIGURE, 0, 0),
                new Step(-2, Step.TRY, 2, 0),
                new Step(-1, Step.DECIDE, 1, 0)));
    }

    /** A shrunk failure of the property: a reservation granted, then a clock behind a remembered refusal. */
    @Test
    void aReservationForgetsTheRefusalItOutdates() throws InterruptedException {
        replay(TokenBucket.of(1, 3, Duration.ofMillis(1)), List.of(
                new Step(0, Step.DECIDE, 1, 0),
                new Step(0, Step.DECIDE, 1, 0),
                new Step(333334, Step.BLOCKING, 1, 0),
                new Step(-1, Step.DECIDE, 1, 0)));
    }

    /** The GCRA scenario: a reading before the limiter's creation. */
    @Test
    void aReadingBeforeCreationFindsTheBucketFullInBoth() throws InterruptedException {
        replay(TokenBucket.of(1, 1, Duration.ofSeconds(1)), List.of(new Step(-1, Step.DECIDE, 1, 0)));
        replay(TokenBucket.of(2, 1, Duration.ofSeconds(1)), List.of(
                new Step(-1, Step.DECIDE, 1, 0), new Step(0, Step.DECIDE, 1, 0), new Step(1, Step.DECIDE, 1, 0)));
    }
}

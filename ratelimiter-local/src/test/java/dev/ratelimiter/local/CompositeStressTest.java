package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Eight threads on one composite, the fake clock moved by a script (between rounds while every
 * thread waits at a barrier, and by one thread within rounds, so decisions race with the clock):
 * nothing is ever admitted beyond any limit's bound {@code C + floor(t * R / P)}, checked at
 * every round, and when one limit dominates (the smallest capacity and the slowest rate) a
 * saturating demand gets exactly that limit's bound: the protocol loses no permit. Nothing sleeps.
 */
class CompositeStressTest {

    private static final int THREADS = 8;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int ROUNDS = 150;
    private static final int ATTEMPTS = 600;

    /** The permits a token bucket may grant over {@code elapsed} from full. */
    private static long bound(TokenBucket tb, long elapsed) {
        return tb.capacity() + StressSupport.permitsOver(elapsed, tb.refillPermits(), tb.refillPeriodNanos());
    }

    /** A request of one thread; returns the permits granted (0 or {@code permits}). */
    @FunctionalInterface
    interface Acquirer {
        boolean tryAcquire(int thread, long permits);
    }

    /** Checked at every round and at the end, with every thread waiting: an admission count against its bound. */
    @FunctionalInterface
    interface BoundCheck {
        void check(long elapsed);
    }

    private static long hammer(FakeClock clock, Acquirer acquirer, LongAdder[] admittedPerThread,
                               BoundCheck check) throws Exception {
        return hammer(clock, acquirer, admittedPerThread, check, 1);
    }

    /** As above, every clock step {@code scale} times longer. */
    private static long hammer(FakeClock clock, Acquirer acquirer, LongAdder[] admittedPerThread,
                               BoundCheck check, long scale) throws Exception {
        long start = clock.read();
        AtomicInteger round = new AtomicInteger();
        StressSupport.SpinBarrier barrier = new StressSupport.SpinBarrier(THREADS, () -> {
            check.check(clock.read() - start);
            round.incrementAndGet();
            clock.advance(40 * MS * scale);
        });
        StressSupport.runWorkers(THREADS, barrier::breakBarrier, index -> {
            for (int r = 0; r < ROUNDS; r++) {
                for (int i = 0; i < ATTEMPTS; i++) {
                    long permits = 1 + (i + index) % 3;
                    if (acquirer.tryAcquire(index, permits)) {
                        admittedPerThread[index].add(permits);
                    }
                    if (index == 0 && i % (ATTEMPTS / 5) == ATTEMPTS / 5 - 1) {
                        clock.advance(7 * MS * scale);
                    }
                }
                barrier.await();
            }
            // The clock is still: single permits until refused take whatever is left.
            for (int n = 0; acquirer.tryAcquire(index, 1); n++) {
                admittedPerThread[index].add(1);
                assertThat(n).as("kept granting with the clock still").isLessThan(1_000_000);
            }
        });
        long elapsed = clock.read() - start;
        check.check(elapsed);
        return elapsed;
    }

    private static LongAdder[] adders() {
        LongAdder[] a = new LongAdder[THREADS];
        for (int i = 0; i < THREADS; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    private static long sum(LongAdder[] adders, int from, int step) {
        long s = 0;
        for (int i = from; i < adders.length; i += step) {
            s += adders[i].sum();
        }
        return s;
    }

    /**
     * Hammers a composite of {@code limits} whose bucket {@code dominating} has the smallest
     * capacity and the slowest rate, clock steps times {@code scale}: never above its bound, and
     * exactly its bound at the end.
     *
     * @return the clock time the run took
     */
    private static long admitsExactly(TokenBucket dominating, List<Limit> limits, long scale) throws Exception {
        FakeClock clock = new FakeClock();
        RateLimiter composite = LocalRateLimiters.composite(limits, clock, clock);
        LongAdder[] admitted = adders();
        long elapsed = hammer(clock, (t, n) -> composite.tryAcquire(n), admitted, e -> {
            assertThat(sum(admitted, 0, 1)).as("admitted after %d ns", e).isLessThanOrEqualTo(bound(dominating, e));
        }, scale);
        assertThat(sum(admitted, 0, 1)).as("admitted over %d ns", elapsed).isEqualTo(bound(dominating, elapsed));
        return elapsed;
    }

    @Test
    void compositeAdmitsExactlyTheDominatingLimitsBound() throws Exception {
        TokenBucket slow = TokenBucket.of(2_000, 10_000, Duration.ofSeconds(1));
        TokenBucket fast = TokenBucket.of(3_000, 20_000, Duration.ofSeconds(1));
        admitsExactly(slow, List.of(fast, slow), 1);
    }

    @Test
    void pairWhoseGrantsOutgrowTheirEpochsAdmitsExactlyTheDominatingLimitsBound() throws Exception {
        // Two one-word buckets (one PairEpoch): a permit of the slow one costs 2.5 s, of the fast
        // one 1.25 s, so no two grants in debt fit one epoch's offsets (2^32 and 2^31 ns). Clock
        // steps of 4 and 0.7 s (about 1 100 s in all) refill the slow bucket all along: the eight
        // threads race on freezing epochs and making the next ones through the whole run.
        TokenBucket slow = TokenBucket.of(300, 2, Duration.ofSeconds(5));
        TokenBucket fast = TokenBucket.of(800, 4, Duration.ofSeconds(5));
        long elapsed = admitsExactly(slow, List.of(slow, fast), 100);
        // Not a burst then a trickle: most grants came from the refill, not the initial capacity.
        assertThat(bound(slow, elapsed)).isGreaterThan(2 * slow.capacity());
    }

    @Test
    void compositeOfCrossingLimitsNeverExceedsEitherBound() throws Exception {
        // The small fast bucket binds at first, the large slow one later.
        TokenBucket burst = TokenBucket.of(500, 20_000, Duration.ofSeconds(1));
        TokenBucket sustained = TokenBucket.of(3_000, 8_000, Duration.ofSeconds(1));
        FakeClock clock = new FakeClock();
        RateLimiter composite = LocalRateLimiters.composite(List.of(burst, sustained), clock, clock);
        LongAdder[] admitted = adders();
        long elapsed = hammer(clock, (t, n) -> composite.tryAcquire(n), admitted, e -> {
            long a = sum(admitted, 0, 1);
            assertThat(a).as("admitted after %d ns", e)
                    .isLessThanOrEqualTo(Math.min(bound(burst, e), bound(sustained, e)));
        });
        long a = sum(admitted, 0, 1);
        // Not vacuous: the sustained rate, less what the demand left unused at the start, was taken.
        assertThat(a).as("admitted over %d ns", elapsed).isGreaterThanOrEqualTo(bound(sustained, elapsed) * 9 / 10);
    }

    @Test
    void keyedCompositeNeverExceedsAKeyOrItsGroupBound() throws Exception {
        // Four keys (two threads each) in one group; each key alone could take 6 000 per second, the
        // group only 16 000 for all four.
        TokenBucket perKey = TokenBucket.of(600, 6_000, Duration.ofSeconds(1));
        TokenBucket perGroup = TokenBucket.of(1_500, 16_000, Duration.ofSeconds(1));
        FakeClock clock = new FakeClock();
        LocalCompositeKeyedRateLimiter<Integer, String> keyed = LocalCompositeKeyedRateLimiter
                .<Integer, String>builder(k -> "group", List.<Limit>of(perGroup), List.<Limit>of(perKey))
                .ticker(clock).sleeper(clock).build();
        LongAdder[] admitted = adders();
        long elapsed = hammer(clock, (t, n) -> keyed.tryAcquire(t % 4, n), admitted, e -> {
            for (int key = 0; key < 4; key++) {
                assertThat(sum(admitted, key, 4)).as("key %d after %d ns", key, e)
                        .isLessThanOrEqualTo(bound(perKey, e));
            }
            assertThat(sum(admitted, 0, 1)).as("group after %d ns", e).isLessThanOrEqualTo(bound(perGroup, e));
        });
        // The group binds (4 keys x 6 000 > 16 000): grants by its keys reach its bound exactly
        // unless a tentative key charge was forfeited, which refuses more, never less.
        assertThat(sum(admitted, 0, 1)).as("group over %d ns", elapsed)
                .isGreaterThanOrEqualTo(bound(perGroup, elapsed) * 9 / 10);
    }

    @Test
    void keysOfDifferentGroupsShareNothing() throws Exception {
        TokenBucket perKey = TokenBucket.of(300, 3_000, Duration.ofSeconds(1));
        TokenBucket perGroup = TokenBucket.of(1_000, 5_000, Duration.ofSeconds(1));
        FakeClock clock = new FakeClock();
        // Eight keys, one thread each; keys 0-3 in group "a", 4-7 in "b". Each key binds (4 x 3 000 > 5 000? no:
        // 12 000 > 5 000, so the group binds), and each group's bound is reached exactly: across keys of one
        // group the group is charged only for grants, and each key has a single caller, so no charge is forfeited.
        LocalCompositeKeyedRateLimiter<Integer, String> keyed = LocalCompositeKeyedRateLimiter
                .<Integer, String>builder(k -> k < 4 ? "a" : "b", List.<Limit>of(perGroup), List.<Limit>of(perKey))
                .ticker(clock).sleeper(clock).build();
        LongAdder[] admitted = adders();
        // Empty both groups first (a full bucket wastes its refill): otherwise a group whose threads start
        // after the clock first moved would lose that refill, and the exact count below would not hold.
        for (int k = 0; k < THREADS; k++) {
            admitted[k].add(keyed.drain(k));
        }
        long elapsed = hammer(clock, (t, n) -> keyed.tryAcquire(t, n), admitted, e -> {
            for (int g = 0; g < 2; g++) {
                long s = 0;
                for (int k = 4 * g; k < 4 * g + 4; k++) {
                    s += admitted[k].sum();
                    assertThat(admitted[k].sum()).as("key %d after %d ns", k, e).isLessThanOrEqualTo(bound(perKey, e));
                }
                assertThat(s).as("group %d after %d ns", g, e).isLessThanOrEqualTo(bound(perGroup, e));
            }
        });
        for (int g = 0; g < 2; g++) {
            long s = 0;
            for (int k = 4 * g; k < 4 * g + 4; k++) {
                s += admitted[k].sum();
            }
            assertThat(s).as("group %d over %d ns", g, elapsed).isEqualTo(bound(perGroup, elapsed));
        }
    }
}

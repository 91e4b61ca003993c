package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Many threads on one limiter, with a fake clock moved deterministically: the limiter never
 * admits more than its limit allows, counted exactly, and when demand far exceeds the limit it
 * admits exactly that much (nothing is lost to a race).
 *
 * <p>Threads work in rounds separated by a {@link CyclicBarrier}; the barrier action, which runs
 * while every thread is parked, checks the bound on everything admitted so far and then moves the
 * clock. For the rate-based limiters one thread also moves the clock by small steps in the middle
 * of a round, so that decisions race with the clock: a decision may read the clock, lose the CAS
 * to one made with a later reading, and retry or commit with its stale reading. That must never
 * admit more (a stale reading only makes a decision stricter). The window limiters keep the clock
 * still within a round, so that every grant's time is known exactly and every window can be
 * checked. Nothing sleeps: time is the fake clock's.
 */
class ControlledClockStressTest {

    private static final int THREADS = 8;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** Attempts per thread per round: far more than a round refills, so demand saturates. */
    private static final int ATTEMPTS_PER_ROUND = 200;

    /** A window-aligned clock origin; see {@link SlidingWindowLincheckTest#WINDOW_ALIGNED_START}. */
    private static final long WINDOW_ALIGNED_START = SlidingWindowLincheckTest.WINDOW_ALIGNED_START;

    // ---------------------------------------------------------------------------------------
    // Rate-based limiters: token bucket, leaky bucket meter and queue
    // ---------------------------------------------------------------------------------------

    /** What a run of {@link #hammerWithMovingClock} admitted, and what it was allowed to. */
    private record RateRun(long admitted, long bound, long elapsedNanos) {
    }

    @Test
    void tokenBucketAdmitsExactlyCapacityPlusRefillUnderContention() throws Exception {
        // 100 permits, refilled at 10 per second: one every 100 ms exactly.
        RateRun run = hammerWithMovingClock(TokenBucket.of(100, 10, Duration.ofSeconds(1)),
                100, 10, SECOND, 3, 60, 250 * MS, 10 * MS);

        // Saturated: every permit the bucket held or gained was granted, none twice.
        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos()).isEqualTo(run.bound());
    }

    @Test
    void leakyMeterNeverAdmitsMoreThanBurstPlusRate() throws Exception {
        // 10 per second (one per 100 ms), bursts of 40.
        RateRun run = hammerWithMovingClock(LeakyBucket.meter(10, Duration.ofSeconds(1), 40),
                40, 10, SECOND, 3, 60, 250 * MS, 10 * MS);

        // The bound itself is checked at every round; here only that the run was not vacuous.
        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isGreaterThanOrEqualTo(run.bound() / 2);
    }

    @Test
    void leakyQueueNeverLetsMoreThanOneLeavePerInterval() throws Exception {
        // One every 100 ms; tryAcquire only succeeds for a caller that may leave at once, so over
        // t at most 1 + floor(t / 100 ms) single permits leave. A queue does not save up unused
        // time, so the clock moves in steps shorter than the interval (30 ms between rounds, 5 ms
        // within) to keep it busy: a slot then goes unused for at most 35 ms.
        RateRun run = hammerWithMovingClock(LeakyBucket.queue(10, Duration.ofSeconds(1), 5),
                1, 10, SECOND, 1, 200, 30 * MS, 5 * MS);

        // So at least one leaves every 135 ms: more than half the bound.
        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isGreaterThanOrEqualTo(run.bound() / 2);
    }

    /**
     * Runs {@value #THREADS} threads on one limiter for {@code rounds} rounds. Between rounds the
     * clock moves by {@code roundStep}; during a round thread 0 moves it by {@code inRoundStep}
     * five times. Requests ask
     * for 1 to {@code maxPermits} permits; at the end, with the clock still, every thread takes
     * single permits until refused, so whatever the limiter still holds is taken.
     *
     * <p>At every round boundary and at the end, the permits admitted so far must not exceed
     * {@code burst + floor(elapsed * rate / period)}: every decision so far read a clock value
     * between the start and now.
     */
    private static RateRun hammerWithMovingClock(Limit limit, long burst, long ratePermits,
                                                 long ratePeriodNanos, int maxPermits, int rounds,
                                                 long roundStep, long inRoundStep) throws Exception {
        int inRoundAdvanceEvery = ATTEMPTS_PER_ROUND / 5;

        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(limit, clock, clock);
        long start = clock.read();
        LongAdder admitted = new LongAdder();
        AtomicInteger round = new AtomicInteger();
        CyclicBarrier barrier = new CyclicBarrier(THREADS, () -> {
            // Every thread is parked at the barrier: the sum is exact.
            long now = clock.read();
            long bound = burst + StressSupport.permitsOver(now - start, ratePermits, ratePeriodNanos);
            assertThat(admitted.sum())
                    .as("%s: permits admitted by the end of round %d, %d ns after the start",
                            limit, round.get(), now - start)
                    .isLessThanOrEqualTo(bound);
            round.incrementAndGet();
            clock.advance(roundStep);
        });

        StressSupport.runWorkers(THREADS, barrier::reset, index -> {
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < ATTEMPTS_PER_ROUND; i++) {
                    long permits = 1 + (i + index) % maxPermits;
                    if (limiter.tryAcquire(permits)) {
                        admitted.add(permits);
                    }
                    if (index == 0 && i % inRoundAdvanceEvery == inRoundAdvanceEvery - 1) {
                        clock.advance(inRoundStep);
                    }
                }
                barrier.await(30, TimeUnit.SECONDS);
            }
            // The clock no longer moves: a refused single permit means none is left.
            drain(limiter, admitted, burst + ratePermits * rounds);
        });

        long elapsed = clock.read() - start;
        long bound = burst + StressSupport.permitsOver(elapsed, ratePermits, ratePeriodNanos);
        assertThat(admitted.sum()).as("%s: permits admitted in total over %d ns", limit, elapsed)
                .isLessThanOrEqualTo(bound);
        return new RateRun(admitted.sum(), bound, elapsed);
    }

    /**
     * Takes single permits until one is refused; with the clock still, the limiter is then
     * exhausted. {@code atMost} bounds the loop so that a limiter that never refuses fails the
     * test instead of spinning forever.
     */
    private static void drain(RateLimiter limiter, LongAdder admitted, long atMost) {
        for (long n = 0; limiter.tryAcquire(1); n++) {
            admitted.add(1);
            assertThat(n).as("%s kept granting single permits with the clock still", limiter)
                    .isLessThan(atMost);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Window limiters: sliding window log and counter
    // ---------------------------------------------------------------------------------------

    /**
     * Clock steps between rounds, in ms, cycled. They put round times at many offsets within a
     * window of 1 s, and several land exactly one window after an earlier round (250 * 4, 1000,
     * 400 + 600), where the earlier grants must have just left the window (it is half-open).
     */
    private static final long[] WINDOW_STEPS_MS = {250, 250, 250, 250, 130, 370, 1000, 90, 400, 600, 1, 999, 2500};

    /** One granted request: when (the fake clock's reading) and how many permits. */
    private record Grant(long time, long permits) {
    }

    @Test
    void slidingLogNeverHoldsMoreThanItsLimitInAnyWindowAndFillsEveryWindow() throws Exception {
        long limit = 50;
        long window = SECOND;
        WindowRun run = hammerWindowLimiter(SlidingWindow.log(limit, Duration.ofSeconds(1)),
                FakeClock.DEFAULT_START, limit);

        for (long end : run.roundTimes()) {
            // Saturated: after each round the window ending at that time holds exactly the limit.
            assertThat(permitsIn(run.grants(), end - window, end))
                    .as("permits in the window (%d, %d] after the round at %d", end - window, end, end)
                    .isEqualTo(limit);
        }
        assertEveryWindowHoldsAtMost(run.grants(), window, limit);
    }

    @Test
    void slidingCounterHoldsAtMostItsLimitPerFixedWindowAndUnderTwiceItPerSlidingWindow()
            throws Exception {
        long limit = 50;
        long window = SECOND;
        WindowRun run = hammerWindowLimiter(SlidingWindow.counter(limit, Duration.ofSeconds(1)),
                WINDOW_ALIGNED_START, limit);

        // Each fixed window [k W, (k + 1) W) holds at most the limit; the origin is a whole number
        // of windows, so this holds however the limiter aligns its fixed windows.
        long first = Math.floorDiv(run.grants().get(0).time(), window);
        long last = Math.floorDiv(run.grants().get(run.grants().size() - 1).time(), window);
        for (long k = first; k <= last; k++) {
            assertThat(permitsIn(run.grants(), k * window - 1, (k + 1) * window - 1))
                    .as("permits in the fixed window [%d, %d)", k * window, (k + 1) * window)
                    .isLessThanOrEqualTo(limit);
        }
        // The documented worst case of the weighted estimate.
        assertEveryWindowHoldsAtMost(run.grants(), window, 2 * limit - 1);
        // Not vacuous: the first window alone grants the whole limit.
        assertThat(permitsIn(run.grants(), first * window - 1, (first + 1) * window - 1)).isEqualTo(limit);
    }

    /** Every grant of a run, sorted by time, and the clock reading of each round. */
    private record WindowRun(List<Grant> grants, List<Long> roundTimes) {
    }

    /**
     * Runs {@value #THREADS} threads on one window limiter. The clock stays still within a round
     * and moves by {@link #WINDOW_STEPS_MS} between rounds, so each grant's time is the round's
     * reading. Each thread makes requests of 1 to 3 permits, then takes single permits until one
     * is refused, so that after each round the limiter admits nothing more at that time.
     */
    private static WindowRun hammerWindowLimiter(SlidingWindow limit, long startNanos, long maxPerRound)
            throws Exception {
        int rounds = 80;
        int attempts = 60;
        FakeClock clock = new FakeClock(startNanos);
        RateLimiter limiter = LocalRateLimiters.create(limit, clock, clock);
        List<Long> roundTimes = new ArrayList<>();
        roundTimes.add(clock.read());
        AtomicInteger round = new AtomicInteger();
        CyclicBarrier barrier = new CyclicBarrier(THREADS, () -> {
            clock.advance(WINDOW_STEPS_MS[round.getAndIncrement() % WINDOW_STEPS_MS.length] * MS);
            roundTimes.add(clock.read());
        });
        List<List<Grant>> perThread = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            perThread.add(new ArrayList<>());
        }

        StressSupport.runWorkers(THREADS, barrier::reset, index -> {
            List<Grant> mine = perThread.get(index);
            for (int r = 0; r < rounds; r++) {
                long now = clock.read();
                for (int i = 0; i < attempts; i++) {
                    long permits = 1 + (i + index) % 3;
                    if (limiter.tryAcquire(permits)) {
                        mine.add(new Grant(now, permits));
                    }
                }
                for (long n = 0; limiter.tryAcquire(1); n++) {
                    mine.add(new Grant(now, 1));
                    assertThat(n).as("%s kept granting single permits with the clock still", limiter)
                            .isLessThan(maxPerRound);
                }
                barrier.await(30, TimeUnit.SECONDS);
            }
        });

        // The barrier publishes each thread's list (await happens-before the action and the
        // release), and join publishes the last round.
        List<Grant> grants = new ArrayList<>();
        perThread.forEach(grants::addAll);
        grants.sort(Comparator.comparingLong(Grant::time));
        assertThat(grants).as("grants").isNotEmpty();
        roundTimes.remove(roundTimes.size() - 1); // the reading after the last round has no grants
        return new WindowRun(grants, roundTimes);
    }

    /** The permits granted at times in {@code (from, to]}. */
    private static long permitsIn(List<Grant> sortedGrants, long from, long to) {
        long sum = 0;
        for (Grant g : sortedGrants) {
            if (g.time() > from && g.time() <= to) {
                sum += g.permits();
            }
        }
        return sum;
    }

    /**
     * Checks every half-open window {@code (t - window, t]}: the count only grows at a grant, so
     * the windows ending at grant times are the only ones that can hold the most.
     */
    private static void assertEveryWindowHoldsAtMost(List<Grant> sortedGrants, long window, long max) {
        int from = 0;
        long inWindow = 0;
        for (int i = 0; i < sortedGrants.size(); i++) {
            Grant g = sortedGrants.get(i);
            inWindow += g.permits();
            while (sortedGrants.get(from).time() <= g.time() - window) {
                inWindow -= sortedGrants.get(from).permits();
                from++;
            }
            boolean lastAtThisTime = i + 1 == sortedGrants.size() || sortedGrants.get(i + 1).time() != g.time();
            if (lastAtThisTime) {
                assertThat(inWindow).as("permits in the window (%d, %d]", g.time() - window, g.time())
                        .isLessThanOrEqualTo(max);
            }
        }
    }
}

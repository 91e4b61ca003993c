package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Many threads on one limiter, with a fake clock moved deterministically: the limiter never
 * admits more than its limit allows, counted exactly, and when demand far exceeds the limit it
 * admits exactly that much (nothing is lost to a race).
 *
 * <p>Threads work in rounds separated by a {@link StressSupport.SpinBarrier} (so that a round's
 * threads start together and contend); the barrier action, which runs while every other thread
 * waits, checks the bound on everything admitted so far and then moves the clock. For the rate-based limiters one thread also moves the clock by small steps in the middle
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

    /** A window-aligned clock origin; see {@link SlidingWindowLincheckTest#WINDOW_ALIGNED_START}. */
    private static final long WINDOW_ALIGNED_START = SlidingWindowLincheckTest.WINDOW_ALIGNED_START;

    // ---------------------------------------------------------------------------------------
    // Rate-based limiters: token bucket, leaky bucket meter and queue
    // ---------------------------------------------------------------------------------------

    /**
     * How a run moves the clock: {@code rounds} rounds of {@code attempts} requests per thread;
     * {@code roundStep} between rounds, and {@code inRoundStep} five times during each round.
     */
    private record Schedule(int rounds, int attempts, long roundStep, long inRoundStep) {
    }

    /** What a run of {@link #hammerWithMovingClock} admitted, and what it was allowed to. */
    private record RateRun(long admitted, long bound, long elapsedNanos) {
    }

    /**
     * For the bucket and the meter: a permit every 100 us, and each in-round step releases 100
     * permits while the other threads are still requesting, so grants race. Each round adds 1000
     * permits, half the capacity, so the bucket never fills up between rounds (which would waste
     * refill), and 8 threads asking for 1000 requests of 1 to 3 permits each take them all.
     */
    private static final Schedule CONTENDED_REFILL = new Schedule(200, 1_000, 50 * MS, 10 * MS);

    @Test
    void tokenBucketAdmitsExactlyCapacityPlusRefillUnderContention() throws Exception {
        RateRun run = hammerWithMovingClock(TokenBucket.of(2_000, 10_000, Duration.ofSeconds(1)),
                2_000, 10_000, SECOND, 3, CONTENDED_REFILL);

        // Saturated: every permit the bucket held or gained was granted, none twice.
        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos()).isEqualTo(run.bound());
    }

    @Test
    void leakyMeterNeverAdmitsMoreThanBurstPlusRate() throws Exception {
        RateRun run = hammerWithMovingClock(LeakyBucket.meter(10_000, Duration.ofSeconds(1), 2_000),
                2_000, 10_000, SECOND, 3, CONTENDED_REFILL);

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
                1, 10, SECOND, 1, new Schedule(500, 200, 30 * MS, 5 * MS));

        // So at least one leaves every 135 ms: more than half the bound.
        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isGreaterThanOrEqualTo(run.bound() / 2);
    }

    /**
     * Runs {@value #THREADS} threads on one limiter, moving the clock as {@code schedule} says:
     * between rounds (by the barrier action, every other thread waiting) and within them (by thread 0,
     * while the others keep requesting). Requests ask for 1 to {@code maxPermits} permits; at the
     * end, with the clock still, every thread takes single permits until refused, so whatever the
     * limiter still holds is taken.
     *
     * <p>At every round boundary and at the end, the permits admitted so far must not exceed
     * {@code burst + floor(elapsed * rate / period)}: every decision so far read a clock value
     * between the start and now.
     */
    private static RateRun hammerWithMovingClock(Limit limit, long burst, long ratePermits,
                                                 long ratePeriodNanos, int maxPermits,
                                                 Schedule schedule) throws Exception {
        int advanceEvery = schedule.attempts() / 5;
        FakeClock clock = new FakeClock();
        RateLimiter limiter = LocalRateLimiters.create(limit, clock, clock);
        long start = clock.read();
        LongAdder admitted = new LongAdder();
        AtomicInteger round = new AtomicInteger();
        StressSupport.SpinBarrier barrier = new StressSupport.SpinBarrier(THREADS, () -> {
            // Every other thread waits at the barrier: the sum is exact.
            long now = clock.read();
            long bound = burst + StressSupport.permitsOver(now - start, ratePermits, ratePeriodNanos);
            assertThat(admitted.sum())
                    .as("%s: permits admitted by the end of round %d, %d ns after the start",
                            limit, round.get(), now - start)
                    .isLessThanOrEqualTo(bound);
            round.incrementAndGet();
            clock.advance(schedule.roundStep());
        });

        StressSupport.runWorkers(THREADS, barrier::breakBarrier, index -> {
            for (int r = 0; r < schedule.rounds(); r++) {
                for (int i = 0; i < schedule.attempts(); i++) {
                    long permits = 1 + (i + index) % maxPermits;
                    if (limiter.tryAcquire(permits)) {
                        admitted.add(permits);
                    }
                    if (index == 0 && i % advanceEvery == advanceEvery - 1) {
                        clock.advance(schedule.inRoundStep());
                    }
                }
                barrier.await();
            }
            // The clock no longer moves: a refused single permit means none is left.
            long total = schedule.rounds() * (schedule.roundStep() + 5 * schedule.inRoundStep());
            drain(limiter, admitted, burst + StressSupport.permitsOver(total, ratePermits, ratePeriodNanos));
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

    /**
     * The window limit: large enough that no single thread fills a window within the time the
     * others take to wake from the barrier, so grants race.
     */
    private static final long WINDOW_LIMIT = 3_000;

    @Test
    void slidingLogNeverHoldsMoreThanItsLimitInAnyWindowAndFillsEveryWindow() throws Exception {
        long window = SECOND;
        WindowRun run = hammerWindowLimiter(SlidingWindow.log(WINDOW_LIMIT, Duration.ofSeconds(1)),
                FakeClock.DEFAULT_START);

        for (int r = 0; r < run.times().length; r++) {
            long end = run.times()[r];
            // Saturated: after each round the window ending at that time holds exactly the limit.
            assertThat(run.permitsIn(end - window, end))
                    .as("permits in the window (%d, %d] after round %d", end - window, end, r)
                    .isEqualTo(WINDOW_LIMIT);
        }
        run.assertEveryWindowHoldsAtMost(window, WINDOW_LIMIT);
    }

    @Test
    void slidingCounterHoldsAtMostItsLimitPerFixedWindowAndUnderTwiceItPerSlidingWindow()
            throws Exception {
        long window = SECOND;
        WindowRun run = hammerWindowLimiter(SlidingWindow.counter(WINDOW_LIMIT, Duration.ofSeconds(1)),
                WINDOW_ALIGNED_START);

        // Each fixed window [k W, (k + 1) W) holds at most the limit; the origin is a whole number
        // of windows, so this holds however the limiter aligns its fixed windows.
        long[] times = run.times();
        long first = Math.floorDiv(times[0], window);
        long last = Math.floorDiv(times[times.length - 1], window);
        for (long k = first; k <= last; k++) {
            assertThat(run.permitsIn(k * window - 1, (k + 1) * window - 1))
                    .as("permits in the fixed window [%d, %d)", k * window, (k + 1) * window)
                    .isLessThanOrEqualTo(WINDOW_LIMIT);
        }
        // The documented worst case of the weighted estimate.
        run.assertEveryWindowHoldsAtMost(window, 2 * WINDOW_LIMIT - 1);
        // Not vacuous: the first window, with nothing before it, grants the whole limit.
        assertThat(run.permitsIn(first * window - 1, (first + 1) * window - 1)).isEqualTo(WINDOW_LIMIT);
    }

    /**
     * The grants of a run. The clock is still within a round, so every grant of round r was made
     * at {@code times[r]}; {@code permits[r]} is their total.
     */
    private record WindowRun(long[] times, long[] permits) {

        /** The permits granted at times in {@code (from, to]}. */
        long permitsIn(long from, long to) {
            long sum = 0;
            for (int r = 0; r < times.length; r++) {
                if (times[r] > from && times[r] <= to) {
                    sum += permits[r];
                }
            }
            return sum;
        }

        /**
         * Checks every half-open window {@code (t - window, t]}: the count only grows at a grant,
         * so the windows ending at grant times are the only ones that can hold the most.
         */
        void assertEveryWindowHoldsAtMost(long window, long max) {
            for (long end : times) {
                assertThat(permitsIn(end - window, end))
                        .as("permits in the window (%d, %d]", end - window, end)
                        .isLessThanOrEqualTo(max);
            }
        }
    }

    /**
     * Runs {@value #THREADS} threads on one window limiter. The clock stays still within a round
     * and moves by {@link #WINDOW_STEPS_MS} between rounds (in the barrier action), so each
     * grant's time is the round's reading. Each thread makes requests of 1 to 3 permits, then
     * takes single permits until one is refused, so that after each round the limiter admits
     * nothing more at that time.
     */
    private static WindowRun hammerWindowLimiter(SlidingWindow limit, long startNanos) throws Exception {
        int rounds = 200;
        int attempts = 500;
        FakeClock clock = new FakeClock(startNanos);
        RateLimiter limiter = LocalRateLimiters.create(limit, clock, clock);
        long[] times = new long[rounds];
        times[0] = clock.read();
        AtomicInteger round = new AtomicInteger();
        StressSupport.SpinBarrier barrier = new StressSupport.SpinBarrier(THREADS, () -> {
            int next = round.incrementAndGet();
            clock.advance(WINDOW_STEPS_MS[(next - 1) % WINDOW_STEPS_MS.length] * MS);
            if (next < rounds) {
                times[next] = clock.read();
            }
        });
        long[][] perThread = new long[THREADS][rounds];

        StressSupport.runWorkers(THREADS, barrier::breakBarrier, index -> {
            long[] mine = perThread[index];
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < attempts; i++) {
                    long permits = 1 + (i + index) % 3;
                    if (limiter.tryAcquire(permits)) {
                        mine[r] += permits;
                    }
                }
                for (long n = 0; limiter.tryAcquire(1); n++) {
                    mine[r]++;
                    assertThat(n).as("%s kept granting single permits with the clock still", limiter)
                            .isLessThan(WINDOW_LIMIT);
                }
                barrier.await();
            }
        });

        // Each worker's array and the barrier action's writes are visible here: the workers
        // passed the barrier after their writes, and runWorkers joined them.
        long[] permits = new long[rounds];
        for (long[] mine : perThread) {
            for (int r = 0; r < rounds; r++) {
                permits[r] += mine[r];
            }
        }
        return new WindowRun(times, permits);
    }
}

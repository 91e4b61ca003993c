package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.internal.Checks;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The O(1) sliding window counter, driven by a fake clock. */
class SlidingWindowCounterTest {

    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private static final long DAY = 24 * 3600 * SECOND;

    private final FakeClock clock = new FakeClock();
    private final long start = clock.read();

    private LocalLimiter limiter(long limit, long windowNanos) {
        return LocalRateLimiters.newLimiter(SlidingWindow.counter(limit, Duration.ofNanos(windowNanos)), clock, clock);
    }

    /** Moves the clock to {@code nanos} after the limiter was built. */
    private void at(long nanos) {
        clock.set(start + nanos);
    }

    private static int grantSingles(LocalLimiter limiter, int attempts) {
        int granted = 0;
        for (int i = 0; i < attempts; i++) {
            if (limiter.tryAcquire()) {
                granted++;
            }
        }
        return granted;
    }

    /** At now + retryAfter - 1 the same request is refused, at now + retryAfter it is granted. */
    private void assertRetryAfterIsExact(LocalLimiter limiter, long permits, Decision denied) {
        assertThat(denied.isAllowed()).isFalse();
        long retry = denied.retryAfterNanos();
        clock.advance(retry - 1);
        assertThat(limiter.decide(permits).isAllowed()).as("one nanosecond before retryAfter=%d", retry).isFalse();
        clock.advance(1);
        assertThat(limiter.decide(permits).isAllowed()).as("at retryAfter=%d", retry).isTrue();
    }

    @Test
    void grantsUpToTheLimitInOneWindowThenRefuses() {
        LocalLimiter limiter = limiter(10, SECOND);
        for (int i = 1; i <= 10; i++) {
            Decision d = limiter.decide(1);
            assertThat(d.isAllowed()).isTrue();
            assertThat(d.remaining()).isEqualTo(10 - i);
            assertThat(d.limit()).isEqualTo(10);
        }
        assertThat(limiter.tryAcquire()).isFalse();
        assertThat(limiter.limit()).isEqualTo(SlidingWindow.counter(10, Duration.ofSeconds(1)));
    }

    @Test
    void scriptedScenarioAdmitsExactlyTheWeightedBudget() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(4)).isTrue();
        at(500 * MS);
        assertThat(limiter.tryAcquire(6)).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        at(1000 * MS); // previous = 10, weighted fully
        assertThat(grantSingles(limiter, 20)).isZero();
        at(1300 * MS); // ceil(10 * 0.7) = 7 weighed
        assertThat(grantSingles(limiter, 20)).isEqualTo(3);
        at(1750 * MS); // ceil(10 * 0.25) = 3 weighed, 3 current
        assertThat(grantSingles(limiter, 20)).isEqualTo(4);
        at(2500 * MS); // previous = 7, ceil(7 * 0.5) = 4 weighed
        assertThat(grantSingles(limiter, 20)).isEqualTo(6);
        at(4000 * MS); // window 3 saw nothing: window 2 no longer weighs
        assertThat(grantSingles(limiter, 20)).isEqualTo(10);
    }

    @Test
    void rejectedRequestConsumesNothing() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(7)).isTrue();
        assertThat(limiter.tryAcquire(4)).isFalse();
        assertThat(limiter.decide(4).isAllowed()).isFalse();
        assertThat(limiter.tryAcquire(3)).isTrue();
    }

    @Test
    void fullWindowReportsRetryAfterIntoTheNextWindowAndItIsExact() {
        LocalLimiter limiter = limiter(10, SECOND);
        Decision granted = limiter.decide(10);
        assertThat(granted.isAllowed()).isTrue();
        assertThat(granted.remaining()).isZero();
        assertThat(granted.resetNanos()).isEqualTo(2 * SECOND);
        Decision denied = limiter.decide(1);
        assertThat(denied.remaining()).isZero();
        // Next window: ceil(10 * (1 - e)) <= 9 first holds at e = 0.1 s.
        assertThat(denied.retryAfterNanos()).isEqualTo(1100 * MS);
        assertThat(denied.resetNanos()).isEqualTo(2 * SECOND);
        assertRetryAfterIsExact(limiter, 1, denied);
    }

    @Test
    void retryAfterLaterInTheSameWindowIsExact() {
        LocalLimiter limiter = limiter(10, SECOND);
        at(500 * MS);
        assertThat(limiter.tryAcquire(10)).isTrue();
        at(1200 * MS); // previous weighs ceil(10 * 0.8) = 8
        Decision two = limiter.decide(2);
        assertThat(two.isAllowed()).isTrue();
        assertThat(two.remaining()).isZero();
        assertThat(two.resetNanos()).isEqualTo(1800 * MS);

        Decision one = limiter.decide(1);
        assertThat(one.retryAfterNanos()).isEqualTo(100 * MS);
        assertThat(one.resetNanos()).isEqualTo(1800 * MS);
        Decision three = limiter.decide(3);
        assertThat(three.retryAfterNanos()).isEqualTo(300 * MS);
        Decision nine = limiter.decide(9);
        // Not in this window (2 current + 9 > 10); in the next one previous = 2 must weigh <= 1.
        assertThat(nine.retryAfterNanos()).isEqualTo(1300 * MS);

        assertRetryAfterIsExact(limiter, 3, three);
    }

    @Test
    void retryAfterIntoTheNextWindowWithACurrentCountIsExact() {
        LocalLimiter limiter = limiter(10, SECOND);
        at(500 * MS);
        assertThat(limiter.tryAcquire(10)).isTrue();
        at(1200 * MS);
        assertThat(limiter.tryAcquire(2)).isTrue();
        Decision nine = limiter.decide(9);
        assertThat(nine.retryAfterNanos()).isEqualTo(1300 * MS);
        assertRetryAfterIsExact(limiter, 9, nine);
    }

    @Test
    void fullLimitRequestWaitsUntilBothWindowsAreEmpty() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        Decision all = limiter.decide(10);
        assertThat(all.retryAfterNanos()).isEqualTo(2 * SECOND);
        assertRetryAfterIsExact(limiter, 10, all);
    }

    @Test
    void resetCountsOnlyThePreviousWindowWhenTheCurrentOneIsEmpty() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(4)).isTrue();
        at(1300 * MS);
        Decision d = limiter.decide(11);
        assertThat(d.exceedsLimit()).isTrue();
        assertThat(d.resetNanos()).isEqualTo(700 * MS);
        assertThat(d.remaining()).isEqualTo(10 - 3); // ceil(4 * 0.7) = 3
        at(2000 * MS);
        Decision full = limiter.decide(11);
        assertThat(full.resetNanos()).isZero();
        assertThat(full.remaining()).isEqualTo(10);
    }

    @Test
    void requestLargerThanTheLimitIsRefusedAtOnceAndSaysSo() throws InterruptedException {
        LocalLimiter limiter = limiter(10, SECOND);
        Decision d = limiter.decide(11);
        assertThat(d.isAllowed()).isFalse();
        assertThat(d.exceedsLimit()).isTrue();
        assertThat(d.retryAfterNanos()).isEqualTo(Decision.NEVER);
        assertThat(d.remaining()).isEqualTo(10);
        assertThat(limiter.tryAcquire(11)).isFalse();
        assertThat(limiter.tryAcquire(11, Duration.ofDays(365))).isFalse();
        assertThat(clock.read()).isEqualTo(start); // did not wait
        assertThat(limiter.tryAcquire(10)).isTrue(); // consumed nothing
    }

    @Test
    void nonPositivePermitsAreRejectedWithTheValue() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThatThrownBy(() -> limiter.tryAcquire(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> limiter.decide(-3))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=-3");
        assertThatThrownBy(() -> limiter.tryAcquire(-1, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=-1");
    }

    @Test
    void adversarialBurstsAroundABoundaryReachTwiceTheLimitMinusOne() {
        long limit = 100;
        LocalLimiter limiter = limiter(limit, SECOND);
        at(SECOND - 1); // the last nanosecond of window 0
        assertThat(limiter.tryAcquire(limit)).isTrue();
        at(2 * SECOND - 2); // still within one window length of the burst
        // previous weighs ceil(100 * 2 / 1e9) = 1: 99 more fit.
        assertThat(limiter.tryAcquire(limit - 1)).isTrue();
        assertThat(limiter.tryAcquire(1)).isFalse();
        // Both bursts lie in (2s - 2 - W, 2s - 2]: 2L - 1 permits in one sliding window, the
        // documented worst case.
    }

    @Test
    void noSlidingWindowEverHoldsMoreThanTwiceTheLimitMinusOneNorAnyFixedWindowMoreThanTheLimit() {
        long limit = 20;
        long w = 10 * MS;
        LocalLimiter limiter = limiter(limit, w);
        SplittableRandom random = new SplittableRandom(2024);
        List<long[]> grants = new ArrayList<>();
        long t = 0;
        long worst = 0;
        for (int step = 0; step < 20_000; step++) {
            // Bias towards the ends and starts of windows, where the approximation is weakest.
            int kind = random.nextInt(4);
            if (kind == 0) {
                t = (Math.floorDiv(t, w) + 1) * w - 1 - random.nextLong(3);
            } else if (kind == 1) {
                t = (Math.floorDiv(t, w) + 1) * w + random.nextLong(w);
            } else {
                t += random.nextLong(w / 4);
            }
            at(t);
            long n = 1 + random.nextLong(kind == 0 ? limit : 3);
            if (limiter.tryAcquire(n)) {
                grants.add(new long[] {t, n});
                worst = Math.max(worst, inSlidingWindow(grants, t, w));
            }
        }
        assertThat(worst).isGreaterThan(limit).isLessThanOrEqualTo(2 * limit - 1);
        long[] perFixedWindow = new long[(int) (t / w) + 1];
        for (long[] g : grants) {
            perFixedWindow[(int) (g[0] / w)] += g[1];
        }
        assertThat(java.util.Arrays.stream(perFixedWindow).max().orElseThrow()).isLessThanOrEqualTo(limit);
    }

    /** @return the permits granted in {@code (t - w, t]} */
    private static long inSlidingWindow(List<long[]> grants, long t, long w) {
        return grants.stream().filter(g -> g[0] > t - w && g[0] <= t).mapToLong(g -> g[1]).sum();
    }

    @Test
    void evenlySpreadTrafficBelowTheLimitIsAllAdmitted() {
        // 9 requests per window against a limit of 10: nothing is refused, whatever the phase.
        for (long phase : new long[] {0, 1, 37 * MS, 999 * MS}) {
            at(0);
            LocalLimiter limiter = limiter(10, SECOND);
            long spacing = SECOND / 9 + 1;
            for (int i = 0; i < 200; i++) {
                at(phase + i * spacing);
                assertThat(limiter.tryAcquire()).as("request %d, phase %d", i, phase).isTrue();
            }
        }
    }

    @Test
    void evenlySpreadTrafficAtTheLimitKeepsEverySlidingWindowWithinTheLimit() {
        long limit = 10;
        LocalLimiter limiter = limiter(limit, SECOND);
        List<long[]> grants = new ArrayList<>();
        long spacing = SECOND / limit;
        for (int i = 0; i < 300; i++) {
            long t = 50 * MS + i * spacing;
            at(t);
            if (limiter.tryAcquire()) {
                grants.add(new long[] {t, 1});
            }
        }
        // The weight of the previous window is rounded up, so each full window admits L - 1: the
        // estimate counts the request that left the window exactly one window ago.
        for (long k = 3; k < 29; k++) {
            long from = k * SECOND;
            long count = grants.stream().filter(g -> g[0] >= from && g[0] < from + SECOND).count();
            assertThat(count).as("window %d", k).isEqualTo(limit - 1);
        }
        // After the first windows (which start from nothing), every sliding window holds L - 2 to L.
        for (long t = 3 * SECOND; t < 29 * SECOND; t += 10 * MS) {
            assertThat(inSlidingWindow(grants, t, SECOND)).as("window ending at %d", t).isBetween(limit - 2, limit);
        }
    }

    @Test
    void agreesWithAnExactReferenceModelOnARandomScript() {
        long limit = 37;
        long w = 7 * MS + 3;
        LocalLimiter limiter = limiter(limit, w);
        Model model = new Model(limit, w);
        SplittableRandom random = new SplittableRandom(99);
        long t = 0;
        for (int step = 0; step < 30_000; step++) {
            t += random.nextInt(8) == 0 ? random.nextLong(3 * w) : random.nextLong(w / 10);
            at(t);
            long n = 1 + random.nextLong(random.nextInt(10) == 0 ? limit + 2 : 6);
            Decision d = limiter.decide(n);
            Decision expected = model.decide(t, n);
            assertThat(d.isAllowed()).as("step %d at %d for %d", step, t, n).isEqualTo(expected.isAllowed());
            assertThat(d.remaining()).as("remaining, step %d", step).isEqualTo(expected.remaining());
            assertThat(d.resetNanos()).as("reset, step %d", step).isEqualTo(expected.resetNanos());
            assertThat(d.exceedsLimit()).isEqualTo(n > limit);
            if (!d.isAllowed() && !d.exceedsLimit() && random.nextInt(4) == 0) {
                // Probe the retry-after on both sides, keeping the model in step.
                long retry = d.retryAfterNanos();
                at(t + retry - 1);
                assertThat(limiter.decide(n).isAllowed()).isFalse();
                assertThat(model.decide(t + retry - 1, n).isAllowed()).isFalse();
                t += retry;
                at(t);
                assertThat(limiter.decide(n).isAllowed()).isTrue();
                assertThat(model.decide(t, n).isAllowed()).isTrue();
            }
        }
    }

    /** The rule of the class comment, evaluated with BigInteger; single-threaded, monotonic time. */
    private static final class Model {
        private final long limit;
        private final long w;
        private long window;
        private long previous;
        private long current;

        Model(long limit, long w) {
            this.limit = limit;
            this.w = w;
        }

        Decision decide(long t, long n) {
            long k = Math.floorDiv(t, w);
            if (k > window) {
                previous = k == window + 1 ? current : 0;
                current = 0;
                window = k;
            }
            long e = t - k * w;
            BigInteger lw = big(limit).multiply(big(w));
            BigInteger weighted = big(previous).multiply(big(w - e));
            boolean allowed = n <= limit
                    && weighted.add(big(current + n).multiply(big(w))).compareTo(lw) <= 0;
            if (allowed) {
                current += n;
            }
            long budget = lw.subtract(weighted).divide(big(w)).longValueExact();
            long remaining = Math.max(0, budget - current);
            long reset = current > 0 ? 2 * w - e : previous > 0 ? w - e : 0;
            if (n > limit) {
                return Decision.exceeding(n, remaining, reset, limit);
            }
            return allowed ? Decision.allowed(n, remaining, reset, limit)
                    : Decision.denied(n, remaining, 1, reset, limit);
        }

        private static BigInteger big(long v) {
            return BigInteger.valueOf(v);
        }
    }

    @Test
    void thirtyDayWindowWorksAndRetryAfterIsExact() {
        long w = 30 * DAY;
        LocalLimiter limiter = limiter(10, w);
        assertThat(limiter.tryAcquire(10)).isTrue();
        at(29 * DAY);
        Decision d = limiter.decide(1);
        assertThat(d.retryAfterNanos()).isEqualTo(w + w / 10 - 29 * DAY);
        assertRetryAfterIsExact(limiter, 1, d);
        at(45 * DAY); // half of window 0 still weighs: ceil(10 * 0.5) = 5, one already taken
        assertThat(grantSingles(limiter, 20)).isEqualTo(4);
    }

    @Test
    void oneMillisecondWindowWorksAndRetryAfterIsExact() {
        LocalLimiter limiter = limiter(3, MS);
        assertThat(grantSingles(limiter, 10)).isEqualTo(3);
        Decision d = limiter.decide(1);
        assertThat(d.retryAfterNanos()).isEqualTo(MS + (MS - 2 * MS / 3)); // ceil(3 * (1 - e)) <= 2
        assertRetryAfterIsExact(limiter, 1, d);
        at(10 * MS);
        assertThat(grantSingles(limiter, 10)).isEqualTo(3);
    }

    @Test
    void limitOfHalfLongMaxValueIsExact() {
        long limit = Checks.MAX_PERMITS;
        LocalLimiter limiter = limiter(limit, SECOND);
        Decision all = limiter.decide(limit);
        assertThat(all.isAllowed()).isTrue();
        assertThat(all.remaining()).isZero();
        Decision one = limiter.decide(1);
        // ceil(L * (W - e) / W) <= L - 1 first holds one nanosecond into the next window.
        assertThat(one.retryAfterNanos()).isEqualTo(SECOND + 1);
        assertRetryAfterIsExact(limiter, 1, one);
        at(1500 * MS);
        Decision half = limiter.decide(1);
        long weighted = limit / 2 + 1; // ceil(L / 2), L odd
        assertThat(half.isAllowed()).isTrue();
        assertThat(half.remaining()).isEqualTo(limit - weighted - 2);
        assertThat(limiter.tryAcquire(limit - weighted - 2)).isTrue();
        assertThat(limiter.tryAcquire(1)).isFalse();
    }

    @Test
    void thirtyDaysIdleRestoresTheFullLimit() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(10)).isTrue();
        at(30 * DAY);
        Decision d = limiter.decide(10);
        assertThat(d.isAllowed()).isTrue();
        assertThat(d.remaining()).isZero();
    }

    @Test
    void aRefusalWritesNothingSoItMovesNoWindow() {
        LocalLimiter limiter = limiter(1, SECOND);
        at(500 * MS);
        assertThat(limiter.tryAcquire(1)).isTrue();
        at(2 * SECOND); // two windows on: both counts would be gone if it rotated
        assertThat(limiter.decide(2).exceedsLimit()).isTrue();
        assertThat(limiter.tryAcquire(2)).isFalse();
        at(1500 * MS); // the grant of 0.5 s still weighs half here
        assertThat(limiter.decide(1).isAllowed()).isFalse();
        at(2 * SECOND);
        assertThat(limiter.decide(1).isAllowed()).isTrue();
    }

    @Test
    void clockGoingBackwardsCreatesNoPermits() {
        LocalLimiter limiter = limiter(10, SECOND);
        at(500 * MS);
        assertThat(limiter.tryAcquire(10)).isTrue();
        at(1500 * MS); // previous weighs 5
        assertThat(limiter.tryAcquire(5)).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        for (long back : new long[] {1200 * MS, 1000 * MS, 700 * MS, 0, -5 * DAY}) {
            at(back);
            assertThat(limiter.tryAcquire()).as("at %d", back).isFalse();
        }
        at(-Long.MAX_VALUE / 2); // 146 years back (readings 2^63 apart are ambiguous: time wraps)
        assertThat(limiter.tryAcquire()).isFalse();
        at(700 * MS); // before the current window: judged at its start, where previous weighs most
        Decision d = limiter.decide(1);
        assertThat(d.remaining()).isZero();
        assertThat(d.retryAfterNanos()).isEqualTo(900 * MS); // at 1.6 s previous weighs 4
        assertThat(d.resetNanos()).isEqualTo(2300 * MS);
        assertRetryAfterIsExact(limiter, 1, d);
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void retireIfFullOnlyWhenTheEstimateIsZero() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        at(1999 * MS); // the permit still weighs as previous
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        assertThat(limiter.decide(9).isAllowed()).isTrue();
        at(2500 * MS);
        assertThat(limiter.retireIfFull(clock.read())).isFalse(); // 9 weigh as previous
        at(3000 * MS);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();

        assertThat(limiter.tryAcquireAt(1, clock.read())).isEqualTo(LocalLimiter.RETIRED);
        assertThat(limiter.tryAcquireAt(11, clock.read())).isEqualTo(LocalLimiter.RETIRED);
        assertThat(limiter.decideAt(1, clock.read())).isSameAs(LocalLimiter.RETIRED_DECISION);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();
        at(10 * DAY);
        assertThat(limiter.tryAcquireAt(1, clock.read())).isEqualTo(LocalLimiter.RETIRED);
    }

    @Test
    void freshLimiterRetiresAndARetiredOneGrantsNothingEvenWhenBlocking() throws InterruptedException {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();
        assertThat(limiter.acquireBlocking(1, SECOND)).isEqualTo(LocalLimiter.RETIRED);
        assertThat(clock.read()).isEqualTo(start);
    }

    @Test
    void previousWindowAloneKeepsTheLimiterFromRetiring() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        at(1000 * MS);
        assertThat(limiter.tryAcquire(11)).isFalse(); // rotates to window 1 with previous = 1
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        at(1999 * MS);
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        at(2000 * MS);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();
    }

    @Test
    void blockingAcquireWaitsExactlyTheRetryAfterOrRefusesAtOnce() throws InterruptedException {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(10)).isTrue();
        assertThat(limiter.tryAcquire(1, Duration.ofNanos(1100 * MS - 1))).isFalse();
        assertThat(clock.read()).isEqualTo(start);
        assertThat(limiter.tryAcquire(1, 1100, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(clock.read() - start).isEqualTo(1100 * MS);
        assertThat(limiter.tryAcquire(1, Duration.ZERO)).isFalse();
    }

    @Test
    void interruptedBlockingAcquireConsumesNothing() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(10)).isTrue();
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> limiter.tryAcquire(1, Duration.ofSeconds(5))).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        at(1100 * MS);
        assertThat(limiter.tryAcquire(1)).isTrue();
        assertThat(limiter.tryAcquire(1)).isFalse();
    }

    @Test
    void concurrentCallersAcrossAWindowRotationAreGrantedExactlyTheBudget() throws Exception {
        long limit = 4000;
        LocalLimiter limiter = limiter(limit, SECOND);
        assertThat(limiter.tryAcquire(limit)).isTrue();
        at(1500 * MS); // the first callers race to rotate; previous weighs L / 2
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return grantSingles(limiter, (int) limit);
                }));
            }
            go.countDown();
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(limit / 2);
        } finally {
            pool.shutdownNow();
        }
    }
}

package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.internal.Checks;
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

/** The exact sliding window log, driven by a fake clock. */
class SlidingWindowLogTest {

    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private static final long DAY = 24 * 3600 * SECOND;

    private final FakeClock clock = new FakeClock();
    private final long start = clock.read();

    private LocalLimiter limiter(long limit, long windowNanos) {
        return LocalRateLimiters.newLimiter(SlidingWindow.log(limit, Duration.ofNanos(windowNanos)), clock, clock);
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
    void grantsUpToTheLimitThenRefuses() {
        LocalLimiter limiter = limiter(5, SECOND);
        for (int i = 1; i <= 5; i++) {
            Decision d = limiter.decide(1);
            assertThat(d.isAllowed()).isTrue();
            assertThat(d.remaining()).isEqualTo(5 - i);
            assertThat(d.resetNanos()).isEqualTo(SECOND);
            assertThat(d.limit()).isEqualTo(5);
        }
        assertThat(limiter.tryAcquire()).isFalse();
        assertThat(limiter.limit()).isEqualTo(SlidingWindow.log(5, Duration.ofSeconds(1)));
    }

    @Test
    void scriptedScenarioAdmitsExactlyWhatLeavesTheWindow() {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        at(400 * MS);
        assertThat(limiter.tryAcquire(2)).isTrue();
        assertThat(limiter.tryAcquire(1)).isFalse();
        at(999 * MS);
        assertThat(grantSingles(limiter, 5)).isZero();
        at(SECOND); // the permit of time 0 is out of (0, 1 s]
        assertThat(grantSingles(limiter, 5)).isEqualTo(1);
        at(1399 * MS);
        assertThat(grantSingles(limiter, 5)).isZero();
        at(1400 * MS);
        assertThat(grantSingles(limiter, 5)).isEqualTo(2);
        at(5 * SECOND);
        assertThat(grantSingles(limiter, 5)).isEqualTo(3);
    }

    @Test
    void decisionsReportRemainingRetryAfterAndResetThatAgreeWithTheNextCalls() {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        at(400 * MS);
        Decision two = limiter.decide(2);
        assertThat(two.isAllowed()).isTrue();
        assertThat(two.remaining()).isZero();
        assertThat(two.resetNanos()).isEqualTo(SECOND);

        Decision one = limiter.decide(1);
        assertThat(one.remaining()).isZero();
        assertThat(one.retryAfterNanos()).isEqualTo(600 * MS); // the permit of time 0 must leave
        assertThat(one.resetNanos()).isEqualTo(SECOND);
        Decision twoMore = limiter.decide(2);
        assertThat(twoMore.retryAfterNanos()).isEqualTo(SECOND); // the entry of 400 ms must leave
        Decision three = limiter.decide(3);
        assertThat(three.retryAfterNanos()).isEqualTo(SECOND);

        assertRetryAfterIsExact(limiter, 1, one); // now at 1 s
        Decision d = limiter.decide(2);
        assertThat(d.retryAfterNanos()).isEqualTo(400 * MS);
        assertThat(d.resetNanos()).isEqualTo(SECOND);
        assertRetryAfterIsExact(limiter, 2, d);
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
    void requestLargerThanTheLimitIsRefusedAtOnceAndSaysSo() throws InterruptedException {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(4)).isTrue();
        Decision d = limiter.decide(11);
        assertThat(d.exceedsLimit()).isTrue();
        assertThat(d.retryAfterNanos()).isEqualTo(Decision.NEVER);
        assertThat(d.remaining()).isEqualTo(6);
        assertThat(d.resetNanos()).isEqualTo(SECOND);
        assertThat(limiter.tryAcquire(11)).isFalse();
        assertThat(limiter.tryAcquire(11, Duration.ofDays(365))).isFalse();
        assertThat(clock.read()).isEqualTo(start);
        assertThat(limiter.tryAcquire(6)).isTrue();
    }

    @Test
    void nonPositivePermitsAreRejectedWithTheValue() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThatThrownBy(() -> limiter.tryAcquire(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> limiter.decide(-2))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=-2");
    }

    @Test
    void noWindowEverHoldsMoreThanTheLimitAndEveryDecisionMatchesTheExactModel() {
        long limit = 25;
        long w = 5 * MS + 5;
        LocalLimiter limiter = limiter(limit, w);
        List<long[]> grants = new ArrayList<>();
        // Steps of w / 5 land exactly on the expiry instants, where (t - W, t] is half-open.
        SplittableRandom random = new SplittableRandom(20240607);
        long t = 0;
        int allowed = 0;
        for (int step = 0; step < 20_000; step++) {
            long r = random.nextLong(100);
            t += r < 30 ? 0 : r < 60 ? random.nextLong(1, 6) * (w / 5) : r < 95 ? random.nextLong(w / 8) : random.nextLong(2 * w);
            at(t);
            long n = 1 + random.nextLong(random.nextInt(20) == 0 ? limit + 3 : 5);
            Decision d = limiter.decide(n);

            long inWindow = inWindow(grants, t, w);
            boolean expectAllowed = n <= limit && inWindow + n <= limit;
            assertThat(d.isAllowed()).as("step %d at %d for %d with %d in the window", step, t, n, inWindow)
                    .isEqualTo(expectAllowed);
            if (expectAllowed) {
                grants.add(new long[] {t, n});
                allowed++;
            }
            long after = inWindow(grants, t, w);
            assertThat(d.remaining()).isEqualTo(limit - after);
            assertThat(d.resetNanos()).isEqualTo(after == 0 ? 0 : newest(grants) + w - t);
            if (n > limit) {
                assertThat(d.exceedsLimit()).isTrue();
            } else if (!expectAllowed) {
                assertThat(d.retryAfterNanos()).isEqualTo(modelRetryAfter(grants, t, w, limit, n));
            }
        }
        assertThat(allowed).isGreaterThan(1000);
        for (long[] g : grants) {
            assertThat(inWindow(grants, g[0], w)).as("window ending at %d", g[0]).isLessThanOrEqualTo(limit);
        }
    }

    /** @return the permits granted in {@code (t - w, t]} */
    private static long inWindow(List<long[]> grants, long t, long w) {
        long sum = 0;
        for (long[] g : grants) {
            if (g[0] > t - w && g[0] <= t) {
                sum += g[1];
            }
        }
        return sum;
    }

    private static long newest(List<long[]> grants) {
        return grants.get(grants.size() - 1)[0];
    }

    /** The first instant after {@code t} at which the request fits, found by brute force. */
    private static long modelRetryAfter(List<long[]> grants, long t, long w, long limit, long n) {
        long best = Long.MAX_VALUE;
        for (long[] g : grants) {
            long candidate = g[0] + w; // the count only drops when an entry leaves
            if (candidate > t && candidate < best && inWindow(grants, candidate, w) + n <= limit) {
                best = candidate;
            }
        }
        return best - t;
    }

    @Test
    void steadyOverloadIsAdmittedAtExactlyTheLimitPerWindow() {
        long limit = 1000;
        LocalLimiter limiter = limiter(limit, SECOND);
        int[] perSecond = new int[5];
        for (long t = 0; t < 5 * SECOND; t += SECOND / 2000) {
            at(t);
            if (limiter.tryAcquire()) {
                perSecond[(int) (t / SECOND)]++;
            }
        }
        assertThat(perSecond).containsOnly((int) limit);
    }

    @Test
    void thirtyDayWindowWorksAndRetryAfterIsExact() {
        long w = 30 * DAY;
        LocalLimiter limiter = limiter(2, w);
        assertThat(limiter.tryAcquire()).isTrue();
        at(10 * DAY);
        assertThat(limiter.tryAcquire()).isTrue();
        at(29 * DAY);
        Decision d = limiter.decide(1);
        assertThat(d.retryAfterNanos()).isEqualTo(DAY);
        assertThat(d.resetNanos()).isEqualTo(11 * DAY);
        assertRetryAfterIsExact(limiter, 1, d);
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void oneMillisecondWindowWorksAndRetryAfterIsExact() {
        LocalLimiter limiter = limiter(2, MS);
        assertThat(limiter.tryAcquire()).isTrue();
        at(MS / 2);
        assertThat(limiter.tryAcquire()).isTrue();
        Decision d = limiter.decide(1);
        assertThat(d.retryAfterNanos()).isEqualTo(MS / 2);
        assertRetryAfterIsExact(limiter, 1, d);
        at(10 * MS);
        assertThat(grantSingles(limiter, 5)).isEqualTo(2);
    }

    @Test
    void limitOfHalfLongMaxValueIsExactAcrossCumulativeWrapAround() {
        long limit = Checks.MAX_PERMITS;
        LocalLimiter limiter = limiter(limit, MS);
        // Each window grants the whole limit: the cumulative count passes 2^64 after four.
        for (int k = 0; k < 10; k++) {
            at(k * MS);
            Decision d = limiter.decide(limit - 1);
            assertThat(d.isAllowed()).as("window %d", k).isTrue();
            assertThat(d.remaining()).isEqualTo(1);
            assertThat(limiter.tryAcquire(1)).isTrue();
            Decision denied = limiter.decide(1);
            assertThat(denied.isAllowed()).isFalse();
            assertThat(denied.remaining()).isZero();
            assertThat(denied.retryAfterNanos()).isEqualTo(MS);
            Decision all = limiter.decide(limit);
            assertThat(all.retryAfterNanos()).isEqualTo(MS);
        }
    }

    @Test
    void thirtyDaysIdleRestoresTheFullLimit() {
        LocalLimiter limiter = limiter(10, SECOND);
        assertThat(limiter.tryAcquire(10)).isTrue();
        at(30 * DAY);
        Decision d = limiter.decide(10);
        assertThat(d.isAllowed()).isTrue();
        assertThat(d.remaining()).isZero();
        assertThat(d.resetNanos()).isEqualTo(SECOND);
    }

    @Test
    void repeatedRefusalsOverManyExpiredEntriesDecideExactly() {
        // 1,000 grants 1 us apart; later refusals walk past hundreds of expired entries (and
        // leave a hint for the next walk) without moving the window; every answer stays exact.
        LocalLimiter limiter = limiter(1_000, SECOND);
        for (int i = 0; i < 1_000; i++) {
            at(i * 1_000L);
            assertThat(limiter.tryAcquire(1)).isTrue();
        }
        at(SECOND + 500_000L); // the grants of 0..500 us have left: 499 live
        Decision d = limiter.decide(600);
        assertThat(d.isAllowed()).isFalse();
        assertThat(d.remaining()).isEqualTo(501);
        assertThat(d.retryAfterNanos()).isEqualTo(99_000L); // once the grant of 599 us leaves
        assertThat(limiter.decide(600).remaining()).isEqualTo(501);
        at(SECOND + 300_000L); // earlier reading: 699 live, judged at its own time; granted
        assertThat(limiter.decide(1).remaining()).isEqualTo(300);
        at(SECOND + 599_000L); // 400 old ones live, and the one just granted
        assertThat(limiter.decide(600).isAllowed()).isFalse();
        at(SECOND + 600_000L);
        assertThat(limiter.decide(600).isAllowed()).isTrue();
    }

    @Test
    void aRefusalThatSeesEntriesExpireDoesNotMoveTheWindow() {
        LocalLimiter limiter = limiter(2, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        at(500 * MS);
        assertThat(limiter.tryAcquire(1)).isTrue();
        at(SECOND); // the entry of 0 has left; with the one of 500 ms, 2 more do not fit
        assertThat(limiter.decide(2).isAllowed()).isFalse();
        at(900 * MS); // the refusal wrote nothing: both entries still count here
        assertThat(limiter.decide(1).isAllowed()).isFalse();
        at(SECOND);
        assertThat(limiter.decide(1).isAllowed()).isTrue();
    }

    @Test
    void clockGoingBackwardsCreatesNoPermits() {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        at(500 * MS);
        assertThat(limiter.tryAcquire(2)).isTrue();
        for (long back : new long[] {200 * MS, 0, -1, -5 * DAY}) {
            at(back);
            assertThat(limiter.tryAcquire()).as("at %d", back).isFalse();
        }
        at(-Long.MAX_VALUE / 2); // 146 years back (readings 2^63 apart are ambiguous: time wraps)
        assertThat(limiter.tryAcquire()).isFalse();
        Decision d = limiter.decide(1);
        assertThat(d.remaining()).isZero();

        at(SECOND); // the permit of time 0 leaves
        assertThat(limiter.tryAcquire()).isTrue();
        at(100 * MS); // judged no earlier than the last entry (1 s): the entry of 0 stays gone
        assertThat(limiter.tryAcquire()).isFalse();
        // Entries made while the clock is behind are stamped with the newest time, so they
        // leave no earlier than entries made at that time.
        at(1500 * MS); // the entry of 500 ms leaves
        assertThat(limiter.tryAcquire(2)).isTrue();
        at(1200 * MS);
        assertThat(limiter.tryAcquire()).isFalse();
        at(2000 * MS); // the entry of 1 s leaves; those of 1.5 s stay
        assertThat(grantSingles(limiter, 5)).isEqualTo(1);
    }

    @Test
    void aReadingBehindAnAppliedExpiryDoesNotReviveExpiredPermits() {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.tryAcquire(3)).isTrue();
        at(1500 * MS);
        assertThat(limiter.tryAcquire(1)).isTrue(); // the entry of 0 has left
        at(200 * MS); // behind the expiry: judged at 1.5 s, where one permit is in the window
        Decision d = limiter.decide(3);
        assertThat(d.isAllowed()).isFalse();
        assertThat(d.remaining()).isEqualTo(2);
        assertThat(d.retryAfterNanos()).isEqualTo(2300 * MS); // the entry of 1.5 s leaves at 2.5 s
        assertThat(limiter.tryAcquire(2)).isTrue();
        at(1600 * MS);
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void retireIfFullOnlyWhenNothingIsInTheWindow() {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.tryAcquire(1)).isTrue();
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        at(999 * MS);
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        at(SECOND);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();

        assertThat(limiter.tryAcquireAt(1, clock.read())).isEqualTo(LocalLimiter.RETIRED);
        assertThat(limiter.tryAcquireAt(4, clock.read())).isEqualTo(LocalLimiter.RETIRED);
        assertThat(limiter.decideAt(1, clock.read())).isSameAs(LocalLimiter.RETIRED_DECISION);
        assertThat(limiter.decideAt(4, clock.read())).isSameAs(LocalLimiter.RETIRED_DECISION);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();
        at(10 * DAY);
        assertThat(limiter.tryAcquireAt(1, clock.read())).isEqualTo(LocalLimiter.RETIRED);
    }

    @Test
    void freshLimiterRetiresAndARetiredOneGrantsNothingEvenWhenBlocking() throws InterruptedException {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();
        assertThat(limiter.acquireBlocking(1, SECOND)).isEqualTo(LocalLimiter.RETIRED);
        assertThat(clock.read()).isEqualTo(start);
    }

    @Test
    void blockingAcquireWaitsExactlyTheRetryAfterOrRefusesAtOnce() throws InterruptedException {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.tryAcquire()).isTrue();
        at(100 * MS);
        assertThat(limiter.tryAcquire()).isTrue();
        at(200 * MS);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire(1, Duration.ofNanos(800 * MS - 1))).isFalse();
        assertThat(clock.read() - start).isEqualTo(200 * MS);
        assertThat(limiter.tryAcquire(1, Duration.ofMillis(800))).isTrue();
        assertThat(clock.read() - start).isEqualTo(SECOND);
        // Two permits: the entries of 100 ms and 200 ms must leave; the poll sleeps twice.
        assertThat(limiter.tryAcquire(2, 300, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(clock.read() - start).isEqualTo(1200 * MS);
    }

    @Test
    void interruptedBlockingAcquireConsumesNothing() {
        LocalLimiter limiter = limiter(3, SECOND);
        assertThat(limiter.tryAcquire(3)).isTrue();
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> limiter.tryAcquire(1, Duration.ofSeconds(5))).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        at(SECOND);
        assertThat(grantSingles(limiter, 5)).isEqualTo(3);
    }

    @Test
    void concurrentCallersAreGrantedExactlyTheLimit() throws Exception {
        long limit = 4000;
        LocalLimiter limiter = limiter(limit, SECOND);
        assertThat(limiter.tryAcquire(limit / 2)).isTrue();
        at(SECOND); // that entry leaves while the callers race
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
            assertThat(total).isEqualTo(limit);
            assertThat(limiter.decide(1).remaining()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }
}

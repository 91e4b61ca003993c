package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Many threads on one limiter driven by the system clock, for a short bounded time: the permits
 * admitted never exceed what the limit allows over the elapsed time.
 *
 * <p>This is not a timing assertion. The elapsed time is measured by the limiter's own ticker,
 * read before the first call and after the last one, so it is an upper bound on the time any
 * decision saw; however slowly the machine runs, the bound stays valid. Each thread stops after
 * {@link #HAMMER_NANOS} or {@link #MAX_ATTEMPTS_PER_THREAD} attempts, whichever comes first, and
 * nothing sleeps.
 */
class RealClockStressTest {

    private static final int THREADS = 8;
    private static final long HAMMER_NANOS = TimeUnit.MILLISECONDS.toNanos(300);
    private static final long MAX_ATTEMPTS_PER_THREAD = 2_000_000;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** What one run admitted, how many calls it made, and the ticker time it spanned. */
    private record Run(long admitted, long attempts, long elapsedNanos) {
    }

    // The rates are high (a permit every 10 us, windows of 1 ms) so that grants keep being
    // contended throughout the run, not only when a burst is first taken.

    @Test
    void tokenBucketNeverAdmitsMoreThanCapacityPlusRefill() throws Exception {
        Run run = hammer(TokenBucket.of(100, 100_000, Duration.ofSeconds(1)));

        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isLessThanOrEqualTo(100 + StressSupport.permitsOver(run.elapsedNanos(), 100_000, SECOND))
                // Starts full: its first 100 single permits cannot be refused.
                .isGreaterThanOrEqualTo(Math.min(100, run.attempts()));
    }

    @Test
    void leakyMeterNeverAdmitsMoreThanBurstPlusRate() throws Exception {
        Run run = hammer(LeakyBucket.meter(100_000, Duration.ofSeconds(1), 100));

        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isLessThanOrEqualTo(100 + StressSupport.permitsOver(run.elapsedNanos(), 100_000, SECOND))
                .isGreaterThanOrEqualTo(Math.min(100, run.attempts()));
    }

    @Test
    void leakyQueueNeverLetsMoreThanOneLeavePerInterval() throws Exception {
        Run run = hammer(LeakyBucket.queue(100_000, Duration.ofSeconds(1), 50));

        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isLessThanOrEqualTo(1 + StressSupport.permitsOver(run.elapsedNanos(), 100_000, SECOND))
                .isGreaterThanOrEqualTo(Math.min(1, run.attempts()));
    }

    @Test
    void slidingLogNeverAdmitsMoreThanItsLimitPerWindowCovered() throws Exception {
        long window = TimeUnit.MILLISECONDS.toNanos(1);
        Run run = hammer(SlidingWindow.log(20, Duration.ofNanos(window)));

        // floor(t / W) + 1 half-open windows of length W cover a closed interval of length t.
        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isLessThanOrEqualTo(20 * (run.elapsedNanos() / window + 1))
                .isGreaterThanOrEqualTo(Math.min(20, run.attempts()));
    }

    @Test
    void slidingCounterNeverAdmitsMoreThanItsLimitPerFixedWindowTouched() throws Exception {
        long window = TimeUnit.MILLISECONDS.toNanos(1);
        Run run = hammer(SlidingWindow.counter(20, Duration.ofNanos(window)));

        // Each fixed window holds at most the limit, and an interval of length t touches at most
        // floor(t / W) + 2 of them.
        assertThat(run.admitted()).as("admitted over %d ns", run.elapsedNanos())
                .isLessThanOrEqualTo(20 * (run.elapsedNanos() / window + 2))
                .isGreaterThanOrEqualTo(Math.min(20, run.attempts()));
    }

    /**
     * Releases {@value #THREADS} threads at once on a limiter on {@link Ticker#system()}; each
     * takes single permits until its time or attempt budget runs out.
     */
    private static Run hammer(Limit limit) throws Exception {
        Ticker ticker = Ticker.system();
        RateLimiter limiter = LocalRateLimiters.create(limit, ticker, Sleeper.system());
        LongAdder admitted = new LongAdder();
        LongAdder attempts = new LongAdder();
        AtomicLong start = new AtomicLong();
        // The barrier action runs before any thread is released: no decision sees an earlier time.
        CyclicBarrier go = new CyclicBarrier(THREADS, () -> start.set(ticker.read()));

        StressSupport.runWorkers(THREADS, go::reset, index -> {
            go.await(30, TimeUnit.SECONDS);
            long stopAt = start.get() + HAMMER_NANOS;
            long made = 0;
            long granted = 0;
            while (made < MAX_ATTEMPTS_PER_THREAD && ticker.read() - stopAt < 0) {
                made++;
                if (limiter.tryAcquire()) {
                    granted++;
                }
            }
            attempts.add(made);
            admitted.add(granted);
        });
        // Read after every call returned (runWorkers joined them all): no decision saw a later time.
        long end = ticker.read();
        return new Run(admitted.sum(), attempts.sum(), end - start.get());
    }
}

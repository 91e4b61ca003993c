package dev.ratelimiter.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Conformance of {@link LeakyBucket#queue leaky bucket queues}: the general
 * {@link RateLimiterContract}, evenly spaced admissions, the bounded queue and its timeouts. A
 * backend subclasses it and implements {@link #create}.
 */
public abstract class LeakyBucketQueueConformance extends RateLimiterContract {

    private static final long T = 200_000_000L;

    /** Subclasses only. */
    protected LeakyBucketQueueConformance() {
    }

    @Override
    protected Limit standardLimit() {
        return LeakyBucket.queue(5, Duration.ofSeconds(1), STANDARD_MAX);
    }

    @Override
    protected Limit limit(long maxPermits, long permits, Duration period) {
        return LeakyBucket.queue(permits, period, maxPermits);
    }

    @Override
    protected Arbitrary<Limit> limits() {
        return Combinators.combine(Generators.maxPermits(), Generators.periods()).flatAs((queue, period) ->
                Generators.permitsPerPeriod(queue, period)
                        .map(permits -> LeakyBucket.queue(permits, Duration.ofNanos(period), queue)));
    }

    @Override
    protected long timeScale(Limit limit) {
        LeakyBucket lb = (LeakyBucket) limit;
        return Generators.refillNanos(lb.capacity(), lb.permits(), lb.periodNanos());
    }

    @Test
    public void immediateGrantsAreOneEmissionIntervalApart() {
        Run run = standardRun(); // 5 per second: one every 200 ms
        assertThat(run.decide(1)).isEqualTo(Decision.allowed(1, 0, T, 10));
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, T, T, 10));
        run.advance(T - 1);
        assertThat(run.decide(1)).isEqualTo(Decision.denied(1, 0, 1, 1, 10));
        run.advance(1);
        assertThat(run.decide(2)).isEqualTo(Decision.allowed(2, 0, 2 * T, 10));
        run.advance(2 * T);
        assertThat(run.decide(10)).isEqualTo(Decision.allowed(10, 0, 10 * T, 10));
        run.advance(10 * T);
        assertThat(run.decide(11)).isEqualTo(Decision.exceeding(11, 10, 0, 10));
    }

    @Test
    public void blockingCallersLeaveEvenlySpaced() throws InterruptedException {
        Run run = standardRun();
        for (int i = 0; i < 8; i++) {
            assertThat(run.acquire(1, Long.MAX_VALUE)).isTrue();
            assertThat(run.now()).as("departure %s", i).isEqualTo(i * T);
        }
        assertThat(run.acquire(3, Long.MAX_VALUE)).isTrue();
        assertThat(run.now()).isEqualTo(8 * T);
        assertThat(run.acquire(1, Long.MAX_VALUE)).isTrue();
        assertThat(run.now()).as("after 3 permits, three intervals").isEqualTo(11 * T);
    }

    @Test
    public void blockingCallerIsRefusedAtOnceWhenTheQueueIsFull() throws InterruptedException {
        Run run = new Run(LeakyBucket.queue(10, Duration.ofSeconds(1), 3), null); // one every 100 ms, 3 may wait
        long interval = 100_000_000L;
        assertThat(run.decide(1).isAllowed()).isTrue(); // leaves now; the queue drains for 100 ms
        assertThat(run.acquire(3, Long.MAX_VALUE)).as("1 + 3 > 3 waiting").isFalse();
        assertThat(run.now()).isZero();
        assertThat(run.acquire(2, Long.MAX_VALUE)).as("1 + 2 waiting fit").isTrue();
        assertThat(run.now()).isEqualTo(interval);
        assertThat(run.acquire(3, Long.MAX_VALUE)).as("2 + 3 > 3 waiting").isFalse();
        assertThat(run.acquire(1, Long.MAX_VALUE)).isTrue();
        assertThat(run.now()).isEqualTo(3 * interval);
    }

    @Test
    public void blockingCallerIsRefusedAtOnceWhenItsTurnComesAfterTheTimeout() throws InterruptedException {
        Run run = standardRun();
        assertThat(run.decide(4).isAllowed()).isTrue();
        assertThat(run.acquire(1, 4 * T - 1)).isFalse();
        assertThat(run.now()).isZero();
        assertThat(run.acquire(1, 4 * T)).isTrue();
        assertThat(run.now()).isEqualTo(4 * T);
    }

    @Test
    public void concurrentWaitersFillTheQueueAndTheNextCallerIsRefusedAtOnce() throws Exception {
        FakeClock clock = new FakeClock();
        Thread main = Thread.currentThread();
        CountDownLatch parked = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        // Waiters park here (no time passes) until released; the test thread must never wait.
        Sleeper gate = nanos -> {
            if (Thread.currentThread() == main) {
                throw new AssertionError("the refused caller must not wait");
            }
            parked.countDown();
            if (!release.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("never released");
            }
        };
        RateLimiter limiter = create(LeakyBucket.queue(10, Duration.ofSeconds(1), 3), clock, gate);
        assertThat(limiter.tryAcquire(1)).isTrue(); // leaves now: 1 of 3 in the queue for 100 ms
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Boolean>> waiters = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                waiters.add(pool.submit(() -> limiter.tryAcquire(1, Duration.ofHours(1))));
            }
            assertThat(parked.await(30, TimeUnit.SECONDS)).as("both waiters reserved a slot").isTrue();
            assertThat(limiter.tryAcquire(1, Duration.ofHours(1))).as("3 already waiting").isFalse();
            assertThat(limiter.tryAcquire(1)).isFalse();
            clock.advance(Duration.ofSeconds(1));
            release.countDown();
            for (Future<Boolean> waiter : waiters) {
                assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        assertThat(limiter.decide(3).isAllowed()).as("the queue drained while the clock moved").isTrue();
    }

    /**
     * Immediately granted requests are at least their cost apart:
     * {@code t_{i+1} - t_i >= ceil(n_i * P / R)}.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void immediateGrantsNeverComeFasterThanTheRate(@ForAll("scripts") Script script) {
        LeakyBucket lb = (LeakyBucket) script.limit();
        List<long[]> grants = grants(script);
        for (int i = 1; i < grants.size(); i++) {
            long cost = ReferenceModel.saturated(ReferenceModel.ceilDiv(
                    BigInteger.valueOf(grants.get(i - 1)[1]).multiply(BigInteger.valueOf(lb.periodNanos())),
                    BigInteger.valueOf(lb.permits())));
            assertThat(grants.get(i)[0] - grants.get(i - 1)[0]).as("gap after grant %s", i - 1)
                    .isGreaterThanOrEqualTo(cost);
        }
    }
}

package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Scripted, fake-clock scenarios for the leaky bucket queue. */
class GcraQueueTest {

    static final long MS = 1_000_000L;

    final FakeClock clock = new FakeClock();

    /** 5 per second, one every 200 ms; at most 3 permits waiting. */
    GcraLimiter fivePerSecondQueueOfThree(Sleeper sleeper) {
        return GcraLimiter.leakyBucket(LeakyBucket.queue(5, Duration.ofSeconds(1), 3), clock, sleeper);
    }

    @Test
    void immediateGrantsAreExactlyOneIntervalApart() {
        RateLimiter queue = fivePerSecondQueueOfThree(clock);
        assertThat(queue.tryAcquire()).isTrue();
        assertThat(queue.tryAcquire()).isFalse();
        clock.advance(199 * MS);
        assertThat(queue.tryAcquire()).isFalse();
        clock.advance(MS);
        assertThat(queue.tryAcquire()).isTrue();
        assertThat(queue.tryAcquire()).isFalse();
        // Idle time does not accumulate into a burst: a queue paces, it does not store permits.
        clock.advance(Duration.ofMinutes(5));
        assertThat(queue.tryAcquire()).isTrue();
        assertThat(queue.tryAcquire()).isFalse();
    }

    @Test
    void immediateGrantsOfANonIntegerIntervalRoundTheSpacingUp() {
        RateLimiter queue = LocalRateLimiters.create(LeakyBucket.queue(3, Duration.ofSeconds(1), 10), clock, clock);
        assertThat(queue.tryAcquire()).isTrue();
        clock.advance(333_333_333L);
        assertThat(queue.tryAcquire()).isFalse();
        clock.advance(1);
        assertThat(queue.tryAcquire()).isTrue();
        assertThat(queue.tryAcquire(3)).isFalse();
        clock.advance(333_333_334L);
        assertThat(queue.tryAcquire(3)).isTrue();
        clock.advance(999_999_999L);
        assertThat(queue.tryAcquire()).isFalse();
        clock.advance(1);
        assertThat(queue.tryAcquire()).isTrue();
    }

    @Test
    void decisionsReportTheQueueState() {
        RateLimiter queue = fivePerSecondQueueOfThree(clock);
        assertThat(queue.decide(4)).isEqualTo(Decision.exceeding(4, 3, 0, 3));
        assertThat(queue.decide(2)).isEqualTo(Decision.allowed(2, 0, 400 * MS, 3));
        assertThat(queue.decide(1)).isEqualTo(Decision.denied(1, 0, 400 * MS, 400 * MS, 3));
        clock.advance(300 * MS);
        assertThat(queue.decide(1)).isEqualTo(Decision.denied(1, 0, 100 * MS, 100 * MS, 3));
        assertThat(queue.decide(4)).isEqualTo(Decision.exceeding(4, 0, 100 * MS, 3));
        clock.advance(100 * MS);
        assertThat(queue.decide(1)).isEqualTo(Decision.allowed(1, 0, 200 * MS, 3));
    }

    @Test
    void blockingAcquiresLeaveEvenlySpaced() throws InterruptedException {
        RateLimiter queue = fivePerSecondQueueOfThree(clock);
        long start = clock.read();
        List<Long> departures = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            assertThat(queue.tryAcquire(1, Duration.ofSeconds(1))).isTrue();
            departures.add((clock.read() - start) / MS);
        }
        assertThat(departures).containsExactly(0L, 200L, 400L, 600L, 800L, 1000L);
    }

    @Test
    void blockingAcquireIsRefusedAtOnceWhenTheQueueWouldOverflow() throws InterruptedException {
        RateLimiter queue = fivePerSecondQueueOfThree(clock);
        assertThat(queue.tryAcquire(3)).isTrue();
        long start = clock.read();
        assertThat(queue.tryAcquire(1, Duration.ofHours(1))).isFalse();
        assertThat(queue.tryAcquire(4, Duration.ofHours(1))).isFalse();
        assertThat(clock.read()).isEqualTo(start);
        clock.advance(200 * MS);
        // Two permits' worth still waiting: one more fits, and leaves 400 ms later.
        assertThat(queue.tryAcquire(2, Duration.ofHours(1))).isFalse();
        assertThat(queue.tryAcquire(1, Duration.ofHours(1))).isTrue();
        assertThat(clock.read()).isEqualTo(start + 600 * MS);
    }

    @Test
    void blockingAcquireRespectsItsTimeout() throws InterruptedException {
        RateLimiter queue = fivePerSecondQueueOfThree(clock);
        assertThat(queue.tryAcquire()).isTrue();
        long start = clock.read();
        assertThat(queue.tryAcquire(1, Duration.ofMillis(199))).isFalse();
        assertThat(queue.tryAcquire(1, Duration.ZERO)).isFalse();
        assertThat(clock.read()).isEqualTo(start);
        assertThat(queue.tryAcquire(1, Duration.ofMillis(200))).isTrue();
        assertThat(clock.read()).isEqualTo(start + 200 * MS);
    }

    @Test
    void waitingCallersHoldTheirPlacesAndTheQueueRefusesTheOverflow() throws Exception {
        GateSleeper gate = new GateSleeper();
        RateLimiter queue = fivePerSecondQueueOfThree(gate);
        assertThat(queue.tryAcquire()).isTrue();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Boolean> first = pool.submit(() -> queue.tryAcquire(1, Duration.ofSeconds(1)));
            assertThat(gate.requests.poll(10, TimeUnit.SECONDS)).isEqualTo(200 * MS);
            Future<Boolean> second = pool.submit(() -> queue.tryAcquire(1, Duration.ofSeconds(1)));
            assertThat(gate.requests.poll(10, TimeUnit.SECONDS)).isEqualTo(400 * MS);

            // Three permits in the queue: nobody else fits, however long they would wait.
            assertThat(queue.tryAcquire(1, Duration.ofHours(1))).isFalse();
            assertThat(queue.decide(1)).isEqualTo(Decision.denied(1, 0, 600 * MS, 600 * MS, 3));

            clock.advance(400 * MS);
            gate.release.release(2);
            assertThat(first.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(second.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(gate.requests).isEmpty();
            assertThat(queue.decide(1)).isEqualTo(Decision.denied(1, 0, 200 * MS, 200 * MS, 3));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void interruptedWaitGivesItsPlaceBack() {
        Sleeper interrupting = nanos -> {
            throw new InterruptedException();
        };
        RateLimiter queue = fivePerSecondQueueOfThree(interrupting);
        assertThat(queue.tryAcquire()).isTrue();
        assertThatThrownBy(() -> queue.tryAcquire(2, Duration.ofSeconds(1))).isInstanceOf(InterruptedException.class);
        assertThat(queue.decide(1)).isEqualTo(Decision.denied(1, 0, 200 * MS, 200 * MS, 3));
        clock.advance(200 * MS);
        assertThat(queue.tryAcquire()).isTrue();
    }

    @Test
    void retiresOnlyOnceNothingIsWaiting() {
        GcraLimiter queue = fivePerSecondQueueOfThree(clock);
        assertThat(queue.tryAcquire(2)).isTrue();
        clock.advance(399 * MS);
        assertThat(queue.retireIfFull(clock.read())).isFalse();
        clock.advance(MS);
        assertThat(queue.retireIfFull(clock.read())).isTrue();
        assertThat(queue.tryAcquireAt(1, clock.read())).isEqualTo(LocalLimiter.RETIRED);
        assertThat(queue.decideAt(1, clock.read())).isSameAs(LocalLimiter.RETIRED_DECISION);
    }

    /** Records each requested sleep and blocks until the test releases it; time stays with the test. */
    static final class GateSleeper implements Sleeper {
        final BlockingQueue<Long> requests = new LinkedBlockingQueue<>();
        final Semaphore release = new Semaphore(0);

        @Override
        public void sleepNanos(long nanos) throws InterruptedException {
            requests.put(nanos);
            release.acquire();
        }
    }
}

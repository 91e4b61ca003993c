package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Giving a reservation back must never hand out a slot that a later waiter already holds. */
class GcraReservationTest {

    @Test
    void anInterruptedWaiterWithAnotherWaiterBehindItForfeitsItsSlotInsteadOfDoublingASlot() throws Exception {
        FakeClock clock = new FakeClock();
        CountDownLatch secondWaiterReserved = new CountDownLatch(1);
        CountDownLatch releaseSecondWaiter = new CountDownLatch(1);
        AtomicReference<Thread> secondWaiter = new AtomicReference<>();
        AtomicBoolean secondGranted = new AtomicBoolean();
        AtomicReference<RateLimiter> limiterRef = new AtomicReference<>();

        // Thread "first" is interrupted while waiting, after thread "second" queued behind it.
        // Thread "second" stays parked until the end. Time only moves through the fake clock.
        Sleeper sleeper = nanos -> {
            String name = Thread.currentThread().getName();
            if (name.equals("first")) {
                Thread t = new Thread(() -> {
                    try {
                        secondGranted.set(limiterRef.get().tryAcquire(1, Duration.ofSeconds(1)));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "second");
                secondWaiter.set(t);
                t.start();
                if (!secondWaiterReserved.await(10, TimeUnit.SECONDS)) {
                    throw new AssertionError("second waiter never reserved");
                }
                throw new InterruptedException();
            }
            if (name.equals("second") && releaseSecondWaiter.getCount() > 0) {
                secondWaiterReserved.countDown();
                releaseSecondWaiter.await();
                return;
            }
            clock.sleepNanos(nanos);
        };
        RateLimiter queue = LocalRateLimiters.create(LeakyBucket.queue(1, Duration.ofMillis(100), 5), clock, sleeper);
        limiterRef.set(queue);
        long start = clock.read();

        assertThat(queue.tryAcquire()).isTrue(); // leaves at 0; the next slot is 100 ms
        AtomicReference<Throwable> firstOutcome = new AtomicReference<>();
        Thread first = new Thread(() -> {
            try {
                queue.tryAcquire(1, Duration.ofSeconds(1)); // slot 100 ms
            } catch (Throwable e) {
                firstOutcome.set(e);
            }
        }, "first");
        first.start();
        first.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(firstOutcome.get()).isInstanceOf(InterruptedException.class);

        // The second waiter holds slot 200 ms. A newcomer must get 300 ms, not 200 ms.
        assertThat(queue.tryAcquire(1, Duration.ofSeconds(1))).isTrue();
        assertThat(clock.read() - start).isEqualTo(Duration.ofMillis(300).toNanos());

        releaseSecondWaiter.countDown();
        secondWaiter.get().join(TimeUnit.SECONDS.toMillis(10));
        assertThat(secondGranted).isTrue();
    }

    @Test
    void anInterruptedWaiterThatIsStillTheLastReservationGivesItsSlotBack() {
        FakeClock clock = new FakeClock();
        Sleeper interrupted = nanos -> {
            throw new InterruptedException();
        };
        RateLimiter queue = LocalRateLimiters.create(LeakyBucket.queue(1, Duration.ofMillis(100), 3), clock, interrupted);
        assertThat(queue.tryAcquire()).isTrue();
        assertThatThrownBy(() -> queue.tryAcquire(1, Duration.ofSeconds(1))).isInstanceOf(InterruptedException.class);
        clock.advance(Duration.ofMillis(100));
        assertThat(queue.tryAcquire()).as("the slot at 100 ms is free again").isTrue();
    }
}

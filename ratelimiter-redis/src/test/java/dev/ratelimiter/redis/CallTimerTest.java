package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The shared timer of asynchronous calls, without Redis: calls registered already past their
 * deadline, so that no test waits for time to pass, only for the timer's thread to act.
 */
class CallTimerTest {

    /** A call that records its timeout. */
    private static final class FakeCall extends CompletableFuture<String> implements CallTimer.Timed {
        private final long deadline;

        FakeCall(long deadline) {
            this.deadline = deadline;
        }

        @Override
        public long deadline() {
            return deadline;
        }

        @Override
        public void timeOut() {
            complete("timed out");
        }
    }

    @Test
    void anExpiredCallOfOneLaneIsTimedOutWhileAnotherLaneWaitsForAFarDeadline() throws Exception {
        CallTimer.Lane slow = new CallTimer.Lane();
        CallTimer.Lane fast = new CallTimer.Lane();
        FakeCall far = new FakeCall(System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        slow.add(far);
        FakeCall expired = new FakeCall(System.nanoTime() - 1);
        fast.add(expired);

        assertThat(expired.get(5, TimeUnit.SECONDS)).isEqualTo("timed out");
        assertThat(far).as("a call before its deadline is left alone").isNotDone();
        far.complete("answered");
        awaitTrue(() -> slow.pending() == 0, "the answered call let go of");
    }

    @Test
    void answeredCallsAreLetGoOfWithinASweepAndNeverTimedOut() throws Exception {
        CallTimer.Lane lane = new CallTimer.Lane();
        long far = System.nanoTime() + TimeUnit.HOURS.toNanos(1);
        FakeCall[] calls = new FakeCall[100];
        for (int i = 0; i < calls.length; i++) {
            calls[i] = new FakeCall(far);
            lane.add(calls[i]);
        }
        for (FakeCall c : calls) {
            c.complete("answered");
        }
        awaitTrue(() -> lane.pending() == 0, "the answered calls let go of");
        for (FakeCall c : calls) {
            assertThat(c.join()).isEqualTo("answered");
        }
        // The lane, emptied, is dropped by the thread and picked up again by the next call.
        FakeCall expired = new FakeCall(System.nanoTime() - 1);
        lane.add(expired);
        assertThat(expired.get(5, TimeUnit.SECONDS)).isEqualTo("timed out");
    }

    @Test
    void theTimerThreadDoesNotKeepTheJvmAlive() throws Exception {
        FakeCall expired = new FakeCall(System.nanoTime() - 1);
        new CallTimer.Lane().add(expired);
        expired.get(5, TimeUnit.SECONDS);
        Thread timer = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(CallTimer.THREAD_NAME)).findFirst().orElseThrow();
        assertThat(timer.isDaemon()).isTrue();
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(CallTimer.THREAD_NAME)))
                .as("one thread for every lane").hasSize(1);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waiting for " + what).isNegative();
            Thread.onSpinWait();
        }
    }
}

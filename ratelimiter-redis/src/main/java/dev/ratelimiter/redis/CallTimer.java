package dev.ratelimiter.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/*
 * The timeouts of asynchronous script calls, at the cost of one lock-free queue insertion per
 * call: no lock, no cancellation, no thread wake-up.
 *
 * Every call of one ScriptCaller has the same timeout, so the deadlines of its calls are in the
 * order the calls were registered (up to the few nanoseconds between reading the clock and the
 * insertion, which only delays a timeout by as much). Each ScriptCaller therefore has a Lane: a
 * FIFO (ConcurrentLinkedQueue, many producers) of its pending calls, whose head has the earliest
 * deadline. One daemon thread, shared by the whole JVM, is the only consumer of every lane: it
 * drops the completed calls at each head, times out the expired ones, and sleeps until the
 * earliest remaining head deadline, but never longer than SWEEP_NANOS, so that completed calls
 * are let go of within a sweep (memory) and a lane registered while it sleeps is looked at within
 * a sweep. A timed-out call is thus answered within its timeout plus SWEEP_NANOS plus the thread's
 * scheduling delay.
 *
 * Invariants: a lane is in the thread's working set (or in the hand-over queue `scheduled`) iff
 * its `scheduled` flag is set; the thread clears the flag only when it found the lane empty, and
 * then checks the lane once more, so that a call registered meanwhile is never missed: either the
 * thread sees it (volatile read of the queue after the volatile write of the flag), or the
 * registering thread sees the flag clear and schedules the lane again. The thread keeps only
 * lanes with pending calls: a ScriptCaller that is dropped leaves nothing behind once its calls
 * are done.
 *
 * Wake-ups: the thread parks without a deadline only when no lane is scheduled, after setting
 * `idle`; a registration that schedules a lane then unparks it (Dekker: the registering thread
 * writes the hand-over queue, then reads `idle`; the thread writes `idle`, then reads the
 * hand-over queue; both volatile, so one of them sees the other). Several registering threads may
 * unpark it at once: a benign race, one spare wake-up. While any call is pending, the thread wakes
 * once per sweep or deadline, not per call.
 *
 * The thread runs the completion of a timed-out call, hence the failure policy and whatever the
 * caller chained onto the call's stage; a stage that blocks delays the other timeouts.
 */
/** The shared timer of asynchronous script calls; see the comment above for its bounds. */
final class CallTimer {

    /** The longest the thread sleeps while calls are pending: 10 ms. */
    static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** The name of the timer's thread. */
    static final String THREAD_NAME = "ratelimiter-redis-timeouts";

    /** A call the timer can time out. */
    interface Timed {
        /** @return the call's deadline, a {@link System#nanoTime()} reading; constant */
        long deadline();

        /** @return whether the call is over (answered, failed or timed out) */
        boolean isDone();

        /** Fails the call with a timeout unless it is over; never throws. */
        void timeOut();
    }

    /** The pending calls of one ScriptCaller, in deadline order. Thread-safe. */
    static final class Lane {
        private final ConcurrentLinkedQueue<Timed> calls = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean scheduled = new AtomicBoolean();

        /** Registers a call; the deadlines of one lane's calls must not decrease. */
        void add(Timed call) {
            calls.offer(call);
            if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
                Worker.INSTANCE.schedule(this);
            }
        }

        /** @return the number of calls the timer still holds; for tests */
        int pending() {
            return calls.size();
        }
    }

    private CallTimer() {
    }

    /** The thread, started on first use (the holder idiom: class initialisation is the lock). */
    private static final class Worker implements Runnable {
        static final Worker INSTANCE = new Worker();

        private final ConcurrentLinkedQueue<Lane> handOver = new ConcurrentLinkedQueue<>();
        private volatile boolean idle;
        private final Thread thread;

        private Worker() {
            thread = new Thread(this, THREAD_NAME);
            thread.setDaemon(true);
            thread.setContextClassLoader(null);
            thread.start();
        }

        void schedule(Lane lane) {
            handOver.offer(lane);
            if (idle) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void run() {
            List<Lane> lanes = new ArrayList<>();
            while (true) {
                try {
                    sweep(lanes);
                } catch (Throwable t) {
                    // timeOut never throws; keep timing out the other calls whatever happens.
                }
            }
        }

        private void sweep(List<Lane> lanes) {
            // The thread runs the callers' continuations, which may set its interrupt flag (or
            // someone may interrupt it): a set flag would make every park below return at once
            // and turn the thread into a busy loop.
            Thread.interrupted();
            for (Lane l; (l = handOver.poll()) != null; ) {
                lanes.add(l);
            }
            long now = System.nanoTime();
            long sleep = SWEEP_NANOS;
            for (int i = lanes.size() - 1; i >= 0; i--) {
                Lane lane = lanes.get(i);
                Timed head = drain(lane, now);
                if (head == null) {
                    lane.scheduled.set(false);
                    head = drain(lane, now); // registered between the drain and the flag's clearing?
                    if (head == null || !lane.scheduled.compareAndSet(false, true)) {
                        // Empty, or rescheduled by a registration (now in the hand-over queue).
                        lanes.set(i, lanes.get(lanes.size() - 1));
                        lanes.remove(lanes.size() - 1);
                        continue;
                    }
                }
                sleep = Math.min(sleep, head.deadline() - now);
            }
            if (lanes.isEmpty()) {
                idle = true;
                if (handOver.isEmpty()) {
                    LockSupport.park(this);
                }
                idle = false;
            } else if (sleep > 0) {
                LockSupport.parkNanos(this, sleep);
            }
        }

        /** Drops the completed calls at the lane's head and times out the expired ones. */
        private static Timed drain(Lane lane, long now) {
            Timed head;
            while ((head = lane.calls.peek()) != null) {
                if (!head.isDone()) {
                    if (head.deadline() - now > 0) {
                        return head;
                    }
                    head.timeOut();
                }
                lane.calls.poll();
            }
            return null;
        }
    }
}

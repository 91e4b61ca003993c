package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.conformance.FakeClock;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;

/**
 * Shared pieces of the concurrency tests: a runner for a fixed number of worker threads, the
 * exact admission bounds, and the operations Lincheck drives on a limiter.
 */
public final class StressSupport {

    /** How long a stress run may take before it counts as hung; far above the expected time. */
    private static final long JOIN_TIMEOUT_SECONDS = 60;

    /** Above the 64 iterations of a 128-bit long division; see {@link #lincheckModelChecking()}. */
    private static final int LINCHECK_LOOP_BOUND = 128;

    private StressSupport() {
    }

    /** The body of one worker thread. */
    @FunctionalInterface
    interface Worker {
        /**
         * @param index the worker's index, {@code 0..threads-1}
         * @throws Exception anything; the first failure fails the run
         */
        void run(int index) throws Exception;
    }

    /**
     * Runs {@code threads} workers at once and waits for all of them. The first exception or
     * assertion error thrown by a worker is rethrown here (others are added as suppressed), so a
     * failed check inside a worker fails the test instead of dying silently in its thread.
     *
     * @param threads the number of workers
     * @param worker  what each one does
     */
    static void runWorkers(int threads, Worker worker) throws InterruptedException {
        runWorkers(threads, () -> { }, worker);
    }

    /**
     * Like {@link #runWorkers(int, Worker)}; {@code onFailure} runs once when a worker fails, so
     * that workers waiting for it (at a barrier) are released instead of waiting forever.
     *
     * @param threads   the number of workers
     * @param onFailure run after the first failure, e.g. {@code barrier::reset}
     * @param worker    what each one does
     */
    static void runWorkers(int threads, Runnable onFailure, Worker worker) throws InterruptedException {
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean failed = new AtomicBoolean();
        List<Thread> started = new ArrayList<>(threads);
        for (int i = 0; i < threads; i++) {
            int index = i;
            Thread t = new Thread(() -> {
                try {
                    worker.run(index);
                } catch (Throwable e) {
                    failures.add(e);
                    if (failed.compareAndSet(false, true)) {
                        onFailure.run();
                    }
                }
            }, "stress-worker-" + i);
            t.setDaemon(true);
            started.add(t);
        }
        started.forEach(Thread::start);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(JOIN_TIMEOUT_SECONDS);
        for (Thread t : started) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (t.isAlive()) {
                started.forEach(Thread::interrupt);
                AssertionError hung = new AssertionError(
                        t.getName() + " did not finish within " + JOIN_TIMEOUT_SECONDS + " s");
                failures.forEach(hung::addSuppressed);
                throw hung;
            }
        }
        if (failures.isEmpty()) {
            return;
        }
        // Workers released by a broken barrier report BrokenBarrierException; the failure that
        // broke it is the one to show.
        Throwable primary = failures.stream()
                .filter(e -> !(e instanceof BrokenBarrierException))
                .findFirst()
                .orElse(failures.peek());
        for (Throwable other : failures) {
            if (other != primary && !(other instanceof BrokenBarrierException)) {
                primary.addSuppressed(other);
            }
        }
        if (primary instanceof Error error) {
            throw error;
        }
        throw new AssertionError("a stress worker failed", primary);
    }

    /**
     * A reusable barrier whose waiting threads spin (yielding) instead of parking, so that when
     * the last party arrives they all resume at once and their first requests contend. A
     * {@link java.util.concurrent.CyclicBarrier} wakes its parties one after another, each
     * re-acquiring its lock, so the first thread back would often take everything a round offers
     * before the second one runs.
     *
     * <p>Memory ordering: each party's writes before {@link #await} happen-before the action
     * (they precede its increment of {@code arrived}, which the last party's increment reads);
     * the action's writes happen-before every party's return (they precede the volatile write of
     * {@code generation} that the waiting parties read). {@code arrived} is reset before that
     * write, so no party of the next round can increment it too early.
     */
    static final class SpinBarrier {
        private final int parties;
        private final Runnable action;
        private final AtomicInteger arrived = new AtomicInteger();
        private volatile int generation;
        private volatile boolean broken;

        /**
         * @param parties the number of threads that meet at the barrier
         * @param action  run by the last thread to arrive, before any is released
         */
        SpinBarrier(int parties, Runnable action) {
            this.parties = parties;
            this.action = action;
        }

        /**
         * Waits until all parties have arrived.
         *
         * @throws BrokenBarrierException if the barrier was broken, by a failed action or by
         *                                {@link #breakBarrier()}
         * @throws TimeoutException       if the others did not arrive within 30 s
         */
        void await() throws BrokenBarrierException, TimeoutException {
            int gen = generation;
            if (arrived.incrementAndGet() == parties) {
                arrived.set(0);
                try {
                    action.run();
                } catch (RuntimeException | Error e) {
                    broken = true;
                    throw e;
                }
                generation = gen + 1;
                return;
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (generation == gen) {
                if (broken) {
                    throw new BrokenBarrierException();
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new TimeoutException("the other parties did not arrive within 30 s");
                }
                Thread.yield();
            }
        }

        /** Releases every waiting party with a {@link BrokenBarrierException}. */
        void breakBarrier() {
            broken = true;
        }
    }

    /**
     * {@code floor(elapsedNanos * permits / periodNanos)}, computed exactly: the permits a rate
     * of {@code permits} per {@code periodNanos} adds over {@code elapsedNanos}.
     */
    static long permitsOver(long elapsedNanos, long permits, long periodNanos) {
        if (elapsedNanos <= 0) {
            return 0;
        }
        return BigInteger.valueOf(elapsedNanos).multiply(BigInteger.valueOf(permits))
                .divide(BigInteger.valueOf(periodNanos)).longValueExact();
    }

    // ---------------------------------------------------------------------------------------
    // Lincheck
    // ---------------------------------------------------------------------------------------

    /**
     * The operations Lincheck runs concurrently on one limiter; a subclass per configuration
     * supplies the limit and may bring the limiter into a particular state in its constructor.
     * Lincheck builds a fresh instance for every scenario and uses the same class, run
     * sequentially, as the specification: the concurrent results must match those of some
     * sequential order of the same operations that respects real-time order.
     *
     * <p><b>The clock does not move while operations run.</b> A decision reads the clock once and
     * then applies one CAS computed from that reading, so its linearization point (the CAS) comes
     * after the read. With a concurrent clock-advance operation, a decision can read time t0, the
     * clock can move to t1, another decision at t1 can succeed, and then the first one commits
     * with the stale t0 on top of the state written at t1. No sequential order explains that
     * outcome in general (before the advance it would not see the t1 decision's effect, after it
     * it would use t1), so an advance operation would report violations that are the documented,
     * safe behaviour of one-clock-read decisions: a stale reading only ever makes a decision
     * stricter, never creates permits, which the stress tests check with a moving clock. Here the
     * clock is fixed per test object instead; configurations reach interesting states (partly
     * refilled buckets, logs whose entries straddle the window) by consuming permits and moving
     * the clock in their constructors, before Lincheck starts any operation, and Lincheck's own
     * sequential prefix ({@code actorsBefore}) consumes more.
     */
    public abstract static class LimiterOperations {

        /** The clock of this limiter; only constructors move it. */
        protected final FakeClock clock;

        /** The limiter under test. */
        protected final RateLimiter limiter;

        /**
         * @param limit the limit, enforced by {@link LocalRateLimiters#create}
         */
        protected LimiterOperations(Limit limit) {
            this(limit, FakeClock.DEFAULT_START);
        }

        /**
         * @param limit      the limit, enforced by {@link LocalRateLimiters#create}
         * @param startNanos the first clock reading
         */
        protected LimiterOperations(Limit limit, long startNanos) {
            this.clock = new FakeClock(startNanos);
            this.limiter = LocalRateLimiters.create(limit, clock, clock);
        }

        /**
         * Acquires permits, for the setup of a configuration; fails if they are refused, since a
         * configuration relies on the state it builds.
         */
        protected final void consume(long permits) {
            if (!limiter.tryAcquire(permits)) {
                throw new IllegalStateException("setup could not acquire " + permits + " permits at "
                        + clock.read() + " from " + limiter);
            }
        }

        /**
         * @param permits 1 to 3 permits
         * @return whether they were granted
         */
        @Operation
        public boolean tryAcquire(@Param(gen = IntGen.class, conf = "1:3") int permits) {
            return limiter.tryAcquire(permits);
        }

        /**
         * @param permits 1 to 3 permits
         * @return the whole decision: its equality covers allowed, remaining, retry-after, reset
         *     and limit, all of which are determined by the state and the (fixed) clock
         */
        @Operation
        public Decision decide(@Param(gen = IntGen.class, conf = "1:3") int permits) {
            return limiter.decide(permits);
        }
    }

    /**
     * The Lincheck stress strategy, sized so that one check takes a few seconds on a busy
     * 2-core machine.
     */
    static StressOptions lincheckStress() {
        return new StressOptions()
                .iterations(5)
                .invocationsPerIteration(300)
                .threads(2)
                .actorsPerThread(3)
                .actorsBefore(2)
                .actorsAfter(1);
    }

    /**
     * The Lincheck model-checking strategy (explores interleavings at every shared-memory access
     * under sequential consistency), sized like {@link #lincheckStress()}. Many small scenarios
     * find more than a few explored deeply: a lost update shows only in a scenario where a later
     * operation observes it.
     *
     * <p>The loop bound is raised from Lincheck's default of 50 iterations, beyond which it
     * reports a loop as a livelock: the limiters' exact 128-bit arithmetic divides by binary long
     * division, a loop of exactly 64 iterations that always terminates.
     *
     * <p>{@link Backoff} is left out of the analysis: its spin after a failed CAS touches no
     * shared memory (so it adds no interleaving), but it is a loop of {@link Backoff#SPINS}
     * spin-wait hints that Lincheck would report as a hang.
     */
    static ModelCheckingOptions lincheckModelChecking() {
        return new ModelCheckingOptions()
                .addGuarantee(ManagedStrategyGuaranteeKt.forClasses(Backoff.class.getName()).allMethods().ignore())
                .loopBound(LINCHECK_LOOP_BOUND)
                .iterations(30)
                .invocationsPerIteration(100)
                .threads(2)
                .actorsPerThread(3)
                .actorsBefore(2)
                .actorsAfter(1);
    }
}

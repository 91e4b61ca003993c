package dev.ratelimiter.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Decorators;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link RateLimiter} honours, whatever its algorithm or backend, checked
 * with a {@link FakeClock} and against the algorithm's {@link ReferenceModel}.
 *
 * <p>One subclass per algorithm family (e.g. {@link TokenBucketConformance}) supplies the limits
 * to test and adds the family's own scenarios; a backend then subclasses each family once,
 * implementing {@link #create}. JUnit Jupiter runs the {@code @Test} methods and jqwik the
 * {@code @Property} methods, both inherited from here.
 *
 * <p>Every limiter is created before its clock moves, and time is given to the model relative to
 * the limiter's first reading, since limiters measure time from their construction.
 */
public abstract class RateLimiterContract {

    /** The permits every family's {@link #standardLimit()} grants at once. */
    protected static final long STANDARD_MAX = 10;

    /** Subclasses only. */
    protected RateLimiterContract() {
    }

    /**
     * Creates the limiter under test.
     *
     * @param limit   the limit to enforce
     * @param ticker  the clock (a {@link FakeClock})
     * @param sleeper how blocking acquires wait (usually the same {@link FakeClock})
     * @return a new limiter in its initial state
     */
    protected abstract RateLimiter create(Limit limit, Ticker ticker, Sleeper sleeper);

    /**
     * @return a limit of this family granting {@value #STANDARD_MAX} permits at once, with a
     *     period or window of about a second
     */
    protected abstract Limit standardLimit();

    /**
     * A limit of this family from generic settings, for the extreme cases.
     *
     * @param maxPermits the most permits granted at once (capacity, burst, queue or window limit)
     * @param permits    permits per period (ignored by the sliding windows, whose limit is
     *                   {@code maxPermits} per {@code period})
     * @param period     the period or window
     * @return the limit
     */
    protected abstract Limit limit(long maxPermits, long permits, Duration period);

    /** @return the limits the properties draw from */
    protected abstract Arbitrary<Limit> limits();

    /**
     * @param limit a limit of this family
     * @return the time over which its state changes a lot (the time to refill from empty, or
     *     the window), in ns, used to size the clock advances of generated scripts
     */
    protected abstract long timeScale(Limit limit);

    /**
     * Whether this backend runs {@code limit} exactly. The local limiters run every valid limit;
     * a backend with a narrower exact range (Redis: integers below 2^53 in Lua) returns
     * {@code false} for the limits it refuses at creation or whose generated scripts would leave
     * its range. Generated scripts skip those limits, and
     * {@link #largestPermitCountsDoNotOverflow} then checks that the largest limit is refused at
     * creation with an {@link IllegalArgumentException} naming the value, instead of running it.
     *
     * @param limit a limit of this family
     * @return {@code true} unless the backend documents that it cannot run it
     */
    protected boolean accepts(Limit limit) {
        return true;
    }

    /**
     * Whether the random reconfiguration scripts may reconfigure {@code current} to
     * {@code target}. By default every target the backend {@link #accepts}. The reference model
     * rounds a bucket's full-at instant up to the new rate's resolution at every reconfiguration,
     * as the in-process limiters do; a backend that keeps the exact stored debt and rounds only
     * when it reads it under a rate (Redis) may answer up to a nanosecond of debt more
     * permissively after two changes of rate, never beyond the exact debt, so it keeps the rate in
     * these scripts and tests changes of rate in its own tests.
     *
     * @param current the limit now
     * @param target  the limit the script would reconfigure to
     * @return {@code true} if the script may make that reconfiguration
     */
    protected boolean acceptsReconfiguration(Limit current, Limit target) {
        return accepts(target);
    }

    /**
     * @param limit a limit
     * @return its reference model, fresh
     */
    protected ReferenceModel model(Limit limit) {
        return ReferenceModel.of(limit);
    }

    // ------------------------------------------------------------------ harness

    /** A limiter, its fake clock and its model, driven together. */
    protected final class Run {
        /** The clock the limiter reads. */
        public final FakeClock clock;
        /** The limiter under test. */
        public final RateLimiter limiter;
        /** The model, fed the same requests (replaced by {@link #reset()} and {@link #reconfigure}). */
        public ReferenceModel model;
        private final long origin;
        /** The reading the model's time starts at: the creation, or the latest reset. */
        private long modelOrigin;

        /**
         * @param limit   the limit
         * @param sleeper the sleeper, or {@code null} for the clock itself
         */
        public Run(Limit limit, Sleeper sleeper) {
            this.clock = new FakeClock();
            this.limiter = create(limit, clock, sleeper == null ? clock : sleeper);
            this.origin = clock.read();
            this.modelOrigin = origin;
            this.model = model(limit);
        }

        /** @return the model's time: since the creation or the latest reset, in ns */
        private long modelNow() {
            return clock.read() - modelOrigin;
        }

        /** @return the time since the limiter was created, in ns */
        public long now() {
            return clock.read() - origin;
        }

        /**
         * Advances the clock.
         *
         * @param nanos how far
         * @return this
         */
        public Run advance(long nanos) {
            clock.advance(nanos);
            return this;
        }

        /**
         * Decides on the limiter and on the model, and checks they agree.
         *
         * @param permits the permits
         * @return the limiter's decision
         */
        public Decision decide(long permits) {
            Decision expected = model.decide(permits, modelNow());
            Decision actual = limiter.decide(permits);
            assertThat(actual).as("decide(%s) at %s ns, model %s", permits, now(), model).isEqualTo(expected);
            return actual;
        }

        /**
         * {@code tryAcquire} on the limiter, {@code decide} on the model; checks they agree.
         *
         * @param permits the permits
         * @return whether the limiter granted them
         */
        public boolean tryAcquire(long permits) {
            boolean expected = model.decide(permits, modelNow()).isAllowed();
            boolean actual = limiter.tryAcquire(permits);
            assertThat(actual).as("tryAcquire(%s) at %s ns, model %s", permits, now(), model).isEqualTo(expected);
            return actual;
        }

        /**
         * A blocking acquire on the limiter and the model; checks the outcome and the time
         * waited agree.
         *
         * @param permits      the permits
         * @param timeoutNanos the timeout
         * @return whether the limiter granted them
         * @throws InterruptedException if the sleeper throws it
         */
        public boolean acquire(long permits, long timeoutNanos) throws InterruptedException {
            long before = now();
            long expectedWait = model.acquire(permits, modelNow(), timeoutNanos);
            boolean actual = limiter.tryAcquire(permits, Duration.ofNanos(timeoutNanos));
            assertThat(actual).as("tryAcquire(%s, %s ns) at %s ns, model %s", permits, timeoutNanos, before, model)
                    .isEqualTo(expectedWait >= 0);
            assertThat(now() - before).as("time waited by tryAcquire(%s, %s ns) at %s ns", permits, timeoutNanos, before)
                    .isEqualTo(Math.max(0, expectedWait));
            return actual;
        }

        /**
         * Peeks on the limiter and the model, and checks they agree.
         *
         * @param permits the permits
         * @return the limiter's answer
         */
        public Decision peek(long permits) {
            Decision expected = model.peek(permits, modelNow());
            Decision actual = limiter.peek(permits);
            assertThat(actual).as("peek(%s) at %s ns, model %s", permits, now(), model).isEqualTo(expected);
            return actual;
        }

        /**
         * {@code availablePermits()} on the limiter and the model; checks they agree.
         *
         * @return the limiter's answer
         */
        public long available() {
            long expected = model.available(modelNow());
            long actual = limiter.availablePermits();
            assertThat(actual).as("availablePermits() at %s ns, model %s", now(), model).isEqualTo(expected);
            return actual;
        }

        /**
         * {@code drain()} on the limiter and the model; checks they agree.
         *
         * @return the permits the limiter took
         */
        public long drain() {
            long expected = model.drain(modelNow());
            long actual = limiter.drain();
            assertThat(actual).as("drain() at %s ns, model %s", now(), model).isEqualTo(expected);
            return actual;
        }

        /**
         * {@code refund(permits)} on the limiter and the model.
         *
         * @param permits the permits
         * @return this
         */
        public Run refund(long permits) {
            model.refund(permits, modelNow());
            limiter.refund(permits);
            return this;
        }

        /**
         * {@code reset()} on the limiter; the model becomes a fresh one created at this instant.
         *
         * @return this
         */
        public Run reset() {
            limiter.reset();
            modelOrigin = clock.read();
            model = model(limiter.limit());
            return this;
        }

        /**
         * {@code reconfigure(limit)} on the limiter and the model.
         *
         * @param limit the new limit
         * @return this
         */
        public Run reconfigure(Limit limit) {
            limiter.reconfigure(limit);
            model = model.reconfigured(limit, modelNow());
            assertThat(limiter.limit()).isEqualTo(limit);
            return this;
        }

        /**
         * Takes single permits at the current instant until one is refused.
         *
         * @return the refusal
         */
        public Decision exhaust() {
            for (long i = 0; i <= limiter.limit().maxPermits(); i++) {
                Decision d = decide(1);
                if (!d.isAllowed()) {
                    return d;
                }
            }
            throw new AssertionError("more than maxPermits single permits granted at one instant");
        }
    }

    /** @return a run of the {@link #standardLimit()} on a fresh fake clock that is also the sleeper */
    protected Run standardRun() {
        return new Run(standardLimit(), null);
    }

    // ------------------------------------------------------------------ argument validation

    @Test
    public void nonPositivePermitsAreRejectedNamingTheValue() {
        RateLimiter limiter = standardRun().limiter;
        assertThatThrownBy(() -> limiter.tryAcquire(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> limiter.decide(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> limiter.tryAcquire(-3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=-3");
        assertThatThrownBy(() -> limiter.decide(Long.MIN_VALUE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=" + Long.MIN_VALUE);
        assertThatThrownBy(() -> limiter.tryAcquire(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> limiter.tryAcquire(-1, 1, TimeUnit.SECONDS))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=-1");
        assertThat(limiter.decide(STANDARD_MAX).isAllowed()).as("the refused calls consumed nothing").isTrue();
    }

    @Test
    public void nullTimeoutIsRejected() {
        RateLimiter limiter = standardRun().limiter;
        assertThatThrownBy(() -> limiter.tryAcquire(1, (Duration) null)).isInstanceOf(NullPointerException.class)
                .hasMessage("timeout");
        assertThatThrownBy(() -> limiter.tryAcquire(1, 1, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("unit");
        assertThat(limiter.decide(STANDARD_MAX).isAllowed()).as("the refused calls consumed nothing").isTrue();
    }

    @Test
    public void reportsTheLimitItEnforces() {
        Run run = standardRun();
        assertThat(run.limiter.limit()).isEqualTo(standardLimit());
        Decision d = run.decide(3);
        assertThat(d.limit()).isEqualTo(standardLimit().maxPermits());
        assertThat(d.permits()).isEqualTo(3);
    }

    // ------------------------------------------------------------------ basic semantics

    @Test
    public void freshLimiterGrantsItsLargestRequestAtOnce() {
        Run run = standardRun();
        Decision d = run.decide(STANDARD_MAX);
        assertThat(d.isAllowed()).isTrue();
        assertThat(d.retryAfterNanos()).isZero();
        assertThat(run.decide(1).isAllowed()).as("nothing is left at the same instant").isFalse();
    }

    @Test
    public void requestLargerThanTheLimitIsNeverGrantedAndSaysSo() throws InterruptedException {
        Run run = standardRun();
        Decision d = run.decide(STANDARD_MAX + 1);
        assertThat(d.isAllowed()).isFalse();
        assertThat(d.exceedsLimit()).isTrue();
        assertThat(d.retryAfterNanos()).isEqualTo(Decision.NEVER);
        assertThat(run.limiter.tryAcquire(STANDARD_MAX + 1)).isFalse();
        assertThat(run.limiter.decide(Long.MAX_VALUE).exceedsLimit()).isTrue();

        long before = run.clock.read();
        assertThat(run.limiter.tryAcquire(STANDARD_MAX + 1, Duration.ofDays(365))).isFalse();
        assertThat(run.limiter.tryAcquire(Long.MAX_VALUE, Duration.ofNanos(Long.MAX_VALUE))).isFalse();
        assertThat(run.clock.read()).as("a request that can never be granted does not wait").isEqualTo(before);

        run.advance(Duration.ofDays(30).toNanos());
        assertThat(run.decide(STANDARD_MAX + 1).exceedsLimit()).as("not even after a long idle time").isTrue();
        assertThat(run.decide(STANDARD_MAX).isAllowed()).as("the refusals consumed nothing").isTrue();
    }

    @Test
    public void rejectedRequestConsumesNothing() {
        Run run = standardRun();
        Decision refused = run.exhaust();
        assertThat(refused.retryAfterNanos()).isPositive();
        for (int i = 0; i < 5; i++) {
            assertThat(run.limiter.decide(1)).isEqualTo(refused);
            assertThat(run.limiter.tryAcquire(1)).isFalse();
            assertThat(run.limiter.decide(STANDARD_MAX).isAllowed()).isFalse();
        }
        run.advance(refused.retryAfterNanos());
        assertThat(run.decide(1).isAllowed()).isTrue();
    }

    @Test
    public void clockGoingBackwardsCreatesNoPermits() {
        long[] steps = {Duration.ofHours(1).toNanos(), Duration.ofDays(1).toNanos(), 1};
        for (long back : steps) {
            Run skewed = standardRun();
            Run steady = standardRun();
            skewed.exhaust();
            steady.exhaust();
            skewed.clock.advance(-back);
            assertThat(grantAllSingles(skewed.limiter)).as("grants after going back %s ns", back).isZero();
            long forward = timeScale(standardLimit()) / 3;
            skewed.clock.advance(back + forward);
            steady.clock.advance(forward);
            assertThat(grantAllSingles(skewed.limiter)).as("grants after going back %s ns then forward", back)
                    .isLessThanOrEqualTo(grantAllSingles(steady.limiter));
        }
    }

    private static long grantAllSingles(RateLimiter limiter) {
        long granted = 0;
        while (granted <= limiter.limit().maxPermits() && limiter.tryAcquire(1)) {
            granted++;
        }
        return granted;
    }

    // ------------------------------------------------------------------ extremes

    /**
     * An oversized request writes nothing, so a later reading that is earlier (a clock that
     * stepped back) is judged as if it had never been made: one permit at 0, an oversized
     * request at one period, then one permit a nanosecond before that is refused.
     */
    @Test
    public void anOversizedRequestLetsNoEarlierReadingIn() {
        long period = Duration.ofSeconds(1).toNanos();
        for (int variant = 0; variant < 2; variant++) {
            FakeClock clock = new FakeClock();
            RateLimiter limiter = create(limit(1, 1, Duration.ofSeconds(1)), clock, clock);
            assertThat(limiter.decide(1).isAllowed()).isTrue();
            clock.advance(period);
            if (variant == 0) {
                assertThat(limiter.tryAcquire(2)).isFalse();
            } else {
                assertThat(limiter.decide(2).exceedsLimit()).isTrue();
            }
            clock.advance(-1);
            assertThat(limiter.decide(1).isAllowed()).as("variant %s, 1 ns before the period", variant).isFalse();
        }
    }

    /**
     * Only differences of ticker readings matter ({@link Ticker}): a ticker that wraps around
     * {@code Long.MAX_VALUE}, as {@code System.nanoTime()} may, keeps measuring time.
     */
    @Test
    public void tickerWrappingAroundLongMaxValueKeepsMeasuringTime() {
        FakeClock clock = new FakeClock(Long.MAX_VALUE - Duration.ofSeconds(1).toNanos());
        RateLimiter limiter = create(limit(1, 1, Duration.ofSeconds(1)), clock, clock);
        assertThat(limiter.decide(1).isAllowed()).isTrue();
        clock.advance(Duration.ofSeconds(2)); // past Long.MAX_VALUE: the reading wraps
        assertThat(clock.read()).isNegative();
        assertThat(limiter.decide(1).isAllowed()).as("two seconds later").isTrue();
        Decision refused = limiter.decide(1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.exceedsLimit()).as("one permit of a limit of one is not oversized").isFalse();
        // At most one window, or two for the counter (its count weighs through the next window).
        assertThat(refused.retryAfterNanos()).isBetween(1L, Duration.ofSeconds(2).toNanos());
        clock.advance(refused.retryAfterNanos());
        assertThat(limiter.decide(1).isAllowed()).isTrue();
    }

    @Test
    public void onePermitPerDay() {
        Run run = new Run(limit(1, 1, Duration.ofDays(1)), null);
        assertThat(run.decide(1).isAllowed()).isTrue();
        Decision refused = run.decide(1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfterNanos()).isBetween(1L, Duration.ofDays(2).toNanos());
        run.advance(refused.retryAfterNanos() - 1);
        assertThat(run.decide(1).isAllowed()).isFalse();
        run.advance(1);
        assertThat(run.decide(1).isAllowed()).isTrue();
        assertThat(run.decide(2).exceedsLimit()).isTrue();
    }

    @Test
    public void oneBillionPerSecond() {
        long billion = 1_000_000_000L;
        Run run = new Run(limit(billion, billion, Duration.ofSeconds(1)), null);
        assertThat(run.decide(billion).isAllowed()).isTrue();
        Decision refused = run.decide(1);
        assertThat(refused.isAllowed()).isFalse();
        run.advance(refused.retryAfterNanos());
        assertThat(run.decide(1).isAllowed()).isTrue();
        run.advance(Duration.ofMillis(500).toNanos());
        run.decide(billion / 2);
        run.decide(billion / 2 + 1);
        run.advance(Duration.ofSeconds(5).toNanos());
        assertThat(run.decide(billion).isAllowed()).isTrue();
    }

    @Test
    public void largestPermitCountsDoNotOverflow() {
        long max = Checks.MAX_PERMITS;
        Limit largest = limit(max, 1_000_000_000L, Duration.ofSeconds(1));
        if (!accepts(largest)) {
            assertThatThrownBy(() -> create(largest, () -> 0L, nanos -> { }))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("=" + max);
            return;
        }
        Run run = new Run(largest, null);
        assertThat(run.decide(max - 1).isAllowed()).isTrue();
        run.decide(1);
        run.decide(2);
        run.decide(max);
        assertThat(run.decide(max + 1).exceedsLimit()).isTrue();
        assertThat(run.decide(Long.MAX_VALUE).exceedsLimit()).isTrue();
        run.advance(Duration.ofDays(30).toNanos());
        run.decide(max / 3);
        run.advance(Long.MAX_VALUE / 4);
        run.decide(max);

        // The most permits with the slowest rate. Buckets refuse it at build time: refilling it
        // from empty would take longer than 2^62 ns. Windows accept it and must not overflow.
        Limit slowest;
        try {
            slowest = limit(max, 1, Duration.ofDays(30));
        } catch (IllegalArgumentException tooSlowToRefill) {
            assertThat(tooSlowToRefill).hasMessageContaining("must be at most 2^62 ns");
            return;
        }
        FakeClock clock = new FakeClock();
        RateLimiter slow = create(slowest, clock, clock);
        assertThat(slow.decide(max).isAllowed()).isTrue();
        Decision refused = slow.decide(max);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfterNanos()).as("saturates rather than wraps").isPositive();
        assertThat(refused.resetNanos()).isNotNegative();
    }

    @Test
    public void thirtyDaysIdleRestoresTheFullLimit() {
        Run run = standardRun();
        run.exhaust();
        run.advance(Duration.ofDays(30).toNanos());
        Decision d = run.decide(STANDARD_MAX);
        assertThat(d.isAllowed()).isTrue();
        run.advance(Duration.ofDays(30).toNanos());
        run.advance(Duration.ofDays(30).toNanos());
        assertThat(run.decide(STANDARD_MAX).isAllowed()).isTrue();
    }

    // ------------------------------------------------------------------ blocking acquire

    @Test
    public void blockingAcquireWaitsExactlyUntilThePermitsAreAvailable() throws InterruptedException {
        Run run = standardRun();
        Decision refused = run.exhaust();
        long before = run.clock.read();
        assertThat(run.acquire(1, refused.retryAfterNanos())).isTrue();
        assertThat(run.clock.read() - before).isEqualTo(refused.retryAfterNanos());
        assertThat(run.acquire(1, Long.MAX_VALUE)).isTrue();
        assertThat(run.acquire(1, Long.MAX_VALUE)).isTrue();
    }

    @Test
    public void blockingAcquireWithTooShortATimeoutRefusesAtOnceAndConsumesNothing() throws InterruptedException {
        Run run = standardRun();
        Decision refused = run.exhaust();
        long before = run.clock.read();
        assertThat(run.acquire(1, refused.retryAfterNanos() - 1)).isFalse();
        assertThat(run.limiter.tryAcquire(1, Duration.ZERO)).isFalse();
        assertThat(run.limiter.tryAcquire(1, Duration.ofSeconds(-1))).isFalse();
        assertThat(run.clock.read()).as("no waiting").isEqualTo(before);
        assertThat(run.limiter.decide(1)).as("nothing consumed").isEqualTo(refused);
    }

    @Test
    public void blockingAcquireGrantsAtOnceWhenPermitsAreAvailable() throws InterruptedException {
        Run run = standardRun();
        assertThat(run.limiter.tryAcquire(1, Duration.ZERO)).isTrue();
        run.advance(timeScale(standardLimit()));
        assertThat(run.acquire(1, 0)).isTrue();
        run.advance(timeScale(standardLimit()));
        long before = run.now();
        assertThat(run.acquire(1, Long.MAX_VALUE)).isTrue();
        assertThat(run.now()).as("no wait").isEqualTo(before);
    }

    @Test
    public void interruptedWaitGivesItsReservationBack() {
        FakeClock clock = new FakeClock();
        AtomicInteger sleeps = new AtomicInteger();
        Sleeper interrupted = nanos -> {
            sleeps.incrementAndGet();
            throw new InterruptedException("interrupted while waiting");
        };
        RateLimiter limiter = create(standardLimit(), clock, interrupted);
        while (limiter.tryAcquire(1)) {
            assertThat(sleeps).hasValue(0);
        }
        Decision refused = limiter.decide(1);
        try {
            assertThatThrownBy(() -> limiter.tryAcquire(1, Duration.ofHours(1)))
                    .isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }
        assertThat(sleeps).hasValue(1);
        assertThat(limiter.decide(1)).as("the state is as before the interrupted wait").isEqualTo(refused);
        clock.advance(refused.retryAfterNanos());
        assertThat(limiter.tryAcquire(1)).as("a later caller gets the permit given back").isTrue();
    }

    /**
     * A hugely negative timeout means do not wait, even on a clock that moves while deciding:
     * computing "timeout - elapsed" must not overflow into a long wait.
     */
    @Test
    public void hugelyNegativeTimeoutNeverWaits() throws InterruptedException {
        FakeClock clock = new FakeClock();
        Ticker moving = () -> {
            clock.advance(1_000); // every reading is a microsecond later than the one before
            return clock.read();
        };
        AtomicInteger sleeps = new AtomicInteger();
        Sleeper counting = nanos -> {
            sleeps.incrementAndGet();
            clock.advance(nanos);
        };
        RateLimiter limiter = create(standardLimit(), moving, counting);
        while (limiter.tryAcquire(1)) {
            assertThat(sleeps).hasValue(0);
        }
        assertThat(limiter.tryAcquire(1, Duration.ofSeconds(Long.MIN_VALUE))).isFalse();
        assertThat(limiter.tryAcquire(1, Duration.ofNanos(Long.MIN_VALUE))).isFalse();
        assertThat(limiter.tryAcquire(1, -1, TimeUnit.DAYS)).isFalse();
        assertThat(sleeps).as("no wait").hasValue(0);
    }

    /**
     * An interrupt arriving before the permits come makes a blocking acquire throw
     * {@link InterruptedException}, for every algorithm: those that reserve and those that poll.
     */
    @Test
    public void interruptedBlockingAcquireThrowsInterruptedException() {
        Run run = standardRun();
        Decision refused = run.exhaust();
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> run.limiter.tryAcquire(1, Duration.ofHours(1)))
                    .isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }
        assertThat(run.limiter.decide(1)).as("nothing consumed").isEqualTo(refused);
    }

    // ------------------------------------------------------------------ decorators

    @Test
    public void decoratedCallsRunWhilePermitted() throws Exception {
        Run run = standardRun();
        AtomicInteger calls = new AtomicInteger();
        long idle = timeScale(standardLimit()); // long enough for a fresh permit, even in a queue
        Decorators.runnable(run.limiter, calls::incrementAndGet).run();
        run.advance(idle);
        assertThat(Decorators.callable(run.limiter, calls::incrementAndGet).call()).isEqualTo(2);
        run.advance(idle);
        assertThat(Decorators.supplier(run.limiter, calls::incrementAndGet).get()).isEqualTo(3);
        run.advance(idle);
        assertThat(Decorators.function(run.limiter, (Integer x) -> x + calls.incrementAndGet()).apply(10)).isEqualTo(14);
        run.advance(idle);
        CompletionStage<Integer> stage = Decorators.completionStage(run.limiter,
                () -> CompletableFuture.completedFuture(calls.incrementAndGet())).get();
        assertThat(stage.toCompletableFuture().join()).isEqualTo(5);
    }

    @Test
    public void deniedDecoratedCallDoesNotRunAndReportsRetryAfter() {
        Run run = standardRun();
        Decision refused = run.exhaust();
        AtomicInteger calls = new AtomicInteger();

        Runnable runnable = Decorators.runnable(run.limiter, calls::incrementAndGet);
        Callable<Integer> callable = Decorators.callable(run.limiter, calls::incrementAndGet);
        Supplier<Integer> supplier = Decorators.supplier(run.limiter, calls::incrementAndGet);
        Function<Integer, Integer> function = Decorators.function(run.limiter, x -> calls.incrementAndGet());
        List<Callable<?>> decorated = List.of(() -> {
            runnable.run();
            return null;
        }, callable, supplier::get, () -> function.apply(1));
        for (Callable<?> call : decorated) {
            assertThatThrownBy(call::call).isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
                assertThat(e.retryAfterNanos()).isEqualTo(refused.retryAfterNanos()).isPositive();
                assertThat(e.retryAfter()).isEqualTo(Duration.ofNanos(refused.retryAfterNanos()));
                assertThat(e.decision()).isEqualTo(refused);
            });
        }

        AtomicInteger started = new AtomicInteger();
        CompletionStage<Integer> stage = Decorators.completionStage(run.limiter, () -> {
            started.incrementAndGet();
            return CompletableFuture.completedFuture(1);
        }).get();
        assertThatThrownBy(() -> stage.toCompletableFuture().join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(RateLimitExceededException.class,
                        e -> assertThat(e.retryAfterNanos()).isEqualTo(refused.retryAfterNanos()));
        assertThat(started).as("the asynchronous call was not started").hasValue(0);
        assertThat(calls).as("no denied call ran").hasValue(0);

        run.advance(refused.retryAfterNanos());
        assertThat(supplier.get()).isEqualTo(1);
    }

    @Test
    public void decoratedCallExceedingTheLimitNeverRuns() {
        Run run = new Run(limit(1, 1, Duration.ofSeconds(1)), null);
        assertThat(run.limiter.tryAcquire(1)).isTrue();
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> Decorators.runnable(run.limiter, calls::incrementAndGet).run())
                .isInstanceOfSatisfying(RateLimitExceededException.class,
                        e -> assertThat(e.retryAfterNanos()).isPositive().isLessThan(Decision.NEVER));
        assertThat(calls).hasValue(0);
    }

    // ------------------------------------------------------------------ peek, reset, refund, drain, reconfigure

    /**
     * @param limit a limit of this family
     * @return a limit of another family, which a reconfiguration must refuse
     */
    protected static Limit otherFamily(Limit limit) {
        if (limit instanceof SlidingWindow w && w.mode() == SlidingWindow.Mode.LOG) {
            return SlidingWindow.counter(w.limit(), Duration.ofNanos(w.windowNanos()));
        }
        if (limit instanceof SlidingWindow w) {
            return SlidingWindow.log(w.limit(), Duration.ofNanos(w.windowNanos()));
        }
        return SlidingWindow.log(limit.maxPermits(), Duration.ofSeconds(1));
    }

    /**
     * A limit that {@code current} may be reconfigured to, made from {@code candidate}'s numbers:
     * a counter keeps {@code current}'s window; a bucket may become a token bucket, a meter or a
     * queue ({@code kind} 0, 1, 2).
     *
     * @param current   the limit now
     * @param candidate a limit of the same family
     * @param kind      for buckets, which kind of bucket
     * @return the limit to reconfigure to
     */
    protected static Limit compatible(Limit current, Limit candidate, int kind) {
        if (current instanceof SlidingWindow c && c.mode() == SlidingWindow.Mode.COUNTER) {
            return SlidingWindow.counter(candidate.maxPermits(), Duration.ofNanos(c.windowNanos()));
        }
        if (current instanceof SlidingWindow) {
            return candidate;
        }
        long permits;
        long period;
        if (candidate instanceof TokenBucket tb) {
            permits = tb.refillPermits();
            period = tb.refillPeriodNanos();
        } else {
            LeakyBucket lb = (LeakyBucket) candidate;
            permits = lb.permits();
            period = lb.periodNanos();
        }
        long max = candidate.maxPermits();
        return switch (kind) {
            case 0 -> TokenBucket.of(max, permits, Duration.ofNanos(period));
            case 1 -> LeakyBucket.meter(permits, Duration.ofNanos(period), max);
            default -> LeakyBucket.queue(permits, Duration.ofNanos(period), max);
        };
    }

    /** Bad arguments of the new operations are refused naming the parameter and the value. */
    @Test
    public void newOperationsRejectBadInputNamingTheValue() {
        RateLimiter limiter = standardRun().limiter;
        for (long bad : new long[] {0, -1, Long.MIN_VALUE}) {
            assertThatThrownBy(() -> limiter.peek(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("permits=" + bad);
            assertThatThrownBy(() -> limiter.refund(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("permits=" + bad);
        }
        assertThatThrownBy(() -> limiter.reconfigure(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("limit");
        Limit other = otherFamily(standardLimit());
        assertThatThrownBy(() -> limiter.reconfigure(other)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limit=" + other);
        if (standardLimit() instanceof SlidingWindow w && w.mode() == SlidingWindow.Mode.COUNTER) {
            Limit longer = SlidingWindow.counter(w.limit(), Duration.ofNanos(2 * w.windowNanos()));
            assertThatThrownBy(() -> limiter.reconfigure(longer)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("limit=" + longer);
        }
        assertThat(limiter.limit()).as("a refused reconfiguration changes nothing").isEqualTo(standardLimit());
        assertThat(limiter.availablePermits()).isEqualTo(STANDARD_MAX);
    }

    /** A fresh limiter peeks full, has everything available, and peeking takes nothing. */
    @Test
    public void peekAndAvailableOnAFreshLimiterConsumeNothing() {
        Run run = standardRun();
        Decision one = run.peek(1);
        for (int i = 0; i < 3; i++) {
            assertThat(run.peek(STANDARD_MAX).isAllowed()).isTrue();
            assertThat(run.peek(1)).isEqualTo(one);
            assertThat(run.available()).isEqualTo(STANDARD_MAX);
        }
        assertThat(run.peek(STANDARD_MAX + 1).exceedsLimit()).isTrue();
        assertThat(run.decide(STANDARD_MAX).isAllowed()).isTrue();
        assertThat(run.available()).isZero();
        Decision refusal = run.peek(1);
        assertThat(refusal.isAllowed()).isFalse();
        assertThat(run.decide(1)).isEqualTo(refusal);
    }

    /** Drain takes what is available, in one grant; with nothing available it takes nothing. */
    @Test
    public void drainTakesEverythingAvailable() {
        Run run = standardRun();
        assertThat(run.drain()).isEqualTo(STANDARD_MAX);
        assertThat(run.available()).isZero();
        run.advance(timeScale(standardLimit()) / 2);
        long available = run.available();
        assertThat(run.drain()).isEqualTo(available);
        assertThat(run.available()).isZero();
        assertThat(run.drain()).isZero();
        assertThat(run.decide(1).isAllowed()).isFalse();
    }

    /** A refund gives back what was taken, never more than full. */
    @Test
    public void refundGivesBackAtMostWhatWasConsumed() {
        Run run = standardRun();
        run.refund(5); // full already: nothing changes
        assertThat(run.available()).isEqualTo(STANDARD_MAX);
        run.decide(STANDARD_MAX);
        run.refund(4);
        run.available(); // as the model says: 4, or 0 for a queue still in debt
        run.refund(Long.MAX_VALUE / 4);
        assertThat(run.available()).isEqualTo(STANDARD_MAX);
        assertThat(run.decide(STANDARD_MAX).isAllowed()).isTrue();
    }

    /** After a reset the limiter decides as a limiter created at that instant. */
    @Test
    public void resetEqualsAFreshLimiter() {
        Run run = standardRun();
        run.decide(STANDARD_MAX);
        run.advance(timeScale(standardLimit()) / 3);
        run.decide(1);
        run.reset();
        FakeClock freshClock = new FakeClock();
        freshClock.advance(run.clock.read() - freshClock.read());
        RateLimiter fresh = create(standardLimit(), freshClock, freshClock);
        long step = Math.max(1, timeScale(standardLimit()) / 7);
        for (int i = 0; i < 12; i++) {
            long permits = 1 + i % 4;
            assertThat(run.limiter.decide(permits)).as("step %s", i).isEqualTo(fresh.decide(permits));
            run.advance(i % 3 == 0 ? step : 0);
            freshClock.advance(i % 3 == 0 ? step : 0);
        }
    }

    /** A reconfiguration to the same limit changes nothing; to another limit, {@code limit()} follows. */
    @Test
    public void reconfigureKeepsTheStateAndReportsTheNewLimit() {
        Run run = standardRun();
        run.decide(4);
        long available = run.available();
        run.reconfigure(standardLimit());
        assertThat(run.available()).isEqualTo(available);
        Limit larger = compatible(standardLimit(), limit(2 * STANDARD_MAX, 2 * STANDARD_MAX, Duration.ofSeconds(1)), 0);
        run.reconfigure(larger);
        run.available();
        run.decide(1);
        run.reconfigure(standardLimit());
        run.available();
        run.peek(1);
    }

    /** One step of {@link #operationsMatchTheReferenceModel}. */
    private record Op(long advanceNanos, int kind, long permits, Limit target, int bucketKind) {
    }

    /** @return random sequences of decisions and the new operations over this family's limits */
    @Provide
    public Arbitrary<List<Object>> operationScripts() {
        return limits().filter(this::accepts).flatMap(limit -> {
            long scale = Math.max(1, Math.min(timeScale(limit), 1L << 52));
            Arbitrary<Long> advance = Arbitraries.frequencyOf(
                    net.jqwik.api.Tuple.of(3, Arbitraries.just(0L)),
                    net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 3)),
                    net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, scale)),
                    net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(scale, 3 * scale)));
            long max = limit.maxPermits();
            Arbitrary<Long> permits = Arbitraries.frequencyOf(
                    net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(1, Math.min(max, 5))),
                    net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(1, max)),
                    net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(max + 1, max + 3)));
            Arbitrary<Op> op = net.jqwik.api.Combinators.combine(advance, Arbitraries.integers().between(0, 11),
                    permits, limits().filter(this::accepts), Arbitraries.integers().between(0, 2)).as(Op::new);
            return op.list().ofMaxSize(30).map(ops -> {
                List<Object> script = new ArrayList<>();
                script.add(limit);
                script.addAll(ops);
                return script;
            });
        });
    }

    /**
     * Random sequences of decisions, peeks, availability queries, refunds, drains, resets and
     * reconfigurations within the family agree with the reference model step for step, and a
     * peek answers exactly what the decision that follows it at the same instant answers.
     *
     * @param script the limit, then the steps
     */
    @Property(tries = 150)
    public void operationsMatchTheReferenceModel(@ForAll("operationScripts") List<Object> script) {
        Limit limit = (Limit) script.get(0);
        Run run = new Run(limit, null);
        for (Object o : script.subList(1, script.size())) {
            Op op = (Op) o;
            run.advance(op.advanceNanos());
            long permits = Math.min(op.permits(), run.limiter.limit().maxPermits() + 3);
            switch (op.kind()) {
                case 0, 1, 2 -> run.decide(permits);
                case 3 -> run.tryAcquire(permits);
                case 4 -> {
                    Decision peeked = run.peek(permits);
                    assertThat(run.decide(permits)).as("the decision after peek %s", peeked).isEqualTo(peeked);
                }
                case 5 -> run.available();
                case 6, 7 -> run.refund(permits);
                case 8 -> run.drain();
                case 9 -> run.reset();
                default -> {
                    Limit target = compatible(run.limiter.limit(), op.target(), op.bucketKind());
                    if (acceptsReconfiguration(run.limiter.limit(), target)) {
                        run.reconfigure(target);
                    }
                }
            }
        }
        run.available();
    }

    /**
     * Peeks and availability queries change nothing: a limiter asked them before every step
     * decides exactly as one that never was.
     *
     * @param script the script
     */
    @Property(tries = 150)
    public void peekChangesNothing(@ForAll("scripts") Script script) {
        FakeClock plainClock = new FakeClock();
        RateLimiter plain = create(script.limit(), plainClock, plainClock);
        FakeClock peekedClock = new FakeClock();
        RateLimiter peeked = create(script.limit(), peekedClock, peekedClock);
        for (Script.Step step : script.steps()) {
            plainClock.advance(step.advanceNanos());
            peekedClock.advance(step.advanceNanos());
            for (int i = 0; i <= step.repeats(); i++) {
                peeked.peek(step.permits());
                peeked.availablePermits();
            }
            Decision answered = peeked.peek(step.permits());
            Decision actual = peeked.decide(step.permits());
            assertThat(actual).as("the decision after its peek").isEqualTo(answered);
            assertThat(actual).as("the decision of a limiter never peeked").isEqualTo(plain.decide(step.permits()));
        }
    }

    /**
     * Reconfiguring never creates permits beyond the new limit's own: from the change on, over
     * the carried state, the grants follow the new limit's model exactly, and a reconfiguration
     * back and forth at one instant leaves the availability unchanged or lower for the buckets
     * (rounding up the full-at instant only ever takes) and the counter (counts are kept).
     *
     * @param script the limit and steps
     */
    @Property(tries = 150)
    public void reconfigurationCreatesNoPermits(@ForAll("operationScripts") List<Object> script) {
        Limit limit = (Limit) script.get(0);
        Run run = new Run(limit, null);
        for (Object o : script.subList(1, script.size())) {
            Op op = (Op) o;
            run.advance(op.advanceNanos());
            run.decide(Math.min(op.permits(), run.limiter.limit().maxPermits()));
            Limit before = run.limiter.limit();
            long available = run.available();
            Limit target = compatible(before, op.target(), op.bucketKind());
            if (!acceptsReconfiguration(before, target)) {
                continue;
            }
            run.reconfigure(target);
            run.available();
            run.reconfigure(before);
            long after = run.available();
            if (!(before instanceof SlidingWindow w && w.mode() == SlidingWindow.Mode.LOG)) {
                // A log with a shorter window forgets grants for good: going back may count fewer.
                assertThat(after).as("after %s and back to %s", target, before).isLessThanOrEqualTo(available);
            }
        }
    }

    // ------------------------------------------------------------------ properties against the model

    /** @return random scripts over this family's limits */
    @Provide
    public Arbitrary<Script> scripts() {
        return limits().filter(this::accepts)
                .flatMap(limit -> steps(limit).list().ofMaxSize(40).map(steps -> new Script(limit, steps)));
    }

    private Arbitrary<Script.Step> steps(Limit limit) {
        long scale = Math.max(1, Math.min(timeScale(limit), 1L << 52));
        long max = limit.maxPermits();
        Arbitrary<Long> advance = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(1, 3)),
                net.jqwik.api.Tuple.of(5, Arbitraries.longs().between(1, scale)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(scale, 4 * scale)));
        Arbitrary<Long> permits = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(1, Math.min(max, 5))),
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(1, max)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(max + 1, max + 3)));
        Arbitrary<Script.Kind> kind = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Script.Kind.DECIDE)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Script.Kind.TRY_ACQUIRE)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Script.Kind.BLOCKING)));
        Arbitrary<Long> timeout = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(0, scale)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Long.MAX_VALUE)));
        return net.jqwik.api.Combinators.combine(advance, permits, kind, timeout, Arbitraries.integers().between(0, 2))
                .as(Script.Step::new);
    }

    /**
     * Every decision, {@code tryAcquire} and blocking acquire of a random script agrees with the
     * reference model: allowed, remaining, retry-after, reset, and the time waited.
     *
     * @param script the script
     * @throws InterruptedException never: the fake clock does not interrupt
     */
    @Property(tries = 1000)
    public void decisionsMatchTheReferenceModel(@ForAll("scripts") Script script) throws InterruptedException {
        Run run = new Run(script.limit(), null);
        for (Script.Step step : script.steps()) {
            run.advance(step.advanceNanos());
            switch (step.kind()) {
                case DECIDE -> run.decide(step.permits());
                case TRY_ACQUIRE -> run.tryAcquire(step.permits());
                case BLOCKING -> run.acquire(step.permits(), step.timeoutNanos());
                default -> throw new AssertionError(step.kind());
            }
        }
    }

    /**
     * Asking again for refused permits, at the same instant, gets the same refusal and changes
     * nothing: the rest of the script decides exactly as without the repeats.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void rejectedRequestConsumesNothing(@ForAll("scripts") Script script) {
        FakeClock plainClock = new FakeClock();
        RateLimiter plain = create(script.limit(), plainClock, plainClock);
        FakeClock repeatingClock = new FakeClock();
        RateLimiter repeating = create(script.limit(), repeatingClock, repeatingClock);
        for (Script.Step step : script.steps()) {
            plainClock.advance(step.advanceNanos());
            repeatingClock.advance(step.advanceNanos());
            Decision expected = plain.decide(step.permits());
            Decision actual = repeating.decide(step.permits());
            assertThat(actual).isEqualTo(expected);
            if (!actual.isAllowed()) {
                for (int i = 0; i <= step.repeats(); i++) {
                    assertThat(repeating.decide(step.permits())).as("repeat %s", i).isEqualTo(actual);
                    assertThat(repeating.tryAcquire(step.permits())).isFalse();
                }
            }
        }
    }

    /**
     * A refused request's retry-after is exact: 1 ns earlier the same request is still refused,
     * at retry-after it is granted (when nobody else takes permits meanwhile).
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void retryAfterIsExactlyWhenTheRequestSucceeds(@ForAll("scripts") Script script) {
        Run run = new Run(script.limit(), null);
        for (Script.Step step : script.steps()) {
            run.advance(step.advanceNanos());
            Decision d = run.decide(step.permits());
            if (d.isAllowed() || d.exceedsLimit() || step.repeats() == 0) {
                continue;
            }
            run.advance(d.retryAfterNanos() - 1);
            assertThat(run.decide(step.permits()).isAllowed()).as("1 ns before retry-after of %s", d).isFalse();
            run.advance(1);
            assertThat(run.decide(step.permits()).isAllowed()).as("at retry-after of %s", d).isTrue();
        }
    }

    /**
     * {@code remaining} is exactly what can be taken at once, and {@code reset} exactly when the
     * limiter is full again: 1 ns before, its largest request is refused; at reset, granted.
     *
     * @param script the script
     */
    @Property(tries = 1000)
    public void remainingAndResetAgreeWithTheNextCalls(@ForAll("scripts") Script script) {
        Run run = new Run(script.limit(), null);
        long max = script.limit().maxPermits();
        for (Script.Step step : script.steps()) {
            run.advance(step.advanceNanos());
            Decision d = run.decide(step.permits());
            long remaining = d.remaining();
            assertThat(remaining).isBetween(0L, max);
            if (remaining < max) {
                assertThat(run.decide(remaining + 1).isAllowed()).as("remaining + 1 after %s", d).isFalse();
            }
            if (remaining > 0 && step.repeats() == 1) {
                assertThat(run.decide(remaining).isAllowed()).as("remaining after %s", d).isTrue();
            }
        }
        Decision last = run.decide(1);
        long reset = last.resetNanos();
        if (reset > 0) {
            run.advance(reset - 1);
            assertThat(run.decide(max).isAllowed()).as("1 ns before reset of %s", last).isFalse();
            run.advance(1);
        }
        assertThat(run.decide(max).isAllowed()).as("at reset of %s", last).isTrue();
    }

    /**
     * Runs a script with {@code decide}, recording every grant as {time, permits} with time
     * relative to the limiter's creation.
     *
     * @param script the script
     * @return the grants, in time order
     */
    protected List<long[]> grants(Script script) {
        FakeClock clock = new FakeClock();
        long origin = clock.read();
        RateLimiter limiter = create(script.limit(), clock, clock);
        List<long[]> grants = new ArrayList<>();
        for (Script.Step step : script.steps()) {
            clock.advance(step.advanceNanos());
            for (int i = 0; i <= step.repeats(); i++) {
                if (limiter.tryAcquire(step.permits())) {
                    grants.add(new long[] {clock.read() - origin, step.permits()});
                }
            }
        }
        return grants;
    }
}

package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/*
 * The GCRA (see GcraLimiter) for the rates whose period is not a whole number of nanoseconds per
 * permit (3 per second, 7 per minute), counted exactly: no rounding at all.
 *
 * Rate. R permits per P ns, reduced by their gcd to r permits per p ns (r > 1 here: when r == 1
 * a permit costs p whole nanoseconds and GcraLimiter is exact already). A permit costs T = p / r
 * ns, a fraction.
 *
 * State. An immutable State (f, q): the bucket is full again at the relative time f + q / r
 * exactly, with 0 <= q < r. It is read with a volatile read and replaced only by a CAS on the
 * reference (VarHandle.compareAndSet). FULL, the initial state, is full at every reading, as an
 * absent Redis key is: a reading before the limiter's creation finds it full too. Two more
 * sentinels, compared by identity: RETIRED_STATE (terminal, set by retireIfFull) and SATURATED
 * (the full-at time overflowed a long; nothing more is granted, see GcraLimiter).
 *
 * Decision. At relative time rel the debt, in units of 1 / r ns, is D = (f - rel) * r + q when
 * that is positive, else 0; the bucket then holds C - D / p permits. Grant n <= C iff
 * D <= (C - n) * p. With (C - n) * p = a * r + b (0 <= b < r) and D = d * r + q, that is
 * d < a, or d == a and q <= b: two long comparisons, no 128-bit product. On grant the full-at time
 * moves to max(f + q / r, rel) + n * p / r, kept as a whole part and a remainder: with
 * n * p = s * r + t, (f + s, q + t), carrying one nanosecond when q + t >= r. So C single permits
 * pass from full, remaining counts down by one, and the long-run rate is exactly R per P. The
 * queue grants an immediate request only at D == 0.
 *
 * Reported times are whole nanoseconds: the retry-after is the smallest whole wait w after which
 * the test passes, d - a (plus one when q > b); the reset is ceil(D / r). The same rules, and so
 * the same answers, as gcra.lua in its exact mode.
 *
 * The bound and its proof are GcraLimiter's, with (1) now exact: f_i = max(f_{i-1}, r_i) + n_i * T.
 * Time going backwards, reservations, memory ordering and progress are as there: a refusal
 * writes nothing and allocates nothing; a grant allocates one State and makes one CAS, retried
 * with the same reading only when another thread's CAS succeeded.
 *
 * Replacement (see GcraLimiter and Swaps). A successor of this rate takes a full-at instant
 * f + q / rq from another rate by rounding the remainder up to this one's resolution:
 * (f, ceil(q * r / rq)), carrying into f when that reaches r. A refund of n subtracts
 * n * p / r = (s, t) exactly, borrowing from f, and clamps at (now, 0).
 */

/**
 * The in-process GCRA limiters of {@link TokenBucket} and {@link LeakyBucket} for rates whose
 * permit cost is not a whole number of nanoseconds, counted exactly. Thread-safe and lock-free;
 * a refusal writes and allocates nothing, a grant allocates one small immutable state.
 */
final class ExactGcraLimiter extends LocalLimiter {

    /** A full-at time {@code f + q / r} relative nanoseconds, {@code 0 <= q < r}. Immutable. */
    static final class State {
        final long f;
        final long q;

        State(long f, long q) {
            this.f = f;
            this.q = q;
        }
    }

    /** Full at every reading: the initial state. */
    static final State FULL = new State(Long.MIN_VALUE + 1, 0);
    /** The terminal state of a limiter retired by its keyed owner. */
    static final State RETIRED_STATE = new State(Long.MIN_VALUE, 0);
    /** The state of a limiter whose full-at time overflowed a {@code long}; it grants nothing more. */
    static final State SATURATED = new State(Long.MAX_VALUE, 0);

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ExactGcraLimiter.class, "state", State.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Limit limit;
    private final boolean queue;
    /** C: the capacity, burst or queue capacity. */
    private final long capacity;
    /** r: permits per {@link #p} nanoseconds, reduced. */
    private final long r;
    /** p: the reduced period, in nanoseconds. */
    private final long p;
    private final long origin;
    /** One permit's cost, {@code p = s1 * r + t1}. */
    private final long s1;
    private final long t1;
    /** {@code (C - 1) * p = a1 * r + b1}: the largest debt at which one permit is grantable. */
    private final long a1;
    private final long b1;

    private volatile State state = FULL;

    private ExactGcraLimiter(Limit limit, boolean queue, long capacity, long permits, long periodNanos,
                             Ticker ticker, Sleeper sleeper, long origin) {
        super(ticker, sleeper);
        this.limit = limit;
        this.queue = queue;
        this.capacity = capacity;
        long g = gcd(permits, periodNanos);
        this.r = permits / g;
        this.p = periodNanos / g;
        this.origin = origin;
        this.s1 = p / r;
        this.t1 = p % r;
        this.a1 = Math128.floorMulDiv(capacity - 1, p, r);
        this.b1 = Math128.remainder(capacity - 1, p, r, a1);
    }

    /**
     * @param permits     R, {@code > 0}
     * @param periodNanos P, {@code > 0}
     * @return whether one permit costs a whole number of nanoseconds ({@link GcraLimiter} is then exact)
     */
    static boolean wholeNanosPerPermit(long permits, long periodNanos) {
        return periodNanos % permits == 0;
    }

    /** A token bucket, full at every reading. */
    static ExactGcraLimiter tokenBucket(TokenBucket limit, Ticker ticker, Sleeper sleeper, long origin) {
        Objects.requireNonNull(limit, "limit");
        return new ExactGcraLimiter(limit, false, limit.capacity(), limit.refillPermits(),
                limit.refillPeriodNanos(), ticker, sleeper, origin);
    }

    /** A leaky bucket (meter or queue), empty at every reading. */
    static ExactGcraLimiter leakyBucket(LeakyBucket limit, Ticker ticker, Sleeper sleeper, long origin) {
        Objects.requireNonNull(limit, "limit");
        return new ExactGcraLimiter(limit, limit.mode() == LeakyBucket.Mode.QUEUE, limit.capacity(),
                limit.permits(), limit.periodNanos(), ticker, sleeper, origin);
    }

    @Override
    void fullOnlyFromOrigin() {
        state = new State(0, 0);
    }

    @Override
    int tryAcquireAt(long n, long now) {
        long rel = now - origin;
        if (n == 1) {
            return tryAcquireOneAt(rel);
        }
        if (n > capacity) {
            return state == RETIRED_STATE ? RETIRED : DENIED;
        }
        long a = Math128.floorMulDiv(capacity - n, p, r);
        long s = Math128.floorMulDiv(n, p, r);
        return tryAcquireWith(rel, a, Math128.remainder(capacity - n, p, r, a), s, Math128.remainder(n, p, r, s));
    }

    /** {@link #tryAcquireAt} for one permit, with the divisions precomputed. */
    private int tryAcquireOneAt(long rel) {
        return tryAcquireWith(rel, a1, b1, s1, t1);
    }

    /**
     * The grant test and CAS for a request whose {@code (C - n) * p = a * r + b} and
     * {@code n * p = s * r + t}.
     */
    private int tryAcquireWith(long rel, long a, long b, long s, long t) {
        while (true) {
            State st = state;
            if (st == RETIRED_STATE) {
                return RETIRED;
            }
            if (st == SATURATED) {
                return DENIED;
            }
            boolean debt = inDebt(st, rel);
            if (debt && (queue || !fits(st, rel, a, b))) {
                return DENIED;
            }
            if (STATE.compareAndSet(this, st, charged(st, debt, rel, s, t))) {
                return ALLOWED;
            }
            Backoff.spin();
        }
    }

    @Override
    Decision decideAt(long n, long now) {
        long rel = now - origin;
        long a = 0;
        long b = 0;
        long s = 0;
        long t = 0;
        if (n <= capacity) {
            a = Math128.floorMulDiv(capacity - n, p, r);
            b = Math128.remainder(capacity - n, p, r, a);
            s = Math128.floorMulDiv(n, p, r);
            t = Math128.remainder(n, p, r, s);
        }
        while (true) {
            State st = state;
            if (st == RETIRED_STATE) {
                return RETIRED_DECISION;
            }
            boolean debt = inDebt(st, rel);
            long reset = debt ? untilFull(st, rel) : 0;
            if (n > capacity) {
                return Decision.exceeding(n, remaining(st, rel), reset, capacity);
            }
            if (st == SATURATED) {
                return Decision.denied(n, 0, Math.max(1, reset), reset, capacity);
            }
            if (debt && queue) {
                return Decision.denied(n, 0, reset, reset, capacity);
            }
            if (debt && !fits(st, rel, a, b)) {
                return Decision.denied(n, remaining(st, rel), waitToFit(st, rel, a, b), reset, capacity);
            }
            State next = charged(st, debt, rel, s, t);
            if (STATE.compareAndSet(this, st, next)) {
                // A grant costs n * p / r > 0 ns: the state it writes is in debt at rel.
                return Decision.allowed(n, remaining(next, rel), untilFull(next, rel), capacity);
            }
            Backoff.spin();
        }
    }

    @Override
    boolean retireIfFull(long now) {
        long rel = now - origin;
        while (true) {
            State st = state;
            if (st == RETIRED_STATE) {
                return true;
            }
            if (st == SATURATED || inDebt(st, rel)) {
                return false;
            }
            if (STATE.compareAndSet(this, st, RETIRED_STATE)) {
                return true;
            }
        }
    }

    /**
     * Reserves the permits if their slot comes within the timeout, then sleeps until it comes,
     * as {@link GcraLimiter} does.
     */
    @Override
    int acquireBlocking(long n, long timeoutNanos) throws InterruptedException {
        long rel = ticker.read() - origin;
        if (n > capacity) {
            return state == RETIRED_STATE ? RETIRED : DENIED;
        }
        long a = Math128.floorMulDiv(capacity - n, p, r);
        long b = Math128.remainder(capacity - n, p, r, a);
        long s = Math128.floorMulDiv(n, p, r);
        long t = Math128.remainder(n, p, r, s);
        State reserved;
        State replaced;
        long wait;
        while (true) {
            State st = state;
            if (st == RETIRED_STATE) {
                return RETIRED;
            }
            if (st == SATURATED) {
                return DENIED;
            }
            wait = 0;
            boolean debt = inDebt(st, rel);
            if (debt) {
                if (queue) {
                    // The permits waiting, this request included, must fit the queue.
                    if (!fits(st, rel, a, b)) {
                        return DENIED;
                    }
                    wait = untilFull(st, rel);
                } else if (!fits(st, rel, a, b)) {
                    wait = waitToFit(st, rel, a, b);
                }
                if (wait > timeoutNanos) {
                    return DENIED;
                }
            }
            State next = charged(st, debt, rel, s, t);
            if (STATE.compareAndSet(this, st, next)) {
                reserved = next;
                replaced = st;
                break;
            }
        }
        State written = reserved;
        State previous = replaced;
        // Give the reservation back if nothing was written after it; else forfeit it.
        return awaitSlot(origin, Math128.saturatedAdd(rel, wait),
                () -> STATE.compareAndSet(this, written, previous));
    }

    @Override
    Object snapshot(long now) {
        State st = state;
        return st == RETIRED_STATE ? null : st;
    }

    @Override
    boolean retireFrom(Object snapshot) {
        return STATE.compareAndSet(this, (State) snapshot, RETIRED_STATE);
    }

    @Override
    LocalLimiter successorFrom(Object snapshot, Limit next, long refund, long now) {
        State st = (State) snapshot;
        LocalLimiter successor = LocalRateLimiters.newLimiter(next, ticker, sleeper, origin);
        successor.carryFullAt(st.f, st.q, r, refund, now);
        return successor;
    }

    /**
     * Sets this unpublished limiter's full-at instant to {@code f + q / rq} (a remainder this rate
     * cannot express rounded up), or the sentinel {@code f} stands for, then moves it back by the
     * cost of {@code refund} permits, not before {@code now}.
     */
    @Override
    void carryFullAt(long f, long q, long rq, long refund, long now) {
        if (f == FULL.f) {
            state = FULL;
            return;
        }
        if (f == SATURATED.f) {
            state = SATURATED;
            return;
        }
        long nq = q == 0 ? 0 : Math128.ceilMulDiv(q, r, rq);
        State st = nq >= r ? advance(f, 0, 1, 0) : new State(f, nq);
        long rel = now - origin;
        if (refund > 0 && st != SATURATED && inDebt(st, rel)) {
            long s = Math128.floorMulDiv(refund, p, r);
            long t = Math128.remainder(refund, p, r, s);
            long d = Math128.saturatedSubtract(st.f, rel);
            if (s > d || (s == d && t >= st.q)) {
                st = new State(rel, 0);
            } else {
                long bf = st.f - s;
                long bq = st.q - t;
                if (bq < 0) {
                    bq += r;
                    bf -= 1;
                }
                st = new State(bf, bq);
            }
        }
        state = st;
    }

    /** Whether state {@code st} (not a sentinel) is not full at {@code rel}: {@code f + q / r > rel}. */
    private static boolean inDebt(State st, long rel) {
        return st.f > rel || (st.f == rel && st.q > 0);
    }

    /**
     * For a state in debt: whether {@code D <= a * r + b}, i.e. the permits whose
     * {@code (C - n) * p} is {@code a * r + b} fit.
     */
    private static boolean fits(State st, long rel, long a, long b) {
        long d = Math128.saturatedSubtract(st.f, rel);
        return d < a || (d == a && st.q <= b);
    }

    /**
     * For a state in debt whose request does not fit: the smallest whole wait {@code w} after
     * which it does, {@code d - a}, plus one when {@code q > b}.
     */
    private static long waitToFit(State st, long rel, long a, long b) {
        return Math128.saturatedAdd(Math128.saturatedSubtract(st.f, rel) - a, st.q > b ? 1 : 0);
    }

    /**
     * The state after a grant costing {@code n * p = s * r + t} at {@code rel}: from the full-at
     * time when the state is in debt ({@code debt == inDebt(st, rel)}), else from {@code rel}.
     */
    private State charged(State st, boolean debt, long rel, long s, long t) {
        return debt ? advance(st.f, st.q, s, t) : advance(rel, 0, s, t);
    }

    /** For a state in debt: {@code ceil(D / r)}, the whole nanoseconds until it is full. */
    private static long untilFull(State st, long rel) {
        return Math128.saturatedAdd(Math128.saturatedSubtract(st.f, rel), st.q > 0 ? 1 : 0);
    }

    /** The state {@code (f, q) + (s, t)}, carrying the remainder; {@link #SATURATED} on overflow. */
    private State advance(long f, long q, long s, long t) {
        long nf = Math128.saturatedAdd(f, s);
        long nq = q + t;
        if (nq >= r) {
            nq -= r;
            nf = Math128.saturatedAdd(nf, 1);
        }
        return nf == Long.MAX_VALUE ? SATURATED : new State(nf, nq);
    }

    /** The permits grantable at once in state {@code st} at {@code rel}: {@code C - ceil(D / p)}, at least 0. */
    private long remaining(State st, long rel) {
        if (st == SATURATED) {
            return 0;
        }
        if (!inDebt(st, rel)) {
            return capacity;
        }
        if (queue) {
            return 0;
        }
        long d = Math128.saturatedSubtract(st.f, rel);
        return Math.max(0, capacity - Math128.ceilMulAddDiv(d, r, st.q, p));
    }

    private static long gcd(long x, long y) {
        while (y != 0) {
            long m = x % y;
            x = y;
            y = m;
        }
        return x;
    }

    @Override
    public Limit limit() {
        return limit;
    }
}

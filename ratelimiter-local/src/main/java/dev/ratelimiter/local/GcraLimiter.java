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
 * The generic cell rate algorithm (GCRA) over one long: the token bucket, the leaky bucket meter
 * and the leaky bucket queue.
 *
 * State. One volatile long F, "the time at which the bucket is full again", in nanoseconds
 * relative to the origin (the ticker reading at construction). F == FULL initially (Long.MIN_VALUE
 * + 1: full at every reading, as an absent Redis key is, so a reading before the limiter's
 * creation finds it full too). The
 * debt at relative time now is max(0, F - now). With R permits per P ns, capacity C (the burst
 * of a meter, the queue capacity Q of a queue) and T = P / R, a real number, the bucket holds
 * C - debt / T permits. Two values are sentinels, both outside what the algorithm writes in
 * ordinary use:
 *   - RETIRED_STATE (Long.MIN_VALUE; F is otherwise above it): terminal, set by retireIfFull.
 *   - SATURATED (Long.MAX_VALUE): F overflowed (more than 2^63 ns of debt, which needs a refill
 *     time from empty above ~292 years, e.g. capacity 2^62 at one permit per second). The true
 *     debt is then unknown and larger than any long, so a saturated limiter grants nothing.
 *     Saturating the other way (keeping F at Long.MAX_VALUE but honouring the exact test on it)
 *     would record less debt than was taken and grant permits the limit does not allow.
 *
 * Decision (token bucket and meter). Grant n <= C at now iff debt * R + n * P <= C * P, i.e.
 * debt * R <= (C - n) * P, compared exactly in 128 bits (Math128). On grant,
 * F' = max(F, now) + cost(n) with cost(n) = ceil(n * P / R), saturating. The queue grants an
 * immediate request only when debt == 0, so two immediate grants are at least cost(n) apart.
 *
 * Bound. Over any interval [a, b] of the clock, whatever the starting state and even if the
 * clock goes backwards inside it, the permits admitted total at most C + (b - a) * R / P.
 * Proof: number the grants 1..k in the order of their successful CAS; F_0 is the state before
 * the first, F_i the state after the i-th, r_i the clock reading it decided with, and s_i its
 * admission time: r_i for an immediate grant, r_i + wait for a blocking one; all s_i in [a, b].
 * The exact test, in real numbers, says (F_{i-1} - s_i)^+ <= (C - n_i) * T.
 * (1) F_i >= max(F_{i-1}, r_i) + n_i * T, because cost(n) rounds n * T up (and saturation leaves
 *     F at SATURATED, where nothing more is granted). In particular F_i >= F_{i-1} + n_i * T.
 * (2) max(F_0, r_1) >= s_1 >= a: trivially when s_1 == r_1. With a positive wait, s_1 is the
 *     first time the test passes, so it fails at s_1 - 1: F_0 - s_1 + 1 > (C - n_1) * T >= 0,
 *     hence F_0 >= s_1 (integers).
 * So F_{k-1} >= a + (n_1 + ... + n_{k-1}) * T, and the k-th test gives
 * F_{k-1} <= s_k + (C - n_k) * T <= b + (C - n_k) * T. Together: n_1 + ... + n_k <= C + (b - a) / T.
 * Hence from full, over any time t, at most C + floor(t * R / P) permits; and a request of
 * exactly C is granted from full (debt 0 passes the test). The queue admits at debt 0 only, so
 * the same holds with C = Q. This class serves only the rates with P % R == 0: cost(n) == n * T,
 * no rounding, and the bucket is exact. The other rates go to ExactGcraLimiter, which keeps the
 * fraction of a nanosecond in its state.
 *
 * Time going backwards. A smaller now only makes max(0, F - now) larger and max(F, now) equal
 * to F: it never creates permits. Relative time is the wrapping difference
 * ticker.read() - origin, the System.nanoTime() idiom, so a ticker that wraps around
 * Long.MAX_VALUE keeps measuring time.
 *
 * Memory ordering and progress. F is read with a volatile read and written only by CAS
 * (VarHandle.compareAndSet, volatile semantics). The next state is a pure function of
 * (F, now, request): a denial writes nothing; a grant is one CAS, retried on failure after
 * re-reading F with the same now (the clock is read once per decision). A CAS fails only
 * because another thread's CAS succeeded, so the retry loop is lock-free and cannot livelock.
 * After a failed CAS the thread spins for a few microseconds (Backoff) before it re-reads F:
 * the winner keeps the cache line for its next grants instead of losing it on every call.
 * Benign race: two threads whose clock readings are out of order may both be granted in the
 * order opposite to their readings; each grant still passes the exact test against the state it
 * replaced, so the bound above holds for the interval spanned by their readings.
 *
 * Reservations. A blocking acquire reserves by CAS (the bucket may go into debt beyond C * T,
 * the queue up to Q * T) and then sleeps until its slot time; other callers see the debt and
 * wait behind it. If the wait ends by an exception before the slot time, the reservation is
 * given back only if it is still the last thing written: one CAS from the state it wrote back to
 * the state it replaced. That restores exactly the state the limiter would have had without it.
 * If anything was granted or reserved after it, the reservation is forfeited instead: later
 * grants were computed on top of it (a later queue waiter holds the next slot, a later grant may
 * have clipped at its own clock reading), so subtracting it could hand out the same slot twice.
 * Forfeiting only under-admits. An exception arriving once the slot has come keeps the permits:
 * an interrupt is then re-asserted on the thread and the acquire succeeds. Retirement by a keyed
 * owner's sweep needs F <= now, so a limiter with a pending reservation is not swept in the
 * meantime. A replacement (Swaps: reconfigure, refund, reset) retires it in any state: its
 * successor carries F, pending reservations included, and the give-back CAS then fails on the
 * retired word, so the reservation is forfeited (under-admitting only).
 *
 * Replacement. The successor's F is the same instant (relative to the same origin); from the exact
 * limiter's F + q / r it is rounded up to a whole nanosecond, the only rounding, which takes a
 * fraction of a nanosecond of refill and never gives one. A refund of n moves F back by cost(n),
 * not before now: F' = max(now, F - cost(n)), only when in debt (SATURATED stays saturated).
 */

/**
 * The in-process GCRA limiters: the {@link TokenBucket}, and the {@link LeakyBucket} as a meter
 * (identical to a token bucket whose capacity is the burst) and as a queue (admissions evenly
 * spaced). Thread-safe; {@code tryAcquire} and {@code decide} are lock-free, read the clock once,
 * write nothing when they refuse and make one CAS when they grant; {@code tryAcquire} allocates
 * nothing. Blocking acquires reserve their slot and sleep until it comes.
 *
 * <pre>{@code
 * RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(10, 5, Duration.ofSeconds(1)));
 * Decision d = limiter.decide(1);
 * }</pre>
 */
final class GcraLimiter extends LocalLimiter {

    /** The state of a retired limiter; every other state is above it. */
    static final long RETIRED_STATE = Long.MIN_VALUE;

    /** The state of a limiter whose debt overflowed a {@code long}; it grants nothing more. */
    static final long SATURATED = Long.MAX_VALUE;

    /** The initial state: full at every reading, as an absent Redis key is. */
    static final long FULL = Long.MIN_VALUE + 1;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(GcraLimiter.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Limit limit;
    /** Whether this is a leaky bucket queue (immediate grants only at zero debt). */
    private final boolean queue;
    /** C: the token bucket capacity, the meter's burst or the queue capacity. */
    private final long capacity;
    /** R: permits per period. */
    private final long permits;
    /** P: the period, in nanoseconds. */
    private final long periodNanos;
    /** The ticker reading at construction; states and times are relative to it. */
    private final long origin;

    /** cost(1), precomputed: single-permit requests, the common case, then need no division. */
    private final long costOfOne;
    /**
     * The largest debt at which one permit is grantable at once: floor((C - 1) * P / R) for the
     * bucket and meter (debt * R <= (C - 1) * P holds for an integer debt exactly when debt is at
     * most that quotient), 0 for the queue.
     */
    private final long maxDebtForOne;

    /** F: the relative time at which the bucket is full again, or a sentinel. */
    private volatile long state;

    private GcraLimiter(Limit limit, boolean queue, long capacity, long permits, long periodNanos,
                        Ticker ticker, Sleeper sleeper, long origin) {
        super(ticker, sleeper);
        this.limit = limit;
        this.queue = queue;
        this.capacity = capacity;
        this.permits = permits;
        this.periodNanos = periodNanos;
        this.origin = origin;
        this.costOfOne = Math128.ceilMulDiv(1, periodNanos, permits);
        this.maxDebtForOne = queue ? 0 : Math128.floorMulDiv(capacity - 1, periodNanos, permits);
        this.state = FULL;
    }

    /**
     * A token bucket limiter, starting full.
     *
     * @param limit   the limit
     * @param ticker  the clock
     * @param sleeper how blocking acquires wait
     * @return the limiter
     * @throws NullPointerException if an argument is {@code null}
     */
    static GcraLimiter tokenBucket(TokenBucket limit, Ticker ticker, Sleeper sleeper) {
        return tokenBucket(limit, ticker, sleeper, Objects.requireNonNull(ticker, "ticker").read());
    }

    /** Like {@link #tokenBucket(TokenBucket, Ticker, Sleeper)}, full at ticker reading {@code origin}. */
    static GcraLimiter tokenBucket(TokenBucket limit, Ticker ticker, Sleeper sleeper, long origin) {
        Objects.requireNonNull(limit, "limit");
        return new GcraLimiter(limit, false, limit.capacity(), limit.refillPermits(),
                limit.refillPeriodNanos(), ticker, sleeper, origin);
    }

    /**
     * A leaky bucket limiter (meter or queue), starting empty (a meter's whole burst is available).
     *
     * @param limit   the limit
     * @param ticker  the clock
     * @param sleeper how blocking acquires wait
     * @return the limiter
     * @throws NullPointerException if an argument is {@code null}
     */
    static GcraLimiter leakyBucket(LeakyBucket limit, Ticker ticker, Sleeper sleeper) {
        return leakyBucket(limit, ticker, sleeper, Objects.requireNonNull(ticker, "ticker").read());
    }

    /** Like {@link #leakyBucket(LeakyBucket, Ticker, Sleeper)}, empty at ticker reading {@code origin}. */
    static GcraLimiter leakyBucket(LeakyBucket limit, Ticker ticker, Sleeper sleeper, long origin) {
        Objects.requireNonNull(limit, "limit");
        return new GcraLimiter(limit, limit.mode() == LeakyBucket.Mode.QUEUE, limit.capacity(),
                limit.permits(), limit.periodNanos(), ticker, sleeper, origin);
    }

    @Override
    void fullOnlyFromOrigin() {
        state = 0;
    }

    @Override
    int tryAcquireAt(long n, long now) {
        long rel = now - origin;
        if (n == 1) {
            return tryAcquireOneAt(rel);
        }
        while (true) {
            long f = state;
            if (f == RETIRED_STATE) {
                return RETIRED;
            }
            if (n > capacity || f == SATURATED) {
                return DENIED;
            }
            long debt = debt(f, rel);
            if (!grantableNow(debt, n)) {
                return DENIED;
            }
            long next = Math128.saturatedAdd(Math.max(f, rel), cost(n));
            if (STATE.compareAndSet(this, f, next)) {
                return ALLOWED;
            }
            Backoff.spin();
        }
    }

    /** {@link #tryAcquireAt} for one permit: the same test, with the divisions precomputed. */
    private int tryAcquireOneAt(long rel) {
        while (true) {
            long f = state;
            if (f == RETIRED_STATE) {
                return RETIRED;
            }
            if (f == SATURATED || debt(f, rel) > maxDebtForOne) {
                return DENIED;
            }
            if (STATE.compareAndSet(this, f, Math128.saturatedAdd(Math.max(f, rel), costOfOne))) {
                return ALLOWED;
            }
            Backoff.spin();
        }
    }

    @Override
    Decision decideAt(long n, long now) {
        long rel = now - origin;
        while (true) {
            long f = state;
            if (f == RETIRED_STATE) {
                return RETIRED_DECISION;
            }
            long debt = debt(f, rel);
            if (n > capacity) {
                return Decision.exceeding(n, remaining(f, debt), debt, capacity);
            }
            if (f == SATURATED) {
                return Decision.denied(n, 0, Math.max(1, debt), debt, capacity);
            }
            if (!grantableNow(debt, n)) {
                return Decision.denied(n, remaining(f, debt), retryAfter(debt, n), debt, capacity);
            }
            long next = Math128.saturatedAdd(Math.max(f, rel), cost(n));
            if (STATE.compareAndSet(this, f, next)) {
                long debtAfter = debt(next, rel);
                return Decision.allowed(n, remaining(next, debtAfter), debtAfter, capacity);
            }
            Backoff.spin();
        }
    }

    @Override
    boolean retireIfFull(long now) {
        long rel = now - origin;
        while (true) {
            long f = state;
            if (f == RETIRED_STATE) {
                return true;
            }
            if (f == SATURATED || f > rel) {
                return false;
            }
            if (STATE.compareAndSet(this, f, RETIRED_STATE)) {
                return true;
            }
        }
    }

    /**
     * Reserves the permits if their slot comes within the timeout, then sleeps until it comes.
     * A refusal consumes nothing; a wait that ends by an exception before the slot gives the
     * reservation back.
     */
    @Override
    int acquireBlocking(long n, long timeoutNanos) throws InterruptedException {
        long rel = ticker.read() - origin;
        long slot;
        long reserved;
        long replaced;
        while (true) {
            long f = state;
            if (f == RETIRED_STATE) {
                return RETIRED;
            }
            if (n > capacity || f == SATURATED) {
                return DENIED;
            }
            long debt = debt(f, rel);
            long wait;
            if (queue) {
                // The permits waiting, this request included, must fit the queue.
                if (Math128.compareProducts(debt, permits, capacity - n, periodNanos) > 0) {
                    return DENIED;
                }
                wait = debt;
            } else {
                wait = Math.max(0, debt - Math128.floorMulDiv(capacity - n, periodNanos, permits));
            }
            if (wait > timeoutNanos) {
                return DENIED;
            }
            long base = Math.max(f, rel);
            long next = Math128.saturatedAdd(base, cost(n));
            if (STATE.compareAndSet(this, f, next)) {
                slot = Math128.saturatedAdd(rel, wait);
                reserved = next;
                replaced = f;
                break;
            }
        }
        // Give the reservation back if nothing was written after it; else forfeit it.
        long written = reserved;
        long previous = replaced;
        return awaitSlot(origin, slot, () -> STATE.compareAndSet(this, written, previous));
    }

    @Override
    Object snapshot(long now) {
        long f = state;
        return f == RETIRED_STATE ? null : Long.valueOf(f);
    }

    @Override
    boolean retireFrom(Object snapshot) {
        return STATE.compareAndSet(this, (long) (Long) snapshot, RETIRED_STATE);
    }

    @Override
    LocalLimiter successorFrom(Object snapshot, Limit next, long refund, long now) {
        LocalLimiter successor = LocalRateLimiters.newLimiter(next, ticker, sleeper, origin);
        successor.carryFullAt((Long) snapshot, 0, 1, refund, now);
        return successor;
    }

    /**
     * Sets this unpublished limiter's full-at instant to {@code f + q / r} (rounded up to a whole
     * nanosecond), or the sentinel {@code f} stands for, then moves it back by the cost of
     * {@code refund} permits, not before {@code now}.
     */
    @Override
    void carryFullAt(long f, long q, long r, long refund, long now) {
        long rel = now - origin;
        long next;
        if (f == FULL || f == SATURATED) {
            next = f;
        } else {
            next = q > 0 ? Math128.saturatedAdd(f, 1) : f;
            if (refund > 0 && next != SATURATED && next > rel) {
                next = Math.max(rel, Math128.saturatedSubtract(next, cost(refund)));
            }
        }
        state = next;
    }

    /** The debt of state {@code f} (not a sentinel) at relative time {@code rel}, saturated. */
    private static long debt(long f, long rel) {
        return f <= rel ? 0 : Math128.saturatedSubtract(f, rel);
    }

    /** Whether {@code n <= capacity} permits may be granted without waiting at this debt. */
    private boolean grantableNow(long debt, long n) {
        if (queue) {
            return debt == 0;
        }
        return Math128.compareProducts(debt, permits, capacity - n, periodNanos) <= 0;
    }

    /** The nanoseconds {@code n} permits add to the state: {@code ceil(n * P / R)}, saturated. */
    private long cost(long n) {
        return Math128.ceilMulDiv(n, periodNanos, permits);
    }

    /** The permits grantable at once in state {@code f} with this debt. */
    private long remaining(long f, long debt) {
        if (f == SATURATED) {
            return 0;
        }
        if (queue) {
            return debt == 0 ? capacity : 0;
        }
        // floor((C * P - debt * R) / P) == C - ceil(debt * R / P)
        return Math.max(0, capacity - Math128.ceilMulDiv(debt, permits, periodNanos));
    }

    /** For a refused {@code n <= capacity}: the least wait after which it would be granted. */
    private long retryAfter(long debt, long n) {
        if (queue) {
            return debt;
        }
        // ceil((debt * R - (C - n) * P) / R) == debt - floor((C - n) * P / R); positive, since
        // the request was refused: debt * R > (C - n) * P >= floor(...) * R.
        return debt - Math128.floorMulDiv(capacity - n, periodNanos, permits);
    }

    @Override
    public Limit limit() {
        return limit;
    }
}

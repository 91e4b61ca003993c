package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import java.util.Objects;

/**
 * The base of the in-process limiters, and the service interface {@link LocalKeyedRateLimiter}
 * relies on.
 *
 * <p>Every operation has an "at" form taking the current time, so that the public methods read
 * the clock exactly once per decision. A limiter owned by a {@link LocalKeyedRateLimiter} can be
 * <em>retired</em>: when its state is full (indistinguishable from a fresh limiter), the owner
 * atomically switches it to a terminal retired state with {@link #retireIfFull(long)} and then
 * drops it from its map. A decision that finds a limiter retired reports {@link #RETIRED} (or
 * the {@link #RETIRED_DECISION} sentinel) and consumes nothing; the owner then looks the key up
 * again and decides on a fresh limiter. Because retirement happens only from the full state and
 * is a CAS on the same state word the decisions use, no decision is ever lost.
 *
 * <p>A limiter is also retired, in any state, when it is <em>replaced</em> by one built from its
 * state ({@link #snapshot}, {@link #successorFrom}, {@link #retireFrom}): by
 * {@link ReconfigurableLimiter} (the limiter {@link LocalRateLimiters#create} returns) and by a
 * keyed owner, for a reconfiguration, a refund or a reset. Its {@link #successor} is then set
 * before the retiring CAS, and a decision that finds it retired decides again on the successor;
 * see {@link Swaps} for the protocol and its proof. Peeks decide on a private copy built the same
 * way, so they write nothing.
 *
 * <p>Blocking acquires default to polling {@link #decideAt}: sleep for the decision's
 * retry-after, decide again, until granted or the timeout cannot be met. Nothing is reserved
 * while waiting, so an interrupted or timed-out wait has nothing to give back. Algorithms that can
 * reserve (GCRA) override {@link #acquireBlocking(long, long)}.
 */
abstract class LocalLimiter implements RateLimiter {

    /** Result: refused, nothing consumed. */
    static final int DENIED = 0;
    /** Result: granted and consumed. */
    static final int ALLOWED = 1;
    /** Result: this limiter was retired by its keyed owner; nothing consumed; look up again. */
    static final int RETIRED = 2;

    /** Returned by {@link #decideAt} on a retired limiter; compared by identity only. */
    static final Decision RETIRED_DECISION = Decision.exceeding(1, 0, 0, 1);

    final Ticker ticker;
    final Sleeper sleeper;

    /**
     * The limiter that replaces this one when it was retired to be replaced ({@link Swaps}):
     * written before the CAS that retires this limiter, so a thread that sees the retired state
     * (a volatile read of the word that CAS wrote) sees it too. {@code null} for a limiter retired
     * by a keyed owner's sweep or reset, whose key is then looked up again.
     */
    volatile LocalLimiter successor;

    LocalLimiter(Ticker ticker, Sleeper sleeper) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    }

    /**
     * Decides on {@code permits} at time {@code now}; lock-free.
     *
     * @param permits the permits, already checked {@code > 0}
     * @param now     the ticker reading
     * @return {@link #ALLOWED}, {@link #DENIED} or {@link #RETIRED}
     */
    abstract int tryAcquireAt(long permits, long now);

    /**
     * Decides on {@code permits} at time {@code now}, reporting the whole decision.
     *
     * @param permits the permits, already checked {@code > 0}
     * @param now     the ticker reading
     * @return the decision, or {@link #RETIRED_DECISION} if retired
     */
    abstract Decision decideAt(long permits, long now);

    /**
     * Moves this limiter to its terminal retired state if its state at {@code now} is full.
     *
     * @param now the ticker reading
     * @return {@code true} if this call retired it or it was already retired
     */
    abstract boolean retireIfFull(long now);

    /**
     * Makes a fresh, not yet published limiter full only from its origin on, instead of at every
     * reading: a reading before the origin then counts as the clock having gone back. A keyed
     * owner uses it for a key re-created after a sweep that read a later time, so that the key
     * does not come back fuller than it was dropped. The buckets honour it; the sliding windows
     * measure time from their origin already.
     */
    void fullOnlyFromOrigin() {
    }

    /**
     * A consistent copy of this limiter's state, taken with volatile reads and no write, or
     * {@code null} if it is retired. Compared by identity (or value for a boxed word) by
     * {@link #retireFrom(Object)}.
     *
     * @param now the ticker reading
     * @return the state, or {@code null}
     */
    abstract Object snapshot(long now);

    /**
     * Retires this limiter if its state is still {@code state}: one CAS on the state word the
     * decisions use, so no decision commits on this limiter after it.
     *
     * @param state a snapshot of this limiter
     * @return {@code true} if this call retired it
     */
    abstract boolean retireFrom(Object state);

    /**
     * A new, unpublished limiter enforcing {@code limit} (of this limiter's family), on the same
     * ticker, sleeper and origin, whose state is carried from {@code state} by the rules of
     * {@link RateLimiter#reconfigure(Limit)} and then has {@code refund} permits given back by the
     * rules of {@link RateLimiter#refund(long)}.
     *
     * @param state  a snapshot of this limiter
     * @param limit  the limit of the new limiter
     * @param refund permits to give back, {@code >= 0}
     * @param now    the ticker reading
     * @return the new limiter
     */
    abstract LocalLimiter successorFrom(Object state, Limit limit, long refund, long now);

    /**
     * The decision {@code decideAt(permits, now)} would return, changing nothing: decided on a
     * private copy of the state.
     *
     * @param permits the permits, already checked {@code > 0}
     * @param now     the ticker reading
     * @return the decision, or {@link #RETIRED_DECISION} if retired
     */
    final Decision peekAt(long permits, long now) {
        Object state = snapshot(now);
        if (state == null) {
            return RETIRED_DECISION;
        }
        return successorFrom(state, limit(), 0, now).decideAt(permits, now);
    }

    /**
     * The largest {@code n} that {@code decideAt(n, now)} would grant, changing nothing.
     *
     * @param now the ticker reading
     * @return the permits available, or {@code -1} if retired
     */
    final long availableAt(long now) {
        long max = limit().maxPermits();
        Decision d = peekAt(max, now);
        if (d == RETIRED_DECISION) {
            return -1;
        }
        return d.isAllowed() ? max : Math.min(max, d.remaining());
    }

    /**
     * Takes every permit available at {@code now} in one grant.
     *
     * @param now the ticker reading
     * @return the permits taken, or {@code -1} if retired
     */
    final long drainAt(long now) {
        while (true) {
            long available = availableAt(now);
            if (available <= 0) {
                return available;
            }
            int result = tryAcquireAt(available, now);
            if (result == ALLOWED) {
                return available;
            }
            if (result == RETIRED) {
                return -1;
            }
            // Another grant took some meanwhile: look again.
        }
    }

    @Override
    public final Decision peek(long permits) {
        Checks.requested(permits);
        return peekAt(permits, ticker.read());
    }

    @Override
    public final long availablePermits() {
        return Math.max(0, availableAt(ticker.read()));
    }

    @Override
    public final long drain() {
        return Math.max(0, drainAt(ticker.read()));
    }

    @Override
    public void reset() {
        throw new UnsupportedOperationException("reset through the limiter of LocalRateLimiters.create");
    }

    @Override
    public void refund(long permits) {
        throw new UnsupportedOperationException("refund through the limiter of LocalRateLimiters.create");
    }

    @Override
    public void reconfigure(Limit limit) {
        throw new UnsupportedOperationException("reconfigure through the limiter of LocalRateLimiters.create");
    }

    /**
     * For the GCRA limiters: sets this unpublished limiter's full-at instant, relative to its
     * origin, to {@code f + q / r} (or the sentinel {@code f} stands for), then gives back
     * {@code refund} permits at {@code now}. The others do not carry a full-at instant.
     *
     * @param f      the whole nanoseconds, or a sentinel
     * @param q      the remainder, {@code 0 <= q < r}
     * @param r      the remainder's denominator, {@code > 0}
     * @param refund permits to give back, {@code >= 0}
     * @param now    the ticker reading
     */
    void carryFullAt(long f, long q, long r, long refund, long now) {
        throw new IllegalStateException("not a GCRA limiter: " + this);
    }

    @Override
    public final boolean tryAcquire(long permits) {
        Checks.requested(permits);
        return tryAcquireAt(permits, ticker.read()) == ALLOWED;
    }

    @Override
    public final Decision decide(long permits) {
        Checks.requested(permits);
        return decideAt(permits, ticker.read());
    }

    @Override
    public final boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
        Checks.requested(permits);
        return acquireBlocking(permits, Checks.timeoutNanos(timeout)) == ALLOWED;
    }

    /**
     * Acquires, waiting up to {@code timeoutNanos}.
     *
     * @param permits      the permits, already checked {@code > 0}
     * @param timeoutNanos the longest wait; {@code <= 0} means do not wait
     * @return {@link #ALLOWED}, {@link #DENIED} or {@link #RETIRED}
     * @throws InterruptedException if interrupted while waiting; nothing stays consumed
     */
    int acquireBlocking(long permits, long timeoutNanos) throws InterruptedException {
        long start = ticker.read();
        long now = start;
        while (true) {
            Decision d = decideAt(permits, now);
            if (d == RETIRED_DECISION) {
                return RETIRED;
            }
            if (d.isAllowed()) {
                return ALLOWED;
            }
            if (d.exceedsLimit()) {
                return DENIED; // never grantable: do not wait, whatever the timeout
            }
            long waited = Math.max(0, now - start);
            long left = timeoutNanos - waited;
            if (d.retryAfterNanos() > left) {
                return DENIED;
            }
            sleeper.sleepNanos(d.retryAfterNanos());
            now = ticker.read();
        }
    }

    /**
     * Sleeps until a reserved slot comes. If the wait ends by an exception before the slot,
     * {@code giveBack} is run (it returns the reservation if nothing was written after it) and
     * the exception is rethrown; an interrupt arriving once the slot has come keeps the permits
     * and re-asserts the interrupt on the thread.
     *
     * @param origin   the ticker reading the slot is relative to
     * @param slot     the slot, relative to {@code origin}
     * @param giveBack gives the reservation back, or forfeits it
     * @return {@link #ALLOWED}
     * @throws InterruptedException if interrupted before the slot; the reservation is given back
     */
    final int awaitSlot(long origin, long slot, Runnable giveBack) throws InterruptedException {
        while (true) {
            long left = Math128.saturatedSubtract(slot, ticker.read() - origin);
            if (left <= 0) {
                return ALLOWED;
            }
            try {
                sleeper.sleepNanos(left);
            } catch (InterruptedException | RuntimeException | Error e) {
                boolean slotReached = Math128.saturatedSubtract(slot, ticker.read() - origin) <= 0;
                if (!slotReached) {
                    giveBack.run();
                    throw e;
                }
                if (e instanceof InterruptedException) {
                    // The wait was over: the permits are this caller's. Keep the interrupt for
                    // the caller to see rather than take back permits it already waited for.
                    Thread.currentThread().interrupt();
                    return ALLOWED;
                }
                throw e;
            }
        }
    }

    @Override
    public abstract Limit limit();

    @Override
    public String toString() {
        return getClass().getSimpleName() + '{' + limit() + '}';
    }
}

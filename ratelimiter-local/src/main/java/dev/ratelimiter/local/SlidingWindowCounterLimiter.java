package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import java.util.Objects;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The O(1) sliding window counter: two fixed-window counts, the previous one weighted by the
 * part of it the sliding window still covers. Lock-free; allocates one small holder per fixed
 * window that sees traffic, nothing per decision.
 *
 * <h2>The rule</h2>
 * Time since construction is cut into fixed windows of length {@code W}: window
 * {@code k = floorDiv(now, W)} began {@code e = now - k * W} ago. With {@code previous} and
 * {@code current} the permits granted in windows {@code k - 1} and {@code k}, a request for
 * {@code n} is granted iff
 * <pre>
 *   previous * (W - e) + (current + n) * W  <=  L * W
 * </pre>
 * evaluated exactly in integers: equivalently {@code current + n <= L - ceil(previous * (W - e) / W)},
 * and {@link Math128#ceilMulDiv} computes that ceiling exactly although the product needs
 * up to 114 bits. There is no rounding in the decision.
 *
 * <h2>Worst-case error</h2>
 * The rule assumes the previous window's permits were spread evenly over it. When they all came
 * at its very end, a sliding window straddling the boundary can hold up to {@code 2L - 1}
 * permits: {@code L} at the end of window {@code k - 1}, then, at elapsed {@code e}, up to
 * {@code floor(L * e / W)} more, approaching {@code L} (but never reaching it, since
 * {@code e < W}) as {@code e} grows. It never admits more than {@code L} in one fixed window
 * ({@code current + n <= L} is implied by the rule), and for traffic spread evenly over time it
 * admits exactly the limit, up to the rounding of whole permits.
 *
 * <h2>Concurrency design</h2>
 * The state is a {@link Holder} {@code {final window, final previous, volatile current}}
 * referenced from the volatile field {@code holder}.
 * <ul>
 *   <li><b>Grant</b>: CAS {@code holder.current} from {@code c} to {@code c + n}. This CAS is
 *       the linearization point of a granted decision; a refusal (an oversized request included)
 *       writes nothing and linearizes at its read of {@code current}: when the window index has
 *       moved past the holder's, it decides on the counts a rotation would install, without
 *       installing them, so that a refusal never moves the window a later, earlier reading would
 *       then be judged in.
 *   <li><b>Rotation</b>: when a grant finds the window index past {@code holder.window}, a new holder
 *       {@code {k, previous = old count if k is exactly the next window else 0, current = 0}} is
 *       installed by CAS on the reference. Before the old count is read it is <em>sealed</em>
 *       (CAS of {@code current} to {@code current | SEALED}); every increment CASes from an
 *       unsealed value, so none can land on a holder whose count has already been copied. A
 *       thread that finds a sealed holder helps: it installs the successor itself (for window
 *       {@code max(its k, sealed window + 1)}), so a stalled sealer blocks no one.
 *   <li><b>Retirement</b> (keyed owners only): when the sliding estimate is zero the holder's
 *       {@code current} is CASed to {@code current | RETIRED_MARK}; from that CAS on the limiter
 *       is retired, and whoever sees the mark swings the reference to the shared
 *       {@code RETIRED_HOLDER} and answers {@link LocalLimiter#RETIRED}.
 * </ul>
 * The bits of {@code current}: 0..61 the count (at most {@code L <= 2^62 - 1}), 62 {@code SEALED},
 * 63 {@code RETIRED_MARK}.
 *
 * <p><b>Memory ordering</b>: {@code window} and {@code previous} are final and the holder is
 * published through a volatile field, so any thread that reads the reference sees them.
 * {@code current} is only changed by volatile CAS.
 *
 * <p><b>Clock going backwards</b>: a reading before the holder's window (a clock that stepped
 * back, or a thread whose reading is older than the one that rotated) is evaluated at the start
 * of the holder's window ({@code e = 0}), where the weight of {@code previous} is largest: it
 * never creates permits.
 *
 * <p><b>Progress</b>: every CAS failure means another thread succeeded (a grant, a seal, an
 * install or a retirement), so the decisions are lock-free. A rotation allocates one holder
 * per competing thread at most once per window. A failed increment CAS is followed by a short
 * spin ({@link Backoff}) that lets the winning thread keep the cache line.
 */
final class SlidingWindowCounterLimiter extends SlidingWindowLimiter {

    /** Set in {@code current} while a holder is being replaced: no increment may land on it. */
    static final long SEALED = 1L << 62;

    /** Set in {@code current} (the sign bit) when the limiter is retired by its keyed owner. */
    static final long RETIRED_MARK = Long.MIN_VALUE;

    /** The count bits of {@code current}. */
    static final long COUNT_MASK = SEALED - 1;

    /** The state of a retired limiter; compared by identity. */
    private static final Holder RETIRED_HOLDER = new Holder(Long.MAX_VALUE, 0, SEALED | RETIRED_MARK);

    private static final VarHandle HOLDER;
    private static final VarHandle CURRENT;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HOLDER = lookup.findVarHandle(SlidingWindowCounterLimiter.class, "holder", Holder.class);
            CURRENT = lookup.findVarHandle(Holder.class, "current", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The counts of one fixed window and of the one before it. */
    static final class Holder {
        /** The fixed window index this holder counts. */
        final long window;
        /** The permits granted in window {@code window - 1}. */
        final long previous;
        /** The permits granted in {@code window}, plus the SEALED / RETIRED_MARK bits. */
        volatile long current;

        Holder(long window, long previous, long current) {
            this.window = window;
            this.previous = previous;
            this.current = current;
        }
    }

    /** The current state; never {@code null}. */
    private volatile Holder holder;

    SlidingWindowCounterLimiter(SlidingWindow limit, Ticker ticker, Sleeper sleeper) {
        this(limit, ticker, sleeper, Objects.requireNonNull(ticker, "ticker").read());
    }

    /** A limiter whose time starts at ticker reading {@code origin}. */
    SlidingWindowCounterLimiter(SlidingWindow limit, Ticker ticker, Sleeper sleeper, long origin) {
        super(limit, ticker, sleeper, origin);
        this.holder = new Holder(0, 0, 0);
    }

    @Override
    int tryAcquireAt(long permits, long now) {
        if (permits > max) {
            return isRetired() ? RETIRED : DENIED;
        }
        long t = elapsed(now);
        // Fast path: t in the current holder's window, which is open, and the request fits even
        // with the whole previous count (the weighted count is at most that): one read of the
        // holder, no division, no weighting. Anything else takes the general loop below.
        Holder current = holder;
        long w = current.window;
        if (w != Long.MAX_VALUE) {
            long e = t - w * windowNanos; // w <= t / W for any holder installed, so no overflow
            if (e >= 0 && e < windowNanos) {
                long c = current.current;
                if ((c & ~COUNT_MASK) == 0) {
                    if (c + permits > max) {
                        return DENIED;
                    }
                    if (c + permits <= max - current.previous) {
                        if (CURRENT.compareAndSet(current, c, c + permits)) {
                            return ALLOWED;
                        }
                        Backoff.spin();
                    }
                }
            }
        }
        long k = windowIndex(t);
        while (true) {
            Holder h = holder;
            if (h == RETIRED_HOLDER) {
                return RETIRED;
            }
            long c = h.current;
            if ((c & ~COUNT_MASK) != 0) {
                // Sealed or retired: finish that (someone else's rotation or retirement), look again.
                if (holderFor(k) == RETIRED_HOLDER) {
                    return RETIRED;
                }
                continue;
            }
            // The counts at window k: the holder's, or those a rotation would install. A refusal
            // decides on that view and writes nothing; only a grant rotates.
            boolean rotate = k > h.window;
            long previous = rotate ? (k == h.window + 1 ? c : 0) : h.previous;
            long window = rotate ? k : h.window;
            long cur = rotate ? 0 : c;
            // The weighted previous count is between 0 and previous: decide without computing it
            // when either bound settles the test (cur + permits <= 2 * max < 2^63: no overflow).
            if (cur + permits > max) {
                return DENIED;
            }
            if (cur + permits > max - previous && cur + permits > max - weighted(previous, window, t, k)) {
                return DENIED;
            }
            if (rotate) {
                holderFor(k); // install window k, then decide on it
                continue;
            }
            if (CURRENT.compareAndSet(h, c, c + permits)) {
                return ALLOWED;
            }
            Backoff.spin();
        }
    }

    @Override
    Decision decideAt(long permits, long now) {
        long t = elapsed(now);
        long k = Math.floorDiv(t, windowNanos);
        while (true) {
            Holder h = holder;
            if (h == RETIRED_HOLDER) {
                return RETIRED_DECISION;
            }
            long c = h.current;
            if ((c & ~COUNT_MASK) != 0) {
                if (holderFor(k) == RETIRED_HOLDER) {
                    return RETIRED_DECISION;
                }
                continue;
            }
            boolean rotate = k > h.window;
            long previous = rotate ? (k == h.window + 1 ? c : 0) : h.previous;
            long window = rotate ? k : h.window;
            long cur = rotate ? 0 : c;
            long e = k == window ? t - k * windowNanos : 0;
            long budget = max - Math128.ceilMulDivSmallDivisor(previous, windowNanos - e, windowNanos);
            // Where the window decided on starts relative to now: -e, or > 0 if the clock is behind.
            long offset = Math128.saturatedSubtract(Math128.saturatedMultiply(window, windowNanos), t);
            if (permits > max) {
                return Decision.exceeding(permits, Math.max(0, budget - cur),
                        resetNanos(previous, cur, offset), max);
            }
            if (cur + permits <= budget) {
                if (rotate) {
                    holderFor(k);
                    continue;
                }
                if (CURRENT.compareAndSet(h, c, c + permits)) {
                    long after = c + permits;
                    return Decision.allowed(permits, budget - after, resetNanos(previous, after, offset), max);
                }
                Backoff.spin();
                continue;
            }
            return Decision.denied(permits, Math.max(0, budget - cur),
                    retryAfterNanos(previous, cur, e, offset, permits), resetNanos(previous, cur, offset), max);
        }
    }

    @Override
    boolean retireIfFull(long now) {
        long t = elapsed(now);
        long k = Math.floorDiv(t, windowNanos);
        while (true) {
            Holder h = holder;
            if (h == RETIRED_HOLDER) {
                return true;
            }
            long c = h.current;
            if (c < 0) {
                HOLDER.compareAndSet(this, h, RETIRED_HOLDER);
                return true;
            }
            if ((c & SEALED) != 0) {
                holderFor(k); // finish the rotation in progress, then look again
                continue;
            }
            boolean empty;
            if (k <= h.window) {
                empty = c == 0 && h.previous == 0;
            } else if (k == h.window + 1) {
                empty = c == 0; // it becomes the previous count
            } else {
                empty = true; // both counts are at least a full window old
            }
            if (!empty) {
                return false;
            }
            if (CURRENT.compareAndSet(h, c, c | RETIRED_MARK)) {
                HOLDER.compareAndSet(this, h, RETIRED_HOLDER);
                return true;
            }
        }
    }

    /** A consistent view: a holder and its count, read unsealed and not retired. */
    private static final class Snapshot {
        final Holder holder;
        final long current;

        Snapshot(Holder holder, long current) {
            this.holder = holder;
            this.current = current;
        }
    }

    @Override
    Object snapshot(long now) {
        long k = Math.floorDiv(elapsed(now), windowNanos);
        while (true) {
            Holder h = holder;
            if (h == RETIRED_HOLDER) {
                return null;
            }
            long c = h.current;
            if (c < 0) {
                return null;
            }
            if ((c & SEALED) != 0) {
                if (holderFor(k) == RETIRED_HOLDER) { // finish the rotation in progress
                    return null;
                }
                continue;
            }
            return new Snapshot(h, c);
        }
    }

    /** Retires by marking the count a grant would CAS, as {@link #retireIfFull} does. */
    @Override
    boolean retireFrom(Object snapshot) {
        Snapshot snap = (Snapshot) snapshot;
        if (CURRENT.compareAndSet(snap.holder, snap.current, snap.current | RETIRED_MARK)) {
            HOLDER.compareAndSet(this, snap.holder, RETIRED_HOLDER);
            return true;
        }
        return false;
    }

    /**
     * A counter with the snapshot's counts as of the fixed window of {@code now} (the counts a
     * rotation would install when that window is past the holder's), the current window's count
     * then the previous one's lowered by {@code refund}, neither below zero.
     */
    @Override
    LocalLimiter successorFrom(Object snapshot, dev.ratelimiter.Limit next, long refund, long now) {
        Snapshot snap = (Snapshot) snapshot;
        long k = Math.floorDiv(elapsed(now), windowNanos);
        long window = snap.holder.window;
        long previous = snap.holder.previous;
        long current = snap.current;
        if (k > window) {
            previous = k == window + 1 ? current : 0;
            current = 0;
            window = k;
        }
        long fromCurrent = Math.min(refund, current);
        current -= fromCurrent;
        previous -= Math.min(refund - fromCurrent, previous);
        SlidingWindowCounterLimiter copy = new SlidingWindowCounterLimiter((SlidingWindow) next, ticker, sleeper, origin);
        copy.holder = new Holder(window, previous, current);
        return copy;
    }

    /** @return whether this limiter has been retired (a read only) */
    private boolean isRetired() {
        Holder h = holder;
        return h == RETIRED_HOLDER || h.current < 0;
    }

    /**
     * {@code floorDiv(t, W)}, without the division when {@code t} falls in the current holder's
     * window (the common case); the holder is only a hint, the result is exact either way.
     */
    private long windowIndex(long t) {
        long w = holder.window;
        if (w != Long.MAX_VALUE) {
            long e = t - w * windowNanos; // w <= t / W for any holder installed, so no overflow
            if (e >= 0 && e < windowNanos) {
                return w;
            }
        }
        return Math.floorDiv(t, windowNanos);
    }

    /**
     * @return {@code ceil(previous * (W - e) / W)}, the weight of the previous window's count at
     *     {@code t} in window {@code k}, where {@code e = 0} if {@code t} is before {@code window}
     */
    private long weighted(long previous, long window, long t, long k) {
        if (previous == 0) {
            return 0;
        }
        long e = k == window ? t - k * windowNanos : 0;
        return Math128.ceilMulDivSmallDivisor(previous, windowNanos - e, windowNanos);
    }

    /**
     * Returns the holder to decide on at window index {@code k}: an unsealed holder whose window
     * is {@code >= k}, or {@code RETIRED_HOLDER}. Rotates (seal, then install the successor) when
     * {@code k} has moved past the holder's window, and helps a rotation or retirement in
     * progress.
     */
    private Holder holderFor(long k) {
        while (true) {
            Holder h = holder;
            if (h == RETIRED_HOLDER) {
                return h;
            }
            long c = h.current;
            if (c < 0) {
                HOLDER.compareAndSet(this, h, RETIRED_HOLDER);
                return RETIRED_HOLDER;
            }
            if ((c & SEALED) == 0) {
                if (k <= h.window) {
                    return h;
                }
                if (!CURRENT.compareAndSet(h, c, c | SEALED)) {
                    continue;
                }
                c |= SEALED;
            }
            // Sealed: the count is final. Install the successor (the sealer, or a helper).
            long next = Math.max(k, h.window + 1);
            long previous = next == h.window + 1 ? c & COUNT_MASK : 0;
            HOLDER.compareAndSet(this, h, new Holder(next, previous, 0));
        }
    }

    /**
     * The time until the sliding estimate is zero: the current count still weighs until the end
     * of the next window, the previous one until the end of this one.
     *
     * @param offset where the holder's window starts, relative to now
     */
    private long resetNanos(long previous, long current, long offset) {
        long end;
        if (current > 0) {
            end = Math128.saturatedAdd(offset, 2 * windowNanos);
        } else if (previous > 0) {
            end = Math128.saturatedAdd(offset, windowNanos);
        } else {
            return 0;
        }
        return Math.max(0, end);
    }

    /**
     * The smallest wait after which the same request is granted if no one else acts. Three
     * candidates, earliest first: later in this window (the weight of {@code previous} shrinks);
     * in the next window, where {@code current} becomes the weighted previous count; at the start
     * of the window after, where both counts are gone and any {@code n <= L} is granted.
     *
     * @param e      elapsed time in the holder's window used for this decision
     * @param offset where the holder's window starts, relative to now
     */
    private long retryAfterNanos(long previous, long current, long e, long offset, long permits) {
        long w = windowNanos;
        // This window: need ceil(previous * (W - e') / W) <= s, i.e. W - e' <= floor(s * W / previous).
        long s = max - current - permits;
        if (s >= 0 && previous > s) {
            long ePrime = Math.max(e + 1, w - Math128.floorMulDiv(s, w, previous));
            if (ePrime < w) {
                return Math.max(1, Math128.saturatedAdd(offset, ePrime));
            }
        }
        // Next window: previous' = current, current' = 0; need ceil(current * (W - e'') / W) <= L - n.
        long s2 = max - permits;
        long eNext = current <= s2 ? 0 : w - Math128.floorMulDiv(s2, w, current);
        return Math.max(1, Math128.saturatedAdd(offset, w + eNext));
    }
}

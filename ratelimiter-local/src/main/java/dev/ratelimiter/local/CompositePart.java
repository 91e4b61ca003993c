package dev.ratelimiter.local;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;

/*
 * One limit of a composite, as pure arithmetic over a few words of an immutable long[] state
 * (see CompositeCell): nothing here is mutable, so the next state of a whole composite is a pure
 * function of (state, now, request) and one CAS can publish it. Each family copies the arithmetic
 * of its single limiter (those keep their state in their own objects): CompositeGcraPart that of
 * ExactGcraLimiter / GcraLimiter, CompositeCounterPart that of SlidingWindowCounterLimiter, so a
 * composite of one limit decides exactly as the single limiter of that limit.
 *
 * The sliding window log is not held: its state is a list of grants, which an immutable snapshot
 * could only copy (or share and never free).
 */
/** One limit of a composite: pure functions over its words of the composite's state. */
abstract class CompositePart {

    /** The first word of a bucket full at every reading. */
    static final long FULL_F = Long.MIN_VALUE + 1;

    final Limit limit;
    /** The most permits one request can be granted. */
    final long capacity;
    /** Where this part's words start in the state. */
    final int offset;
    /** How many words it has. */
    final int words;
    /** The longest time from empty to full, ns (saturated): the fail-closed retry-after of a full keyed map. */
    final long fillNanos;

    CompositePart(Limit limit, long capacity, int offset, int words, long fillNanos) {
        this.limit = limit;
        this.capacity = capacity;
        this.offset = offset;
        this.words = words;
        this.fillNanos = fillNanos;
    }

    /**
     * The part of {@code limit}, its words at {@code offset}.
     *
     * @param limit  the limit
     * @param what   the parameter that holds it, for messages
     * @param offset where its words start
     * @return the part
     * @throws IllegalArgumentException if the limit is a sliding window log (not held in a local composite)
     */
    static CompositePart of(Limit limit, String what, int offset) {
        if (limit instanceof TokenBucket tb) {
            return CompositeGcraPart.of(tb, false, tb.capacity(), tb.refillPermits(), tb.refillPeriodNanos(), offset);
        }
        if (limit instanceof LeakyBucket lb) {
            return CompositeGcraPart.of(lb, lb.mode() == LeakyBucket.Mode.QUEUE, lb.capacity(), lb.permits(),
                    lb.periodNanos(), offset);
        }
        SlidingWindow sw = (SlidingWindow) limit;
        if (sw.mode() == SlidingWindow.Mode.COUNTER) {
            return new CompositeCounterPart(sw, offset);
        }
        throw new IllegalArgumentException("a local composite holds token buckets, leaky buckets and sliding window "
                + "counters, not a sliding window log (use a single local limiter or a Redis composite for it): "
                + what + "=" + sw);
    }

    /** Writes the initial (full) state. */
    abstract void init(long[] s);

    /**
     * Writes a full state that counts a reading before {@code mark} as the clock having gone back
     * (for a key re-created after a sweep at {@code mark}).
     */
    abstract void initFullFrom(long[] s, long mark);

    /** Whether the state is full at {@code rel} (indistinguishable from a fresh part). */
    abstract boolean isFull(long[] s, long rel);

    /** Whether {@code 0 < n <= capacity} permits may be granted at once at {@code rel}. */
    abstract boolean fits(long[] s, long n, long rel);

    /** Writes into {@code dst} the state after granting {@code n} permits at {@code rel} on {@code src}. */
    abstract void charge(long[] src, long[] dst, long n, long rel);

    /** Writes into {@code dst} the state after giving back {@code n} permits at {@code rel}, never beyond full. */
    abstract void refund(long[] src, long[] dst, long n, long rel);

    /** The permits grantable at once at {@code rel}, {@code >= 0}. */
    abstract long remaining(long[] s, long rel);

    /** The whole nanoseconds until the state is full at {@code rel}. */
    abstract long reset(long[] s, long rel);

    /** For {@code 0 < n <= capacity} that does not {@link #fits fit}: the least wait after which it does, {@code >= 1}. */
    abstract long retryAfter(long[] s, long n, long rel);
}

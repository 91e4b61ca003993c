package dev.ratelimiter.local;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;

/*
 * One limit of a composite, as pure arithmetic over a few words of an immutable long[] state
 * (see CompositeCell): nothing here is mutable, so the next state of a whole composite is a pure
 * function of (state, now, request) and one CAS can publish it.
 *
 * The arithmetic is ExactGcraLimiter's, copied (that class keeps its state in its own object):
 * R permits per P ns reduced by their gcd to r per p, a permit costs p / r ns, and the state is
 * the full-at time f + q / r relative nanoseconds, 0 <= q < r, in two words (f, q). When r == 1,
 * q is always 0 and is not stored (one word), and this is GcraLimiter's arithmetic. So a composite of one limit decides exactly as
 * the single limiter of that limit, and as gcra.lua in its exact mode.
 *
 * Sentinels in the words: f == FULL_F (Long.MIN_VALUE + 1) is full at every reading (an absent
 * Redis key); f == Long.MAX_VALUE is saturated (the full-at time overflowed a long; nothing more
 * is granted, as in GcraLimiter).
 */
/** One GCRA limit (token bucket, leaky bucket meter or queue) of a composite: pure functions over its words. */
final class CompositePart {

    /** The {@code f} of a part full at every reading. */
    static final long FULL_F = Long.MIN_VALUE + 1;
    /** The {@code f} of a saturated part: it grants nothing more. */
    static final long SATURATED_F = Long.MAX_VALUE;
    /** Words per part at most: {@code f}, and {@code q} when a permit costs a fraction of a nanosecond. */
    static final int MAX_WORDS = 2;

    final Limit limit;
    /** Whether this is a leaky bucket queue: an immediate grant only at zero debt. */
    final boolean queue;
    /** C: the capacity, burst or queue capacity; the most permits one request can be granted. */
    final long capacity;
    /** r and p: the rate, reduced. */
    final long r;
    final long p;
    /** Where this part's words start in the state. */
    final int offset;
    /** Whether the state has a {@code q} word ({@code r > 1}); else {@code q} is always 0 and not stored. */
    final boolean hasQ;
    /** The words of this part: 1 or 2. */
    final int words;
    /** The longest time from empty to full, ns (saturated): for the fail-closed retry-after of a full keyed map. */
    final long fillNanos;
    /** For one permit: {@code (C - 1) * p = a1 * r + b1} and {@code p = s1 * r + t1}. */
    private final long a1;
    private final long b1;
    private final long s1;
    private final long t1;

    private CompositePart(Limit limit, boolean queue, long capacity, long permits, long periodNanos, int offset) {
        this.limit = limit;
        this.queue = queue;
        this.capacity = capacity;
        long g = gcd(permits, periodNanos);
        this.r = permits / g;
        this.p = periodNanos / g;
        this.offset = offset;
        this.hasQ = r > 1;
        this.words = hasQ ? 2 : 1;
        this.fillNanos = Math128.ceilMulDiv(capacity, p, r);
        this.a1 = Math128.floorMulDiv(capacity - 1, p, r);
        this.b1 = Math128.remainder(capacity - 1, p, r, a1);
        this.s1 = p / r;
        this.t1 = p % r;
    }

    /**
     * The part of {@code limit}, its words at {@code offset}.
     *
     * @param limit  the limit
     * @param what   the parameter that holds it, for messages
     * @param offset where its words start
     * @return the part
     * @throws IllegalArgumentException if the limit is a sliding window (not supported in a local composite)
     */
    static CompositePart of(Limit limit, String what, int offset) {
        if (limit instanceof TokenBucket tb) {
            return new CompositePart(tb, false, tb.capacity(), tb.refillPermits(), tb.refillPeriodNanos(), offset);
        }
        if (limit instanceof LeakyBucket lb) {
            return new CompositePart(lb, lb.mode() == LeakyBucket.Mode.QUEUE, lb.capacity(), lb.permits(),
                    lb.periodNanos(), offset);
        }
        SlidingWindow sw = (SlidingWindow) limit;
        throw new IllegalArgumentException("a local composite holds token buckets and leaky buckets only, not a "
                + "sliding window (use a composite of Redis limits or a single local limiter for it): "
                + what + "=" + sw);
    }

    /** Writes the initial (full) state. */
    void init(long[] s) {
        s[offset] = FULL_F;
    }

    private long q(long[] s) {
        return hasQ ? s[offset + 1] : 0;
    }

    private void write(long[] dst, long f, long q) {
        dst[offset] = f;
        if (hasQ) {
            dst[offset + 1] = q;
        }
    }

    /** Whether the state is full at {@code rel} (indistinguishable from a fresh part). */
    boolean isFull(long[] s, long rel) {
        long f = s[offset];
        return f != SATURATED_F && !inDebt(f, q(s), rel);
    }

    /** Whether {@code 0 < n <= capacity} permits may be granted at once at {@code rel}. */
    boolean fits(long[] s, long n, long rel) {
        long f = s[offset];
        long q = q(s);
        if (f == SATURATED_F) {
            return false;
        }
        if (!inDebt(f, q, rel)) {
            return true;
        }
        if (queue) {
            return false;
        }
        long a;
        long b;
        if (n == 1) {
            a = a1;
            b = b1;
        } else {
            a = Math128.floorMulDiv(capacity - n, p, r);
            b = Math128.remainder(capacity - n, p, r, a);
        }
        long d = Math128.saturatedSubtract(f, rel);
        return d < a || (d == a && q <= b);
    }

    /** Writes into {@code dst} the state after granting {@code n} permits at {@code rel} on {@code src}. */
    void charge(long[] src, long[] dst, long n, long rel) {
        long f = src[offset];
        long q = q(src);
        if (f == SATURATED_F) {
            write(dst, f, 0);
            return;
        }
        long s;
        long t;
        if (n == 1) {
            s = s1;
            t = t1;
        } else {
            s = Math128.floorMulDiv(n, p, r);
            t = Math128.remainder(n, p, r, s);
        }
        if (!inDebt(f, q, rel)) {
            f = rel;
            q = 0;
        }
        long nf = Math128.saturatedAdd(f, s);
        long nq = q + t;
        if (nq >= r) {
            nq -= r;
            nf = Math128.saturatedAdd(nf, 1);
        }
        write(dst, nf, nf == SATURATED_F ? 0 : nq);
    }

    /**
     * Writes into {@code dst} the state after giving back {@code n} permits at {@code rel}: the
     * full-at time moves back by their cost, not before {@code rel}. A saturated part stays so.
     */
    void refund(long[] src, long[] dst, long n, long rel) {
        long f = src[offset];
        long q = q(src);
        if (f == SATURATED_F || !inDebt(f, q, rel)) {
            write(dst, f, q);
            return;
        }
        long s = Math128.floorMulDiv(n, p, r);
        long t = Math128.remainder(n, p, r, s);
        long nf = Math128.saturatedSubtract(f, s);
        long nq = q - t;
        if (nq < 0) {
            nq += r;
            nf = Math128.saturatedSubtract(nf, 1);
        }
        if (!inDebt(nf, nq, rel)) {
            nf = rel;
            nq = 0;
        }
        write(dst, nf, nq);
    }

    /** The permits grantable at once at {@code rel}: {@code C - ceil(D / p)}, at least 0. */
    long remaining(long[] s, long rel) {
        long f = s[offset];
        long q = q(s);
        if (f == SATURATED_F) {
            return 0;
        }
        if (!inDebt(f, q, rel)) {
            return capacity;
        }
        if (queue) {
            return 0;
        }
        long d = Math128.saturatedSubtract(f, rel);
        return Math.max(0, capacity - Math128.ceilMulAddDiv(d, r, q, p));
    }

    /** The whole nanoseconds until the state is full at {@code rel}: {@code ceil(D / r)}, saturated. */
    long reset(long[] s, long rel) {
        long f = s[offset];
        long q = q(s);
        if (!inDebt(f, q, rel)) {
            return 0;
        }
        return Math128.saturatedAdd(Math128.saturatedSubtract(f, rel), q > 0 ? 1 : 0);
    }

    /**
     * For {@code 0 < n <= capacity} that does not {@link #fits fit}: the least whole wait after
     * which it does, {@code >= 1}.
     */
    long retryAfter(long[] s, long n, long rel) {
        long f = s[offset];
        long q = q(s);
        long reset = reset(s, rel);
        if (f == SATURATED_F) {
            return Math.max(1, reset);
        }
        if (queue) {
            return reset;
        }
        long a = Math128.floorMulDiv(capacity - n, p, r);
        long b = Math128.remainder(capacity - n, p, r, a);
        return Math128.saturatedAdd(Math128.saturatedSubtract(f, rel) - a, q > b ? 1 : 0);
    }

    /** Whether {@code f + q / r > rel}. */
    private static boolean inDebt(long f, long q, long rel) {
        return f > rel || (f == rel && q > 0);
    }

    private static long gcd(long x, long y) {
        while (y != 0) {
            long m = x % y;
            x = y;
            y = m;
        }
        return x;
    }
}

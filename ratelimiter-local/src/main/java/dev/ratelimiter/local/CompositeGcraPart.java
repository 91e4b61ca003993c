package dev.ratelimiter.local;

import dev.ratelimiter.Limit;

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
final class CompositeGcraPart extends CompositePart {

    /** The {@code f} of a saturated part: it grants nothing more. */
    static final long SATURATED_F = Long.MAX_VALUE;

    /** Whether this is a leaky bucket queue: an immediate grant only at zero debt. */
    private final boolean queue;
    /** r and p: the rate, reduced. */
    private final long r;
    private final long p;
    /** Whether the state has a {@code q} word ({@code r > 1}); else {@code q} is always 0 and not stored. */
    private final boolean hasQ;
    /** For one permit: {@code (C - 1) * p = a1 * r + b1} and {@code p = s1 * r + t1}. */
    private final long a1;
    private final long b1;
    private final long s1;
    private final long t1;

    private CompositeGcraPart(Limit limit, boolean queue, long capacity, long r, long p, int offset) {
        super(limit, capacity, offset, r > 1 ? 2 : 1, Math128.ceilMulDiv(capacity, p, r));
        this.queue = queue;
        this.r = r;
        this.p = p;
        this.hasQ = r > 1;
        this.a1 = Math128.floorMulDiv(capacity - 1, p, r);
        this.b1 = Math128.remainder(capacity - 1, p, r, a1);
        this.s1 = p / r;
        this.t1 = p % r;
    }

    /** A part for R permits per P ns (reduced here). */
    static CompositeGcraPart of(Limit limit, boolean queue, long capacity, long permits, long periodNanos, int offset) {
        long gcd = gcd(permits, periodNanos);
        return new CompositeGcraPart(limit, queue, capacity, permits / gcd, periodNanos / gcd, offset);
    }

    /** Whether the state is one word ({@code r == 1}): then the one-permit path needs only {@link #oneCost} and {@link #oneMaxDebt}. */
    boolean oneWord() {
        return !hasQ;
    }

    /** For a one-word part: the cost of one permit, ns. */
    long oneCost() {
        return s1;
    }

    /** For a one-word part: the largest debt at which one permit is granted, ns (0 for a queue). */
    long oneMaxDebt() {
        return queue ? 0 : a1;
    }

    @Override
    void init(long[] s) {
        s[offset] = FULL_F;
    }

    @Override
    void initFullFrom(long[] s, long mark) {
        s[offset] = mark;
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
    @Override
    boolean isFull(long[] s, long rel) {
        long f = s[offset];
        return f != SATURATED_F && !inDebt(f, q(s), rel);
    }

    /** Whether {@code 0 < n <= capacity} permits may be granted at once at {@code rel}. */
    @Override
    boolean fits(long[] s, long n, long rel) {
        return fits(s[offset], q(s), n, rel);
    }

    /** For a one-word part: whether {@code 0 < n <= capacity} permits may be granted at {@code rel} on full-at time {@code f}. */
    boolean fitsWord(long f, long n, long rel) {
        return fits(f, 0, n, rel);
    }

    /**
     * For a one-word part: the full-at time after granting {@code n} permits at {@code rel} on
     * {@code f} (what {@link #charge} writes; {@code q} stays 0 when {@code r == 1}).
     */
    long chargedWord(long f, long n, long rel) {
        if (f == SATURATED_F) {
            return f;
        }
        long s = n == 1 ? s1 : Math128.floorMulDiv(n, p, r);
        return Math128.saturatedAdd(inDebt(f, 0, rel) ? f : rel, s);
    }

    private boolean fits(long f, long q, long n, long rel) {
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
    @Override
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
    @Override
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
    @Override
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
    @Override
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
    @Override
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

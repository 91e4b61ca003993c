package dev.ratelimiter.local;

/**
 * Exact 128-bit products and saturating arithmetic on non-negative {@code long}s, without
 * allocation, shared by the limiters.
 *
 * <p>The GCRA limiters compare quantities such as {@code debtNanos * permits} with
 * {@code capacity * periodNanos}: with counts up to {@code Long.MAX_VALUE / 2} and periods up to
 * 30 days those products need up to 113 bits. {@link Math#multiplyHigh} gives the upper half of
 * the exact product; since every operand here is non-negative, the signed upper half equals the
 * unsigned one. {@link java.math.BigInteger} would do the same but allocates, and these methods
 * run on the hot path.
 */
final class Math128 {

    private static final long MASK32 = 0xFFFF_FFFFL;
    private static final long BASE32 = 1L << 32;

    /**
     * The largest divisor {@link #ceilMulDivSmallDivisor} accepts: below 2^53 every operand
     * converts to a {@code double} exactly, which bounds the error of its estimate (see there).
     */
    static final long MAX_SMALL_DIVISOR = 1L << 53;

    private Math128() {
    }

    /**
     * Compares two exact products.
     *
     * @param a a factor, {@code >= 0}
     * @param b a factor, {@code >= 0}
     * @param c a factor, {@code >= 0}
     * @param d a factor, {@code >= 0}
     * @return negative, zero or positive as {@code a * b} is below, equal to or above {@code c * d}
     */
    static int compareProducts(long a, long b, long c, long d) {
        long hi1 = Math.multiplyHigh(a, b);
        long hi2 = Math.multiplyHigh(c, d);
        if (hi1 != hi2) {
            // Both upper halves are < 2^62 (operands < 2^63), so a signed compare is exact.
            return Long.compare(hi1, hi2);
        }
        return Long.compareUnsigned(a * b, c * d);
    }

    /**
     * {@code floor(a * b / d)} computed exactly, saturated to {@code Long.MAX_VALUE}.
     *
     * @param a a factor, {@code >= 0}
     * @param b a factor, {@code >= 0}
     * @param d the divisor, {@code > 0}
     * @return the floored quotient, at most {@code Long.MAX_VALUE}
     */
    static long floorMulDiv(long a, long b, long d) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if (hi == 0 && lo >= 0) {
            return lo / d;
        }
        if (Long.compareUnsigned(hi, d) >= 0) {
            return Long.MAX_VALUE; // the quotient needs more than 64 bits
        }
        long q = divideUnsigned(hi, lo, d);
        return q < 0 ? Long.MAX_VALUE : q;
    }

    /**
     * {@code ceil(a * b / d)} computed exactly, saturated to {@code Long.MAX_VALUE}.
     *
     * @param a a factor, {@code >= 0}
     * @param b a factor, {@code >= 0}
     * @param d the divisor, {@code > 0}
     * @return the ceiling of the quotient, at most {@code Long.MAX_VALUE}
     */
    static long ceilMulDiv(long a, long b, long d) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        long q;
        if (hi == 0 && lo >= 0) {
            q = lo / d;
        } else if (Long.compareUnsigned(hi, d) >= 0) {
            return Long.MAX_VALUE;
        } else {
            q = divideUnsigned(hi, lo, d);
            if (q < 0) {
                return Long.MAX_VALUE;
            }
        }
        // The remainder is below d, so the low 64 bits of a*b - q*d are the whole remainder.
        long remainder = lo - q * d;
        return remainder == 0 || q == Long.MAX_VALUE ? q : q + 1;
    }

    /**
     * {@code ceil((a * b + c) / d)} computed exactly, saturated to {@code Long.MAX_VALUE}.
     *
     * @param a a factor, {@code >= 0}
     * @param b a factor, {@code >= 0}
     * @param c an addend, {@code >= 0}
     * @param d the divisor, {@code > 0}
     * @return the ceiling of the quotient, at most {@code Long.MAX_VALUE}
     */
    static long ceilMulAddDiv(long a, long b, long c, long d) {
        long hi = Math.multiplyHigh(a, b);
        long product = a * b;
        long lo = product + c;
        if (Long.compareUnsigned(lo, product) < 0) {
            hi++; // the carry out of the low half
        }
        if (Long.compareUnsigned(hi, d) >= 0) {
            return Long.MAX_VALUE;
        }
        long q = divideUnsigned(hi, lo, d);
        if (q < 0) {
            return Long.MAX_VALUE;
        }
        long remainder = lo - q * d;
        return remainder == 0 || q == Long.MAX_VALUE ? q : q + 1;
    }

    /**
     * The remainder of {@code a * b} divided by {@code d}, given the quotient
     * {@code quotient == floor(a * b / d)} (not saturated).
     *
     * @param a        a factor, {@code >= 0}
     * @param b        a factor, {@code >= 0}
     * @param d        the divisor, {@code > 0}
     * @param quotient {@code floor(a * b / d)}
     * @return {@code a * b - quotient * d}, in {@code [0, d)}
     */
    static long remainder(long a, long b, long d, long quotient) {
        // The true value is below d < 2^63, so the low 64 bits of the wrapping computation are it.
        return a * b - quotient * d;
    }

    /**
     * Returns {@code ceil(a * x / w)} exactly in constant time when {@code x <= w < 2^53}: the
     * sliding window counter's weighting of the previous window, on its hot path.
     *
     * <p>Why it is exact: write {@code a = q * w + b} with {@code 0 <= b < w}; then
     * {@code a * x / w = q * x + b * x / w}, where {@code q * x <= a} fits and {@code b * x / w < x}.
     * The small quotient is estimated in {@code double}: {@code b}, {@code x} and {@code w} are
     * below 2^53 so they convert exactly, the product and the quotient each round by at most
     * 2^-53 relative, so the estimate is within 2 of the true value (which is below 2^53). The
     * remainder {@code b * x - estimate * w} is then computed in wrapping {@code long}
     * arithmetic: its true value is within a few {@code w} of zero, far inside the {@code long}
     * range, so wrapping gives it exactly, and at most a few steps of {@code +-1} correct the
     * estimate. No 128-bit product, no division loop, no allocation.
     *
     * @param a a value, {@code >= 0}
     * @param x a value, {@code 0 <= x <= w}
     * @param w the divisor, {@code 0 < w < 2^53}
     * @return {@code ceil(a * x / w)}, which is at most {@code a}
     */
    static long ceilMulDivSmallDivisor(long a, long x, long w) {
        long q = a / w;
        long b = a - q * w;
        long est = (long) ((double) b * (double) x / (double) w);
        long r = b * x - est * w;
        while (r < 0) {
            est--;
            r += w;
        }
        while (r >= w) {
            est++;
            r -= w;
        }
        return q * x + est + (r != 0 ? 1 : 0);
    }

    /**
     * @param a a value {@code >= 0}
     * @param b a value {@code >= 0}
     * @return {@code a * b}, clamped to {@code Long.MAX_VALUE}
     */
    static long saturatedMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }

    /**
     * @param a any value
     * @param b any value
     * @return {@code a + b}, clamped to the {@code long} range
     */
    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        // Overflow iff both operands have the sign opposite to the result's.
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }

    /**
     * @param a any value
     * @param b any value
     * @return {@code a - b}, clamped to the {@code long} range
     */
    static long saturatedSubtract(long a, long b) {
        long diff = a - b;
        // Overflow iff the operands differ in sign and the result's sign differs from a's.
        if (((a ^ b) & (a ^ diff)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return diff;
    }

    /**
     * Unsigned division of the 128-bit value {@code hi:lo} by {@code d}, when the quotient fits in
     * 64 bits ({@code hi < d}, unsigned). This is Knuth's algorithm D specialised to two 32-bit
     * digits of quotient ("divlu" in Warren, Hacker's Delight, 2nd ed., 9-4).
     *
     * @param hi the upper 64 bits of the dividend, unsigned, below {@code d}
     * @param lo the lower 64 bits of the dividend, unsigned
     * @param d  the divisor, unsigned, non-zero
     * @return the quotient, unsigned
     */
    static long divideUnsigned(long hi, long lo, long d) {
        int shift = Long.numberOfLeadingZeros(d);
        // Normalise so that the divisor's top bit is set; the quotient digit estimates are then
        // at most two too large.
        long v = d << shift;
        long vn1 = v >>> 32;
        long vn0 = v & MASK32;
        long un32 = shift == 0 ? hi : (hi << shift) | (lo >>> (64 - shift));
        long un10 = lo << shift;
        long un1 = un10 >>> 32;
        long un0 = un10 & MASK32;

        long q1 = Long.divideUnsigned(un32, vn1);
        long rhat = un32 - q1 * vn1;
        while (Long.compareUnsigned(q1, BASE32) >= 0
                || Long.compareUnsigned(q1 * vn0, (rhat << 32) | un1) > 0) {
            q1--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, BASE32) >= 0) {
                break;
            }
        }
        long un21 = ((un32 << 32) | un1) - q1 * v;

        long q0 = Long.divideUnsigned(un21, vn1);
        rhat = un21 - q0 * vn1;
        while (Long.compareUnsigned(q0, BASE32) >= 0
                || Long.compareUnsigned(q0 * vn0, (rhat << 32) | un0) > 0) {
            q0--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, BASE32) >= 0) {
                break;
            }
        }
        return (q1 << 32) | q0;
    }
}

package dev.ratelimiter.local;

/**
 * Exact integer arithmetic for the sliding window limiters: saturating time arithmetic and
 * {@code a * b / d} without overflow or rounding, allocation-free.
 *
 * <p>The sliding window counter weighs the previous window's count by the part of it still
 * inside the sliding window, {@code previous * (W - e) / W}. With counts up to
 * {@code Long.MAX_VALUE / 2} and windows up to 30 days (about 2^51.2 ns) the product needs up to
 * 114 bits, so it cannot be formed in a {@code long}, and a {@code double} would round. The
 * methods here keep every result exact.
 */
final class WindowMath {

    /**
     * The largest divisor {@link #ceilMulDiv} accepts: below 2^53 every operand converts to a
     * {@code double} exactly, which bounds the error of its estimate (see there).
     */
    static final long MAX_SMALL_DIVISOR = 1L << 53;

    private WindowMath() {
    }

    /**
     * @param a a value
     * @param b a value
     * @return {@code a + b}, clamped to the {@code long} range
     */
    static long saturatedAdd(long a, long b) {
        long r = a + b;
        // Overflow iff both operands have the sign opposite to the result's.
        if (((a ^ r) & (b ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    /**
     * @param a a value
     * @param b a value
     * @return {@code a - b}, clamped to the {@code long} range
     */
    static long saturatedSubtract(long a, long b) {
        long r = a - b;
        // Overflow iff the operands have different signs and the result's sign differs from a's.
        if (((a ^ b) & (a ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
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
     * Returns {@code ceil(a * x / w)} exactly, for the weighting of the sliding window counter.
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
    static long ceilMulDiv(long a, long x, long w) {
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
     * Returns {@code floor(a * b / d)} exactly, for operands whose product may need 128 bits.
     * Slower than {@link #ceilMulDiv} (a 64-step division), so it is used off the hot path only.
     *
     * @param a a value, {@code >= 0}
     * @param b a value, {@code >= 0}
     * @param d the divisor, {@code > 0}
     * @return {@code floor(a * b / d)}
     * @throws ArithmeticException if the quotient does not fit in a {@code long}
     */
    static long floorMulDiv(long a, long b, long d) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if (Long.compareUnsigned(hi, d) >= 0) {
            throw new ArithmeticException("quotient overflows: " + a + " * " + b + " / " + d);
        }
        long q = divide128(hi, lo, d);
        if (q < 0) {
            throw new ArithmeticException("quotient overflows: " + a + " * " + b + " / " + d);
        }
        return q;
    }

    /**
     * Unsigned division of the 128-bit value {@code hi:lo} by {@code d}, by schoolbook binary
     * long division.
     *
     * @param hi the high 64 bits, {@code 0 <= hi < d}
     * @param lo the low 64 bits, unsigned
     * @param d  the divisor, {@code 0 < d <= Long.MAX_VALUE}
     * @return the quotient, unsigned (it fits in 64 bits because {@code hi < d})
     */
    private static long divide128(long hi, long lo, long d) {
        long rem = hi;
        long quotient = 0;
        for (int i = 63; i >= 0; i--) {
            // rem < d <= 2^63 - 1, so rem * 2 + 1 < 2^64: no bit is lost; compare unsigned.
            rem = (rem << 1) | ((lo >>> i) & 1);
            quotient <<= 1;
            if (Long.compareUnsigned(rem, d) >= 0) {
                rem -= d;
                quotient |= 1;
            }
        }
        return quotient;
    }
}

package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.internal.Checks;
import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The exact arithmetic the sliding windows rely on, checked against {@link BigInteger}. */
class SlidingWindowMathTest {

    private static final long MAX_WINDOW = Checks.MAX_PERIOD_NANOS;
    private static final long MAX_PERMITS = Checks.MAX_PERMITS;

    private static long ceilMulDivReference(long a, long x, long w) {
        BigInteger[] qr = BigInteger.valueOf(a).multiply(BigInteger.valueOf(x)).divideAndRemainder(BigInteger.valueOf(w));
        return qr[0].longValueExact() + (qr[1].signum() != 0 ? 1 : 0);
    }

    private static long floorMulDivReference(long a, long b, long d) {
        return BigInteger.valueOf(a).multiply(BigInteger.valueOf(b)).divide(BigInteger.valueOf(d)).longValueExact();
    }

    @Test
    void ceilMulDivIsExactAtTheExtremes() {
        long[] counts = {0, 1, 2, 3, 999_999, MAX_PERMITS - 1, MAX_PERMITS, 1L << 61, (1L << 53) + 1};
        long[] windows = {1, 2, 3, 1_000_000, 999_999_937, MAX_WINDOW - 1, MAX_WINDOW, (1L << 53) - 1};
        for (long a : counts) {
            for (long w : windows) {
                for (long x : new long[] {0, 1, w / 3, w / 2, w - 1, w}) {
                    if (x < 0 || x > w) {
                        continue;
                    }
                    assertThat(Math128.ceilMulDivSmallDivisor(a, x, w)).as("ceil(%d * %d / %d)", a, x, w)
                            .isEqualTo(ceilMulDivReference(a, x, w));
                }
            }
        }
    }

    @Test
    void ceilMulDivIsExactOnRandomOperands() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            long w = i % 2 == 0 ? random.nextLong(1, MAX_WINDOW + 1) : random.nextLong(1, 1L << 53);
            long x = random.nextLong(0, w + 1);
            long a = i % 3 == 0 ? random.nextLong(0, 1000) : random.nextLong(0, MAX_PERMITS + 1);
            assertThat(Math128.ceilMulDivSmallDivisor(a, x, w)).as("ceil(%d * %d / %d)", a, x, w)
                    .isEqualTo(ceilMulDivReference(a, x, w));
        }
    }

    @Test
    void floorMulDivIsExactOnRandomOperands() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            long d = random.nextLong(1, MAX_PERMITS + 1);
            long a = random.nextLong(0, d); // a < d keeps the quotient below b
            long b = random.nextLong(0, MAX_WINDOW + 1);
            assertThat(Math128.floorMulDiv(a, b, d)).as("floor(%d * %d / %d)", a, b, d)
                    .isEqualTo(floorMulDivReference(a, b, d));
        }
        assertThat(Math128.floorMulDiv(MAX_PERMITS - 1, MAX_WINDOW, MAX_PERMITS))
                .isEqualTo(floorMulDivReference(MAX_PERMITS - 1, MAX_WINDOW, MAX_PERMITS));
        assertThat(Math128.floorMulDiv(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void floorMulDivSaturatesAQuotientThatDoesNotFit() {
        assertThat(Math128.floorMulDiv(Long.MAX_VALUE, 4, 2)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.floorMulDiv(Long.MAX_VALUE, Long.MAX_VALUE, 1)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void saturatingArithmeticClampsInsteadOfWrapping() {
        assertThat(Math128.saturatedAdd(Long.MAX_VALUE, 1)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedAdd(Long.MIN_VALUE, -1)).isEqualTo(Long.MIN_VALUE);
        assertThat(Math128.saturatedAdd(Long.MAX_VALUE, Long.MIN_VALUE)).isEqualTo(-1);
        assertThat(Math128.saturatedAdd(40, 2)).isEqualTo(42);
        assertThat(Math128.saturatedSubtract(Long.MIN_VALUE, 1)).isEqualTo(Long.MIN_VALUE);
        assertThat(Math128.saturatedSubtract(Long.MAX_VALUE, -1)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedSubtract(0, Long.MIN_VALUE)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedSubtract(-1, Long.MIN_VALUE)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedSubtract(44, 2)).isEqualTo(42);
        assertThat(Math128.saturatedMultiply(1L << 40, 1L << 40)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedMultiply(Long.MAX_VALUE / MAX_WINDOW, MAX_WINDOW))
                .isEqualTo(Long.MAX_VALUE / MAX_WINDOW * MAX_WINDOW);
        assertThat(Math128.saturatedMultiply(Long.MAX_VALUE / MAX_WINDOW + 1, MAX_WINDOW)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedMultiply(0, Long.MAX_VALUE)).isZero();
    }
}

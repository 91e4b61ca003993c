package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Checks the 128-bit helpers against {@link BigInteger}. */
class GcraMath128Test {

    private static final BigInteger MAX = BigInteger.valueOf(Long.MAX_VALUE);
    private static final long[] EDGES = {
        0, 1, 2, 3, 7, 999_999_999, 1_000_000_000, (1L << 31) - 1, 1L << 31, (1L << 32) - 1, 1L << 32,
        (1L << 32) + 1, 2_592_000_000_000_000L, Long.MAX_VALUE / 2 - 1, Long.MAX_VALUE / 2,
        Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE
    };

    @Test
    void mulDivMatchesBigIntegerOnEdgesAndRandomValues() {
        for (long a : EDGES) {
            for (long b : EDGES) {
                for (long d : EDGES) {
                    if (d > 0) {
                        checkMulDiv(a, b, d);
                    }
                }
            }
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            long a = randomMagnitude(random);
            long b = randomMagnitude(random);
            long d = Math.max(1, randomMagnitude(random));
            checkMulDiv(a, b, d);
            checkCompare(a, b, randomMagnitude(random), randomMagnitude(random));
        }
    }

    @Test
    void compareProductsMatchesBigInteger() {
        for (long a : EDGES) {
            for (long b : EDGES) {
                for (long c : EDGES) {
                    checkCompare(a, b, c, b);
                    checkCompare(a, b, c, a);
                }
            }
        }
        // Equal high halves, low halves differing in the top bit: needs the unsigned compare.
        checkCompare(1L << 32, (1L << 31) + 1, 1L << 32, 1L << 31);
    }

    @Test
    void divideUnsignedMatchesBigIntegerWhenTheQuotientFitsInSixtyFourBits() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            long d = random.nextLong();
            if (d == 0) {
                continue;
            }
            long hi = Long.remainderUnsigned(random.nextLong(), d);
            long lo = random.nextLong();
            BigInteger dividend = unsigned(hi).shiftLeft(64).or(unsigned(lo));
            BigInteger expected = dividend.divide(unsigned(d));
            assertThat(unsigned(Math128.divideUnsigned(hi, lo, d)))
                    .as("%s / %s", dividend, unsigned(d)).isEqualTo(expected);
        }
    }

    @Test
    void saturatedAddAndSubtractClampAtTheLongRange() {
        assertThat(Math128.saturatedAdd(Long.MAX_VALUE, 1)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedAdd(Long.MIN_VALUE, -1)).isEqualTo(Long.MIN_VALUE);
        assertThat(Math128.saturatedAdd(Long.MAX_VALUE, Long.MIN_VALUE)).isEqualTo(-1);
        assertThat(Math128.saturatedAdd(40, 2)).isEqualTo(42);
        assertThat(Math128.saturatedSubtract(Long.MAX_VALUE, -1)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedSubtract(Long.MIN_VALUE, 1)).isEqualTo(Long.MIN_VALUE);
        assertThat(Math128.saturatedSubtract(0, Long.MIN_VALUE)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedSubtract(-1, Long.MIN_VALUE)).isEqualTo(Long.MAX_VALUE);
        assertThat(Math128.saturatedSubtract(44, 2)).isEqualTo(42);
    }

    private static void checkMulDiv(long a, long b, long d) {
        BigInteger product = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b));
        BigInteger[] qr = product.divideAndRemainder(BigInteger.valueOf(d));
        BigInteger floor = qr[0].min(MAX);
        BigInteger ceil = (qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE)).min(MAX);
        assertThat(Math128.floorMulDiv(a, b, d)).as("floor(%d * %d / %d)", a, b, d)
                .isEqualTo(floor.longValueExact());
        assertThat(Math128.ceilMulDiv(a, b, d)).as("ceil(%d * %d / %d)", a, b, d)
                .isEqualTo(ceil.longValueExact());
    }

    private static void checkCompare(long a, long b, long c, long d) {
        int expected = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b))
                .compareTo(BigInteger.valueOf(c).multiply(BigInteger.valueOf(d)));
        assertThat(Integer.signum(Math128.compareProducts(a, b, c, d)))
                .as("%d * %d vs %d * %d", a, b, c, d).isEqualTo(expected);
    }

    /** A non-negative long whose bit length is uniform, so small and huge values both occur. */
    private static long randomMagnitude(SplittableRandom random) {
        int bits = random.nextInt(64);
        return bits == 0 ? 0 : random.nextLong() >>> (64 - bits);
    }

    private static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }
}

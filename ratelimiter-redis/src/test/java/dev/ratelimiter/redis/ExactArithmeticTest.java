package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The exact-arithmetic helpers of {@code exact.lua}, run in Redis and checked against
 * {@link BigInteger} on the edge values: powers of two around the limb size and the 2^53 limit.
 */
class ExactArithmeticTest {

    private static final String PROBE = "\nlocal a, b, c, d = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
            + "return {cmp_products(a, b, c, d), int(floor_mul_div(a, b, c)), int(ceil_mul_div(a, b, c))}";

    private static List<Long> edges() {
        List<Long> values = new ArrayList<>(List.of(0L, 1L, 2L, 3L, 7L, 1000L, 999_999_937L, 86_400_000_000L));
        for (int bits : new int[] {23, 24, 25, 26, 47, 48, 49, 51, 52, 53}) {
            long p = 1L << bits;
            values.add(p - 1);
            values.add(p);
            if (bits < 53) {
                values.add(p + 1);
            }
        }
        values.removeIf(v -> v > (1L << 53) - 1);
        return values;
    }

    @Test
    public void productsCompareAndDivideExactlyUpTo2To53() {
        RedisCommands<String, String> redis = SharedConnection.get().sync();
        String script = Scripts.read("exact.lua") + PROBE;
        List<Long> values = edges();
        int checked = 0;
        for (long a : values) {
            for (long b : values) {
                for (long c : new long[] {1, 3, 1L << 24, (1L << 52) + 1, (1L << 53) - 1, 999_999_937L}) {
                    BigInteger product = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b));
                    BigInteger[] qr = product.divideAndRemainder(BigInteger.valueOf(c));
                    if (qr[0].bitLength() > 52) {
                        continue; // the helpers promise quotients below 2^53 only
                    }
                    long d = c == 1 ? b + (a & 1) : a;
                    List<Object> reply = redis.eval(script, ScriptOutputType.MULTI, new String[0],
                            Long.toString(a), Long.toString(b), Long.toString(c), Long.toString(d));
                    int expectedCmp = product.compareTo(BigInteger.valueOf(c).multiply(BigInteger.valueOf(d)));
                    String label = a + " * " + b + " vs " + c + " * " + d;
                    assertThat(((Long) reply.get(0)).intValue()).as(label).isEqualTo(expectedCmp);
                    assertThat(reply.get(1)).as("floor(%s * %s / %s)", a, b, c).isEqualTo(qr[0].toString());
                    BigInteger ceil = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
                    assertThat(reply.get(2)).as("ceil(%s * %s / %s)", a, b, c).isEqualTo(ceil.toString());
                    checked++;
                }
            }
        }
        assertThat(checked).isGreaterThan(1000);
    }
}

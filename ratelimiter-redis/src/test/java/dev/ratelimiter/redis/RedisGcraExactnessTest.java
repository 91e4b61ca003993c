package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The GCRA script, which charges grants
 * {@code n * P / R} exactly, as a whole part and a remainder, with no rounding. The script is
 * called directly with an explicit clock reading, so every decision is deterministic, and checked
 * against {@link Model}, the algorithm in rational numbers over {@link BigInteger}.
 */
class RedisGcraExactnessTest {

    /** Keeps test state alive for an hour of wall time, whatever the script's clock says. */
    private static final String GRACE_MS = "3600000";
    /** Microseconds: 1000 units per millisecond, as Redis-time mode. */
    private static final String UNITS_PER_MS = "1000";

    private static RedisCommands<String, String> redis;
    private static String sha;
    private static String prefix;
    private static int keys;

    @BeforeAll
    static void load() {
        redis = SharedConnection.get().sync();
        sha = redis.scriptLoad(Scripts.GCRA.body());
        prefix = SharedConnection.freshPrefix() + "gcra-exact:";
    }

    private static String freshKey() {
        return prefix + (keys++);
    }

    /** A GCRA limit as the script takes it, and the exact algorithm in rationals. */
    private static final class Model {
        final long cap;
        final long rate;
        final long period;
        final boolean queue;
        /** The full-at time times R; null when the key is absent. */
        BigInteger x;

        Model(long cap, long rate, long period, boolean queue) {
            this.cap = cap;
            this.rate = rate;
            this.period = period;
            this.queue = queue;
        }

        String flags() {
            return queue ? "1" : "0";
        }

        BigInteger debt(long now) {
            if (x == null) {
                return BigInteger.ZERO;
            }
            return x.subtract(big(now).multiply(big(rate))).max(BigInteger.ZERO);
        }

        long remaining(BigInteger debt) {
            if (debt.signum() == 0) {
                return cap;
            }
            if (queue || debt.compareTo(big(cap).multiply(big(period))) >= 0) {
                return 0;
            }
            return cap - ceilDiv(debt, big(period));
        }

        long reset(BigInteger debt) {
            return ceilDiv(debt, big(rate));
        }

        /** The smallest whole wait after which the request fits (0 if it fits now). */
        long waitToFit(BigInteger debt, long n) {
            BigInteger excess = debt.subtract(big(cap - n).multiply(big(period)));
            if (excess.signum() <= 0) {
                return 0;
            }
            return ceilDiv(excess, big(rate));
        }

        boolean fits(BigInteger debt, long n) {
            return debt.compareTo(big(cap - n).multiply(big(period))) <= 0;
        }

        void charge(long now, long n) {
            BigInteger base = big(now).multiply(big(rate));
            if (x != null && x.compareTo(base) > 0) {
                base = x;
            }
            x = base.add(big(n).multiply(big(period)));
        }

        List<Long> decide(long now, long n) {
            BigInteger debt = debt(now);
            if (n > cap) {
                return List.of(0L, remaining(debt), -1L, reset(debt));
            }
            boolean grant = queue ? debt.signum() == 0 : fits(debt, n);
            if (!grant) {
                long retry = queue ? reset(debt) : waitToFit(debt, n);
                return List.of(0L, remaining(debt), retry, reset(debt));
            }
            charge(now, n);
            BigInteger after = debt(now);
            return List.of(1L, remaining(after), 0L, reset(after));
        }

        List<Long> reserve(long now, long n, long maxWait) {
            BigInteger debt = debt(now);
            if (n > cap || (queue && !fits(debt, n))) {
                return List.of(0L, remaining(debt), -1L, reset(debt));
            }
            long wait = queue ? reset(debt) : waitToFit(debt, n);
            if (wait > maxWait) {
                return List.of(0L, remaining(debt), wait, reset(debt));
            }
            charge(now, n);
            BigInteger after = debt(now);
            return List.of(1L, remaining(after), wait, reset(after));
        }

        /** The stored form of the state: "F" or "F q R". */
        String state() {
            if (x == null) {
                return null;
            }
            // Floored, as the script splits it: the remainder is in [0, R) for negative times too.
            BigInteger q = x.mod(big(rate));
            BigInteger f = x.subtract(q).divide(big(rate));
            return q.signum() == 0 ? f.toString() : f + " " + q + " " + rate;
        }

        private static long ceilDiv(BigInteger a, BigInteger b) {
            BigInteger[] qr = a.divideAndRemainder(b);
            return (qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE)).longValueExact();
        }

        private static BigInteger big(long v) {
            return BigInteger.valueOf(v);
        }
    }

    private static List<Object> call(String key, Model m, long now, long n, String... more) {
        List<String> argv = new ArrayList<>(List.of(Long.toString(now), Long.toString(m.cap), Long.toString(m.rate),
                Long.toString(m.period), Long.toString(n), m.flags(), UNITS_PER_MS, GRACE_MS));
        argv.addAll(List.of(more));
        return redis.evalsha(sha, ScriptOutputType.MULTI, new String[] {key}, argv.toArray(new String[0]));
    }

    private static List<Long> decision(List<Object> reply) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            out.add((Long) reply.get(i));
        }
        return out;
    }

    @Test
    public void singlePermitsAt600000PerSecondAreGrantedAtExactlyThatRate() {
        // 600,000 per second in microseconds: R = 3 permits per P = 5 us, burst 10.
        Model m = new Model(10, 3, 5, false);
        assertThat(grantsOfOneRequestPerMicrosecond(m, 30_000)).isEqualTo(18_000 + 10);
    }

    /** Sends one request per microsecond from 0 to {@code micros}, pipelined, and counts the grants. */
    private static long grantsOfOneRequestPerMicrosecond(Model m, long micros) {
        RedisAsyncCommands<String, String> async = SharedConnection.get().async();
        String key = freshKey();
        List<RedisFuture<List<Object>>> replies = new ArrayList<>();
        for (long t = 0; t <= micros; t++) {
            replies.add(async.evalsha(sha, ScriptOutputType.MULTI, new String[] {key}, Long.toString(t),
                    Long.toString(m.cap), Long.toString(m.rate), Long.toString(m.period), "1", m.flags(),
                    UNITS_PER_MS, GRACE_MS));
        }
        long grants = 0;
        for (RedisFuture<List<Object>> reply : replies) {
            grants += (Long) RedisKeyedLimiter.await(reply.toCompletableFuture()).get(0);
        }
        return grants;
    }

    @Test
    public void randomConfigurationsMatchTheExactModel() {
        Random random = new Random(20261129L);
        for (int c = 0; c < 1000; c++) {
            Model m = new Model(1 + random.nextInt(8), 1 + random.nextInt(9), 1 + random.nextInt(9), random.nextInt(4) == 0);
            String key = freshKey();
            long now = random.nextInt(20);
            for (int step = 0; step < 12; step++) {
                now += random.nextInt(4) - (random.nextInt(10) == 0 ? 3 : 0); // sometimes steps back
                long n = 1 + random.nextInt((int) m.cap + 1);
                String label = "case " + c + " step " + step + ": C=" + m.cap + " R=" + m.rate + " P=" + m.period
                        + " queue=" + m.queue + " now=" + now + " n=" + n + " state=" + m.state();
                if (random.nextInt(4) == 0) {
                    long maxWait = random.nextInt(12);
                    List<Long> expected = m.reserve(now, n, maxWait);
                    List<Object> reply = call(key, m, now, n, "reserve", Long.toString(maxWait));
                    assertThat(decision(reply)).as("reserve " + label).isEqualTo(expected);
                    if (expected.get(0) == 1L) {
                        assertThat(reply.get(4)).as("written " + label).isEqualTo(m.state());
                    }
                } else {
                    assertThat(decision(call(key, m, now, n))).as(label).isEqualTo(m.decide(now, n));
                }
                assertThat(redis.get(key)).as("state after " + label).isEqualTo(m.state());
            }
        }
    }

    @Test
    public void remainingAndRetryAfterAgreeWithTheNextCalls() {
        Random random = new Random(7L);
        int retriesChecked = 0;
        for (int c = 0; c < 300; c++) {
            Model m = new Model(1 + random.nextInt(8), 1 + random.nextInt(9), 1 + random.nextInt(9), random.nextInt(4) == 0);
            String key = freshKey();
            long now = 0;
            for (int step = 0; step < 6; step++) {
                now += random.nextInt(3);
                call(key, m, now, 1 + random.nextInt((int) m.cap));
            }
            String state = redis.get(key);
            long n = 1 + random.nextInt((int) m.cap);
            List<Object> d = call(key, m, now, n);
            String label = "C=" + m.cap + " R=" + m.rate + " P=" + m.period + " queue=" + m.queue + " state=" + state
                    + " now=" + now + " n=" + n;
            if ((Long) d.get(0) == 0L) {
                long retry = (Long) d.get(2);
                assertThat(retry).as(label).isPositive();
                assertThat(probe(state, m, now + retry - 1, n)).as("a unit early: " + label).isFalse();
                assertThat(probe(state, m, now + retry, n)).as("at retryAfter: " + label).isTrue();
                retriesChecked++;
                long remaining = (Long) d.get(1);
                if (remaining > 0) {
                    assertThat(probe(state, m, now, remaining)).as("remaining " + remaining + ": " + label).isTrue();
                }
                assertThat(probe(state, m, now, remaining + 1)).as("remaining + 1: " + label).isFalse();
            }
        }
        assertThat(retriesChecked).isGreaterThan(50);
    }

    /** Whether n permits are granted at {@code now} on a fresh key holding {@code state}. */
    private static boolean probe(String state, Model m, long now, long n) {
        String key = freshKey();
        redis.set(key, state);
        return (Long) call(key, m, now, n).get(0) == 1L;
    }

    @Test
    public void anOldFormatKeyIsReadAsAWholeTime() {
        // 3 permits per 5 us, capacity 10; a key written before remainders: full again at 100.
        Model m = new Model(10, 3, 5, false);
        String key = freshKey();
        redis.set(key, "100");
        m.x = BigInteger.valueOf(300);
        // At 90 the debt is exactly 10 us: 6 permits' worth.
        assertThat(decision(call(key, m, 90, 1))).isEqualTo(m.decide(90, 1)).containsExactly(1L, 3L, 0L, 12L);
        assertThat(redis.get(key)).isEqualTo("101 2 3");
    }

    @Test
    public void aTwoFieldKeyIsReadAtTheCurrentRate() {
        // "F q" without its rate term (written before it was stored): q is read in this limit's R.
        Model m = new Model(10, 3, 5, false);
        String key = freshKey();
        redis.set(key, "100 2");
        m.x = BigInteger.valueOf(302);
        assertThat(decision(call(key, m, 90, 1))).isEqualTo(m.decide(90, 1));
        assertThat(redis.get(key)).isEqualTo(m.state());
    }

    @Test
    public void releaseRestoresTheReplacedStateOnlyIfStillTheLastWrite() {
        Model m = new Model(4, 3, 5, false);
        String key = freshKey();
        call(key, m, 0, 4); // empty: full again at 20/3 = "6 2 3"
        assertThat(redis.get(key)).isEqualTo("6 2 3");
        List<Object> reserved = call(key, m, 0, 1, "reserve", "100");
        assertThat(reserved.get(4)).isEqualTo("8 1 3");
        assertThat(reserved.get(6)).isEqualTo("6 2 3");
        // Not the last write once it has changed: forfeited.
        redis.set(key, "8 2 3");
        assertThat(call(key, m, 1, 1, "release", "8 1 3", "6 2 3")).containsExactly(0L);
        assertThat(redis.get(key)).isEqualTo("8 2 3");
        redis.set(key, "8 1 3");
        assertThat(call(key, m, 1, 1, "release", "8 1 3", "6 2 3")).containsExactly(1L);
        assertThat(redis.get(key)).isEqualTo("6 2 3");
        assertThat(redis.pttl(key)).isPositive();
    }
}

package dev.ratelimiter.conformance;

import static dev.ratelimiter.conformance.ReferenceModel.ceilDiv;
import static dev.ratelimiter.conformance.ReferenceModel.saturated;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.TokenBucket;
import java.math.BigInteger;

/**
 * The reference token bucket (capacity C, R permits per P ns, starts full), which is also the
 * leaky bucket meter (GCRA with burst B: a token bucket with C = B), in exact arithmetic.
 *
 * <p>State: F, the time at which the bucket is full again, a rational number kept as
 * {@code F * R} (absent at first: full at every time, a reading before the first one included).
 * At time {@code now}, in units of {@code 1/R} ns:
 * <ul>
 *   <li>{@code D = max(0, F*R - now*R)}: the refill still owed, so the bucket holds C - D/P;
 *   <li>n permits are granted iff {@code D + n*P <= C*P}; then
 *       {@code F*R = max(F*R, now*R) + n*P}: exact, no rounding, so C single permits pass from
 *       full and the long-run rate is exactly R per P;
 *   <li>{@code remaining = floor((C*P - Dafter) / P)}, never below 0;
 *   <li>when denied, {@code retryAfter = ceil((D + n*P - C*P) / R)} ns: the smallest whole wait
 *       after which the same request is granted;
 *   <li>{@code reset = ceil(Dafter / R)} ns;
 *   <li>{@code n > C} is refused as {@link Decision#exceeding exceeding} the limit.
 * </ul>
 * A blocking request reserves: it is refused when {@code n > C} or its wait
 * {@code max(0, ceil((D + n*P - C*P) / R))} exceeds the timeout; otherwise F advances at
 * once as for a grant and the caller leaves after the wait.
 */
public final class TokenBucketModel implements ReferenceModel {

    private final BigInteger capacity;
    private final BigInteger rate;
    private final BigInteger period;
    private final long limit;
    /** F * R, or {@code null} while never granted. */
    private BigInteger full;

    /**
     * @param capacity C, {@code > 0}
     * @param permits  R, permits per period, {@code > 0}
     * @param period   P, in ns, {@code > 0}
     */
    public TokenBucketModel(long capacity, long permits, long period) {
        this.capacity = BigInteger.valueOf(capacity);
        this.rate = BigInteger.valueOf(permits);
        this.period = BigInteger.valueOf(period);
        this.limit = capacity;
    }

    /**
     * @param limit a token bucket
     * @return its model
     */
    public static TokenBucketModel of(TokenBucket limit) {
        return new TokenBucketModel(limit.capacity(), limit.refillPermits(), limit.refillPeriodNanos());
    }

    /**
     * @param limit a leaky bucket meter
     * @return its model: a token bucket whose capacity is the burst tolerance
     */
    public static TokenBucketModel meter(LeakyBucket limit) {
        return new TokenBucketModel(limit.capacity(), limit.permits(), limit.periodNanos());
    }

    /** @return D, the debt in units of 1/R ns */
    private BigInteger debt(BigInteger now) {
        return full == null ? BigInteger.ZERO : full.subtract(now.multiply(rate)).max(BigInteger.ZERO);
    }

    private long remaining(BigInteger debt) {
        BigInteger r = capacity.multiply(period).subtract(debt).divide(period);
        return saturated(r.max(BigInteger.ZERO));
    }

    /** @return the units by which the request's need exceeds the capacity, {@code <= 0} if it fits */
    private BigInteger shortfall(BigInteger debt, BigInteger n) {
        return debt.add(n.multiply(period)).subtract(capacity.multiply(period));
    }

    /** @return the whole ns until a debt is paid */
    private long nanos(BigInteger debt) {
        return saturated(ceilDiv(debt, rate));
    }

    private void take(BigInteger n, BigInteger now) {
        BigInteger base = now.multiply(rate);
        full = (full == null ? base : full.max(base)).add(n.multiply(period));
    }

    @Override
    public Decision decide(long permits, long nowNanos) {
        BigInteger now = BigInteger.valueOf(nowNanos);
        BigInteger n = BigInteger.valueOf(permits);
        BigInteger debt = debt(now);
        if (n.compareTo(capacity) > 0) {
            return Decision.exceeding(permits, remaining(debt), nanos(debt), limit);
        }
        BigInteger shortfall = shortfall(debt, n);
        if (shortfall.signum() <= 0) {
            take(n, now);
            BigInteger after = debt(now);
            return Decision.allowed(permits, remaining(after), nanos(after), limit);
        }
        return Decision.denied(permits, remaining(debt), nanos(shortfall), nanos(debt), limit);
    }

    @Override
    public long acquire(long permits, long nowNanos, long timeoutNanos) {
        BigInteger now = BigInteger.valueOf(nowNanos);
        BigInteger n = BigInteger.valueOf(permits);
        if (n.compareTo(capacity) > 0) {
            return -1;
        }
        BigInteger wait = ceilDiv(shortfall(debt(now), n).max(BigInteger.ZERO), rate);
        if (wait.compareTo(BigInteger.valueOf(Math.max(0, timeoutNanos))) > 0) {
            return -1;
        }
        take(n, now);
        return wait.longValueExact();
    }

    @Override
    public long maxPermits() {
        return limit;
    }

    @Override
    public TokenBucketModel copy() {
        TokenBucketModel copy = new TokenBucketModel(limit, rate.longValueExact(), period.longValueExact());
        copy.full = full;
        return copy;
    }

    /** The full-at instant moves back by {@code permits * P / R}, not before {@code now}. */
    @Override
    public void refund(long permits, long nowNanos) {
        full = refunded(full, rate, period, permits, nowNanos);
    }

    @Override
    public ReferenceModel reconfigured(Limit next, long now) {
        ReferenceModel model = ReferenceModel.of(next);
        carryFullAt(full, rate, model);
        return model;
    }

    /** @return {@code F * R} after a refund of {@code permits} at {@code now} */
    static BigInteger refunded(BigInteger full, BigInteger rate, BigInteger period, long permits, long nowNanos) {
        if (full == null) {
            return null;
        }
        BigInteger base = BigInteger.valueOf(nowNanos).multiply(rate);
        if (full.compareTo(base) <= 0) {
            return full;
        }
        return full.subtract(BigInteger.valueOf(permits).multiply(period)).max(base);
    }

    /**
     * Sets the full-at instant {@code full / rate} on a fresh bucket model (token bucket, meter or
     * queue), rounded up to the resolution the new rate keeps: {@code 1 / r} ns, where {@code r}
     * is its permits divided by their gcd with its period.
     */
    static void carryFullAt(BigInteger full, BigInteger rate, ReferenceModel model) {
        BigInteger newRate = model instanceof TokenBucketModel t ? t.rate : ((LeakyQueueModel) model).rate();
        BigInteger newPeriod = model instanceof TokenBucketModel t ? t.period : ((LeakyQueueModel) model).period();
        BigInteger carried = null;
        if (full != null) {
            BigInteger g = newRate.gcd(newPeriod);
            BigInteger r = newRate.divide(g);
            // F * r, rounded up, then in units of 1 / newRate (newRate = r * g).
            BigInteger scaled = full.multiply(r);
            BigInteger[] qr = scaled.divideAndRemainder(rate);
            BigInteger units = qr[0].add(qr[1].signum() > 0 ? BigInteger.ONE : BigInteger.ZERO);
            if (scaled.signum() < 0 && qr[1].signum() != 0) {
                units = qr[0]; // ceil of a negative quotient truncated toward zero
            }
            carried = units.multiply(g);
        }
        if (model instanceof TokenBucketModel t) {
            t.full = carried;
        } else {
            ((LeakyQueueModel) model).full(carried);
        }
    }

    @Override
    public String toString() {
        return "TokenBucketModel{C=" + capacity + ", R=" + rate + ", P=" + period + ", F=" + full + '}';
    }
}

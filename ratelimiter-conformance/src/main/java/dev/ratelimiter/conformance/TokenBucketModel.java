package dev.ratelimiter.conformance;

import static dev.ratelimiter.conformance.ReferenceModel.ceilDiv;
import static dev.ratelimiter.conformance.ReferenceModel.saturated;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.TokenBucket;
import java.math.BigInteger;

/**
 * The reference token bucket (capacity C, R permits per P ns, starts full), which is also the
 * leaky bucket meter (GCRA with burst B: a token bucket with C = B), in exact arithmetic.
 *
 * <p>State: F, the time at which the bucket is full again (starts at 0). At time {@code now}:
 * <ul>
 *   <li>{@code debt = max(0, F - now)}: ns of refill still owed;
 *   <li>n permits are granted iff {@code debt*R + n*P <= C*P}; then
 *       {@code F = max(F, now) + ceil(n*P/R)} (rounding the cost up is conservative);
 *   <li>{@code remaining = floor((C*P - debtAfter*R) / P)}, never below 0;
 *   <li>when denied, {@code retryAfter = ceil((debt*R + n*P - C*P) / R)}: the smallest wait after
 *       which the same request is granted;
 *   <li>{@code reset = debtAfter};
 *   <li>{@code n > C} is refused as {@link Decision#exceeding exceeding} the limit.
 * </ul>
 * A blocking request reserves: it is refused when {@code n > C} or its wait
 * {@code max(0, ceil((debt*R + n*P - C*P) / R))} exceeds the timeout; otherwise F advances at
 * once as for a grant and the caller leaves after the wait.
 */
public final class TokenBucketModel implements ReferenceModel {

    private final BigInteger capacity;
    private final BigInteger rate;
    private final BigInteger period;
    private final long limit;
    private BigInteger full = BigInteger.ZERO;

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

    private BigInteger debt(BigInteger now) {
        return full.subtract(now).max(BigInteger.ZERO);
    }

    private long remaining(BigInteger debt) {
        BigInteger r = capacity.multiply(period).subtract(debt.multiply(rate)).divide(period);
        return saturated(r.max(BigInteger.ZERO));
    }

    /** @return the ns by which the request's need exceeds the capacity, {@code <= 0} if it fits */
    private BigInteger shortfall(BigInteger debt, BigInteger n) {
        return debt.multiply(rate).add(n.multiply(period)).subtract(capacity.multiply(period));
    }

    private void take(BigInteger n, BigInteger now) {
        full = full.max(now).add(ceilDiv(n.multiply(period), rate));
    }

    @Override
    public Decision decide(long permits, long nowNanos) {
        BigInteger now = BigInteger.valueOf(nowNanos);
        BigInteger n = BigInteger.valueOf(permits);
        BigInteger debt = debt(now);
        if (n.compareTo(capacity) > 0) {
            return Decision.exceeding(permits, remaining(debt), saturated(debt), limit);
        }
        BigInteger shortfall = shortfall(debt, n);
        if (shortfall.signum() <= 0) {
            take(n, now);
            BigInteger after = debt(now);
            return Decision.allowed(permits, remaining(after), saturated(after), limit);
        }
        return Decision.denied(permits, remaining(debt), saturated(ceilDiv(shortfall, rate)), saturated(debt), limit);
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
    public String toString() {
        return "TokenBucketModel{C=" + capacity + ", R=" + rate + ", P=" + period + ", F=" + full + '}';
    }
}

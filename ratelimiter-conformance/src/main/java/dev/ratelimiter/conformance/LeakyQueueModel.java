package dev.ratelimiter.conformance;

import static dev.ratelimiter.conformance.ReferenceModel.ceilDiv;
import static dev.ratelimiter.conformance.ReferenceModel.saturated;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import java.math.BigInteger;

/**
 * The reference leaky bucket queue (R permits per P ns, queue capacity Q), in exact arithmetic.
 *
 * <p>State: F, the time at which the queue is empty again, a rational number kept as
 * {@code F * R} (absent at first: empty at every time); in units of {@code 1/R} ns,
 * {@code D = max(0, F*R - now*R)}, and {@code debt = ceil(D / R)} whole ns.
 * <ul>
 *   <li>A non-blocking request for n permits is granted iff {@code n <= Q} and {@code D == 0};
 *       then {@code F*R = max(F*R, now*R) + n*P} (exact), so immediate grants leave n*P/R apart.
 *   <li>{@code remaining = Q} when the debt after the decision is 0, else 0;
 *       {@code retryAfter = debt} when denied; {@code reset = debtAfter};
 *       {@code n > Q} is refused as exceeding the limit.
 *   <li>A blocking request reserves a slot: refused at once when {@code n > Q}, when the permits
 *       then waiting, itself included, would not fit ({@code D + n*P > Q*P}) or when its
 *       wait ({@code debt}) exceeds the timeout; otherwise F advances as for a grant and the
 *       caller leaves after {@code debt}.
 * </ul>
 */
public final class LeakyQueueModel implements ReferenceModel {

    private final BigInteger rate;
    private final BigInteger period;
    private final BigInteger queue;
    private final long limit;
    /** F * R, or {@code null} while never granted. */
    private BigInteger full;

    /**
     * @param limit a leaky bucket queue
     */
    public LeakyQueueModel(LeakyBucket limit) {
        this.rate = BigInteger.valueOf(limit.permits());
        this.period = BigInteger.valueOf(limit.periodNanos());
        this.queue = BigInteger.valueOf(limit.capacity());
        this.limit = limit.capacity();
    }

    /** @return the debt in whole ns, ceil(D / R) */
    private BigInteger debt(BigInteger now) {
        return full == null ? BigInteger.ZERO : ceilDiv(full.subtract(now.multiply(rate)).max(BigInteger.ZERO), rate);
    }

    /** @return D, the debt in units of 1/R ns */
    private BigInteger units(BigInteger now) {
        return full == null ? BigInteger.ZERO : full.subtract(now.multiply(rate)).max(BigInteger.ZERO);
    }

    private long remaining(BigInteger debt) {
        return debt.signum() == 0 ? limit : 0;
    }

    private void take(BigInteger n, BigInteger now) {
        BigInteger base = now.multiply(rate);
        full = (full == null ? base : full.max(base)).add(n.multiply(period));
    }

    @Override
    public Decision decide(long permits, long nowNanos) {
        BigInteger now = BigInteger.valueOf(nowNanos);
        BigInteger debt = debt(now);
        if (permits > limit) {
            return Decision.exceeding(permits, remaining(debt), saturated(debt), limit);
        }
        if (debt.signum() == 0) {
            take(BigInteger.valueOf(permits), now);
            BigInteger after = debt(now);
            return Decision.allowed(permits, remaining(after), saturated(after), limit);
        }
        return Decision.denied(permits, remaining(debt), saturated(debt), saturated(debt), limit);
    }

    @Override
    public long acquire(long permits, long nowNanos, long timeoutNanos) {
        BigInteger now = BigInteger.valueOf(nowNanos);
        BigInteger n = BigInteger.valueOf(permits);
        BigInteger debt = debt(now);
        if (permits > limit
                || units(now).add(n.multiply(period)).compareTo(queue.multiply(period)) > 0
                || debt.compareTo(BigInteger.valueOf(Math.max(0, timeoutNanos))) > 0) {
            return -1;
        }
        take(n, now);
        return debt.longValueExact();
    }

    @Override
    public long maxPermits() {
        return limit;
    }

    @Override
    public LeakyQueueModel copy() {
        LeakyQueueModel copy = new LeakyQueueModel(LeakyBucket.queue(rate.longValueExact(),
                java.time.Duration.ofNanos(period.longValueExact()), limit));
        copy.full = full;
        return copy;
    }

    /** The full-at instant moves back by {@code permits * P / R}, not before {@code now}. */
    @Override
    public void refund(long permits, long nowNanos) {
        full = TokenBucketModel.refunded(full, rate, period, permits, nowNanos);
    }

    @Override
    public ReferenceModel reconfigured(Limit next, long now) {
        ReferenceModel model = ReferenceModel.of(next);
        TokenBucketModel.carryFullAt(full, rate, model);
        return model;
    }

    BigInteger rate() {
        return rate;
    }

    BigInteger period() {
        return period;
    }

    void full(BigInteger full) {
        this.full = full;
    }

    @Override
    public String toString() {
        return "LeakyQueueModel{R=" + rate + ", P=" + period + ", Q=" + queue + ", F=" + full + '}';
    }
}

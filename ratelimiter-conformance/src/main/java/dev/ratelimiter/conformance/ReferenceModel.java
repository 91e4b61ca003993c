package dev.ratelimiter.conformance;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import java.math.BigInteger;

/**
 * A slow, obviously correct model of one limiter, against which the conformance suite compares
 * every backend decision for decision.
 *
 * <p>Time is given relative to the limiter's first clock reading (a limiter measures time from
 * its construction), so the first decision of a fresh limiter happens at {@code now = 0}. Models
 * use exact arithmetic ({@link BigInteger}) or plain lists of grants; they are not thread-safe
 * and are meant for single-threaded scripts only, with a clock that never goes backwards.
 */
public interface ReferenceModel {

    /**
     * Decides on a non-blocking request, updating the model state when it is granted.
     *
     * @param permits the permits requested, {@code > 0}
     * @param now     the time, in ns since the limiter's first reading
     * @return the decision the limiter must report
     */
    Decision decide(long permits, long now);

    /**
     * Decides on a blocking request made by a single caller, under a clock whose sleeper
     * advances time: the wait the caller must go through before being granted, or {@code -1}
     * when it must be refused at once (consuming nothing). A grant updates the model state as
     * of the moment the request was made (a reservation) or its end (polling), whichever the
     * algorithm specifies; either way the later decisions agree.
     *
     * @param permits      the permits requested, {@code > 0}
     * @param now          the time of the request, in ns since the limiter's first reading
     * @param timeoutNanos the longest wait; {@code <= 0} means do not wait
     * @return the wait in ns ({@code 0} when granted at once), or {@code -1} when refused
     */
    long acquire(long permits, long now, long timeoutNanos);

    /**
     * {@link #acquire} for algorithms that reserve nothing while waiting (the sliding windows):
     * the caller sleeps for the decision's retry-after and decides again, which, with no one else
     * acting, then succeeds.
     *
     * @param model        the model
     * @param permits      the permits requested, {@code > 0}
     * @param now          the time of the request
     * @param timeoutNanos the longest wait
     * @return the wait in ns ({@code 0} when granted at once), or {@code -1} when refused
     */
    static long pollingAcquire(ReferenceModel model, long permits, long now, long timeoutNanos) {
        Decision d = model.decide(permits, now);
        if (d.isAllowed()) {
            return 0;
        }
        if (d.exceedsLimit() || d.retryAfterNanos() > timeoutNanos) {
            return -1;
        }
        if (!model.decide(permits, now + d.retryAfterNanos()).isAllowed()) {
            throw new AssertionError("retryAfter must be enough: " + d);
        }
        return d.retryAfterNanos();
    }

    /**
     * @return the most permits one request can ever be granted
     */
    long maxPermits();

    /**
     * @return an independent copy of this model, in the same state
     */
    ReferenceModel copy();

    /**
     * The decision {@link #decide} would return at {@code now}, changing nothing.
     *
     * @param permits the permits, {@code > 0}
     * @param now     the time
     * @return the decision
     */
    default Decision peek(long permits, long now) {
        return copy().decide(permits, now);
    }

    /**
     * The largest {@code n} a {@link #decide} at {@code now} would grant (0 if none), found by a
     * binary search over copies, changing nothing.
     *
     * @param now the time
     * @return the permits available
     */
    default long available(long now) {
        long lo = 0; // granted (trivially)
        long hi = maxPermits() + 1; // refused (exceeds the limit)
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (peek(mid, now).isAllowed()) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * Takes every permit available at {@code now} in one grant.
     *
     * @param now the time
     * @return the permits taken
     */
    default long drain(long now) {
        long available = available(now);
        if (available > 0 && !decide(available, now).isAllowed()) {
            throw new AssertionError("the available permits must be granted: " + available);
        }
        return available;
    }

    /**
     * Gives back {@code permits} permits at {@code now}, by the rules of
     * {@link dev.ratelimiter.RateLimiter#refund(long)}.
     *
     * @param permits the permits, {@code > 0}
     * @param now     the time
     */
    void refund(long permits, long now);

    /**
     * This model's state carried to {@code limit} at {@code now}, by the rules of
     * {@link dev.ratelimiter.RateLimiter#reconfigure(Limit)}; this model is left unchanged.
     *
     * @param limit a limit of the same family
     * @param now   the time
     * @return the model of the reconfigured limiter
     */
    ReferenceModel reconfigured(Limit limit, long now);

    /**
     * The model of a limit, as every backend must implement it.
     *
     * @param limit the limit
     * @return a fresh model in the limit's initial (full) state
     * @throws NullPointerException if {@code limit} is {@code null}
     */
    static ReferenceModel of(Limit limit) {
        if (limit instanceof TokenBucket tb) {
            return TokenBucketModel.of(tb);
        }
        if (limit instanceof LeakyBucket lb) {
            return lb.mode() == LeakyBucket.Mode.METER ? TokenBucketModel.meter(lb) : new LeakyQueueModel(lb);
        }
        SlidingWindow sw = (SlidingWindow) limit;
        return sw.mode() == SlidingWindow.Mode.LOG ? new SlidingWindowLogModel(sw) : new SlidingWindowCounterModel(sw);
    }

    /**
     * @param value a non-negative number
     * @return it as a {@code long}, saturated at {@link Long#MAX_VALUE}
     */
    static long saturated(BigInteger value) {
        return value.bitLength() < 64 ? value.longValue() : Long.MAX_VALUE;
    }

    /**
     * @param a a non-negative number
     * @param b a positive number
     * @return {@code ceil(a / b)}
     */
    static BigInteger ceilDiv(BigInteger a, BigInteger b) {
        BigInteger[] qr = a.divideAndRemainder(b);
        return qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
    }
}

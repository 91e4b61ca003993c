package dev.ratelimiter.redis;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import java.math.BigInteger;

/**
 * A {@link Limit} translated into the integers one script takes, in the time unit of the
 * decisions, and checked to fit the scripts' exact arithmetic: every number below
 * {@link #MAX_EXACT} (2^52), so that sums of two of them stay below 2^53 where Lua's doubles are
 * exact integers. Immutable.
 */
final class LimitArgs {

    /** The largest count, rate term, period, window or refill time a script accepts: 2^52. */
    static final long MAX_EXACT = 1L << 52;

    final Limit limit;
    final Scripts script;
    /** C, the queue capacity, or L. */
    final long max;
    /** R (GCRA only): permits per {@link #period} time units, reduced. */
    final long rate;
    /** P (GCRA) or W (windows), in time units. */
    final long period;
    /** Whether the GCRA grants at zero debt only. */
    final boolean queue;
    /** The longest a state takes to become full again, in time units: the exact-range margin. */
    final long span;

    private LimitArgs(Limit limit, Scripts script, long max, long rate, long period, boolean queue, long span) {
        this.limit = limit;
        this.script = script;
        this.max = max;
        this.rate = rate;
        this.period = period;
        this.queue = queue;
        this.span = span;
    }

    /**
     * @param limit     the limit
     * @param unitNanos nanoseconds per time unit of the decisions (1000 for microseconds)
     * @return the script arguments
     * @throws IllegalArgumentException if a number does not fit the exact range, or a window is
     *                                  not a whole number of time units
     */
    static LimitArgs of(Limit limit, long unitNanos) {
        if (limit instanceof TokenBucket tb) {
            return gcra(limit, "capacity", tb.capacity(), tb.refillPermits(), tb.refillPeriodNanos(), false, unitNanos);
        }
        if (limit instanceof LeakyBucket lb) {
            boolean queue = lb.mode() == LeakyBucket.Mode.QUEUE;
            return gcra(limit, queue ? "queueCapacity" : "burst", lb.capacity(), lb.permits(), lb.periodNanos(),
                    queue, unitNanos);
        }
        SlidingWindow sw = (SlidingWindow) limit;
        long window = sw.windowNanos();
        if (window % unitNanos != 0) {
            throw new IllegalArgumentException("window must be a whole number of " + unitName(unitNanos)
                    + " for a Redis limiter: window=" + sw.window());
        }
        long w = window / unitNanos;
        check("limit", sw.limit());
        check("window in " + unitName(unitNanos), w);
        Scripts script = sw.mode() == SlidingWindow.Mode.LOG ? Scripts.SLIDING_LOG : Scripts.SLIDING_COUNTER;
        return new LimitArgs(limit, script, sw.limit(), 0, w, false, 2 * w);
    }

    private static LimitArgs gcra(Limit limit, String capacityName, long capacity, long permits, long periodNanos,
                                  boolean queue, long unitNanos) {
        // R permits per P ns is R * unit permits per P time units; reduce the fraction.
        BigInteger r = BigInteger.valueOf(permits).multiply(BigInteger.valueOf(unitNanos));
        BigInteger p = BigInteger.valueOf(periodNanos);
        BigInteger g = r.gcd(p);
        r = r.divide(g);
        p = p.divide(g);
        check(capacityName, capacity);
        if (r.bitLength() > 52 || p.bitLength() > 52) {
            throw new IllegalArgumentException("rate must be expressible as R permits per P "
                    + unitName(unitNanos) + " with R and P at most 2^52 for a Redis limiter: rate="
                    + permits + " per " + periodNanos + " ns");
        }
        BigInteger[] qr = BigInteger.valueOf(capacity).multiply(p).divideAndRemainder(r);
        BigInteger fill = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
        if (fill.compareTo(BigInteger.valueOf(MAX_EXACT)) > 0) {
            throw new IllegalArgumentException("the time to refill " + capacityName + " from empty must be at most 2^52 "
                    + unitName(unitNanos) + " for a Redis limiter: " + capacityName + "=" + capacity
                    + ", rate=" + permits + " per " + periodNanos + " ns");
        }
        return new LimitArgs(limit, Scripts.GCRA, capacity, r.longValueExact(), p.longValueExact(), queue,
                fill.longValueExact());
    }

    private static void check(String name, long value) {
        if (value > MAX_EXACT) {
            throw new IllegalArgumentException(name + " must be at most 2^52 (" + MAX_EXACT
                    + ") for a Redis limiter, whose scripts count in exact doubles: " + name + "=" + value);
        }
    }

    static String unitName(long unitNanos) {
        return unitNanos == 1 ? "nanoseconds" : unitNanos == 1000 ? "microseconds" : "units of " + unitNanos + " ns";
    }
}

package dev.ratelimiter.conformance;

import dev.ratelimiter.Decision;
import dev.ratelimiter.SlidingWindow;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference sliding window counter (limit L, window W ns), kept as a plain list of every
 * grant and evaluated in exact arithmetic.
 *
 * <p>At time {@code now}: the fixed window index is {@code k = floorDiv(now, W)} and the time
 * elapsed in it {@code e = now - k*W}; {@code previous} and {@code current} are the permits
 * granted in fixed windows k-1 and k. Then:
 * <ul>
 *   <li>n permits are granted iff {@code previous*(W - e) + (current + n)*W <= L*W};
 *   <li>{@code remaining = max(0, floor((L*W - previous*(W - e)) / W) - current)} after the
 *       decision;
 *   <li>when denied, {@code retryAfter} is the smallest {@code w > 0} such that the same
 *       request would be granted at {@code now + w} if nothing else were granted. The weighted
 *       count {@code previous*(W - e) + current*W} never grows as time passes (at a window
 *       boundary it is {@code current*W} on both sides), so the grant condition is monotone
 *       in time and a binary search over {@code (0, 2W]} finds w (after 2W both counts are 0);
 *   <li>{@code reset}, the time until the estimate is 0: {@code (W - e) + W} when
 *       {@code current > 0}, else {@code W - e} when {@code previous > 0}, else 0;
 *   <li>{@code n > L} is refused as exceeding the limit.
 * </ul>
 * A blocking request polls, as in {@link SlidingWindowLogModel}.
 */
public final class SlidingWindowCounterModel implements ReferenceModel {

    private final long limit;
    private final long window;
    /** Grants in time order: {time, permits}. */
    private final List<long[]> grants = new ArrayList<>();

    /**
     * @param limit a sliding window counter
     */
    public SlidingWindowCounterModel(SlidingWindow limit) {
        this.limit = limit.limit();
        this.window = limit.windowNanos();
    }

    private long permitsIn(long fixedWindow) {
        long sum = 0;
        for (long[] g : grants) {
            if (Math.floorDiv(g[0], window) == fixedWindow) {
                sum = Math.addExact(sum, g[1]);
            }
        }
        return sum;
    }

    /** @return {@code previous*(W - e)} at {@code now} */
    private BigInteger weightedPrevious(long now) {
        long k = Math.floorDiv(now, window);
        long e = now - k * window;
        return BigInteger.valueOf(permitsIn(k - 1)).multiply(BigInteger.valueOf(window - e));
    }

    private boolean grantable(long permits, long now) {
        long current = permitsIn(Math.floorDiv(now, window));
        BigInteger lhs = weightedPrevious(now)
                .add(BigInteger.valueOf(current).add(BigInteger.valueOf(permits)).multiply(BigInteger.valueOf(window)));
        return lhs.compareTo(BigInteger.valueOf(limit).multiply(BigInteger.valueOf(window))) <= 0;
    }

    private long remaining(long now) {
        long current = permitsIn(Math.floorDiv(now, window));
        BigInteger w = BigInteger.valueOf(window);
        BigInteger r = BigInteger.valueOf(limit).multiply(w).subtract(weightedPrevious(now)).divide(w)
                .subtract(BigInteger.valueOf(current));
        return r.max(BigInteger.ZERO).longValueExact();
    }

    private long reset(long now) {
        long k = Math.floorDiv(now, window);
        long e = now - k * window;
        if (permitsIn(k) > 0) {
            return window - e + window;
        }
        return permitsIn(k - 1) > 0 ? window - e : 0;
    }

    private long retryAfter(long permits, long now) {
        long lo = 0; // not grantable at now + lo
        long hi = 2 * window; // grantable at now + hi
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (grantable(permits, now + mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    @Override
    public Decision decide(long permits, long now) {
        if (permits > limit) {
            return Decision.exceeding(permits, remaining(now), reset(now), limit);
        }
        if (grantable(permits, now)) {
            grants.add(new long[] {now, permits});
            return Decision.allowed(permits, remaining(now), reset(now), limit);
        }
        return Decision.denied(permits, remaining(now), retryAfter(permits, now), reset(now), limit);
    }

    @Override
    public long acquire(long permits, long now, long timeoutNanos) {
        return ReferenceModel.pollingAcquire(this, permits, now, timeoutNanos);
    }

    @Override
    public long maxPermits() {
        return limit;
    }

    @Override
    public SlidingWindowCounterModel copy() {
        SlidingWindowCounterModel copy = new SlidingWindowCounterModel(
                SlidingWindow.counter(limit, java.time.Duration.ofNanos(window)));
        for (long[] g : grants) {
            copy.grants.add(g.clone());
        }
        return copy;
    }

    /** The current fixed window's count goes down by {@code permits}, then the previous one's. */
    @Override
    public void refund(long permits, long now) {
        long k = Math.floorDiv(now, window);
        long left = permits;
        for (long fixed = k; fixed >= k - 1 && left > 0; fixed--) {
            for (int i = grants.size() - 1; i >= 0 && left > 0; i--) {
                long[] g = grants.get(i);
                if (Math.floorDiv(g[0], window) != fixed) {
                    continue;
                }
                long taken = Math.min(left, g[1]);
                g[1] -= taken;
                left -= taken;
                if (g[1] == 0) {
                    grants.remove(i);
                }
            }
        }
    }

    /** The counts are kept; the window is the same (the new limit must have this window). */
    @Override
    public ReferenceModel reconfigured(dev.ratelimiter.Limit next, long now) {
        SlidingWindow counter = (SlidingWindow) next;
        if (counter.windowNanos() != window) {
            throw new IllegalArgumentException("a counter keeps its window: " + next);
        }
        SlidingWindowCounterModel model = new SlidingWindowCounterModel(counter);
        for (long[] g : grants) {
            model.grants.add(g.clone());
        }
        return model;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SlidingWindowCounterModel{L=" + limit + ", W=" + window + ", grants=");
        for (long[] g : grants) {
            sb.append(' ').append(g[1]).append('@').append(g[0]);
        }
        return sb.append('}').toString();
    }
}

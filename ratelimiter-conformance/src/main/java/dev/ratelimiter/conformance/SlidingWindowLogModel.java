package dev.ratelimiter.conformance;

import dev.ratelimiter.Decision;
import dev.ratelimiter.SlidingWindow;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference sliding window log (limit L, window W ns): a plain list of every grant.
 *
 * <p>A grant made at time g counts at time t while {@code t - W < g}, i.e. in the half-open
 * window {@code (t - W, t]}. At time {@code now}, with {@code live} the permits counted:
 * <ul>
 *   <li>n permits are granted iff {@code live + n <= L};
 *   <li>{@code remaining = L - live} after the decision;
 *   <li>when denied, {@code retryAfter} is the time until enough of the oldest live grants have
 *       left the window for the request to fit: {@code g + W - now} for the grant g whose
 *       expiry makes it fit;
 *   <li>{@code reset = newest live grant + W - now}, or 0 when nothing is live;
 *   <li>{@code n > L} is refused as exceeding the limit.
 * </ul>
 * A blocking request polls: it waits {@code retryAfter} when that fits the timeout, and is
 * granted at the end of the wait; nothing is reserved meanwhile.
 */
public final class SlidingWindowLogModel implements ReferenceModel {

    private final long limit;
    private final long window;
    /** Grants in time order: {time, permits}. */
    private final List<long[]> grants = new ArrayList<>();

    /**
     * @param limit a sliding window log
     */
    public SlidingWindowLogModel(SlidingWindow limit) {
        this.limit = limit.limit();
        this.window = limit.windowNanos();
    }

    private boolean isLive(long[] grant, long now) {
        return now - window < grant[0];
    }

    private long live(long now) {
        long live = 0;
        for (long[] g : grants) {
            if (isLive(g, now)) {
                live = Math.addExact(live, g[1]);
            }
        }
        return live;
    }

    private long reset(long now) {
        long newest = -1;
        for (long[] g : grants) {
            if (isLive(g, now)) {
                newest = g[0] + window - now;
            }
        }
        return Math.max(0, newest);
    }

    @Override
    public Decision decide(long permits, long now) {
        long live = live(now);
        if (permits > limit) {
            return Decision.exceeding(permits, Math.max(0, limit - live), reset(now), limit);
        }
        if (live + permits <= limit) {
            grants.add(new long[] {now, permits});
            return Decision.allowed(permits, limit - live - permits, reset(now), limit);
        }
        long stillLive = live;
        for (long[] g : grants) {
            if (isLive(g, now)) {
                stillLive -= g[1];
                if (stillLive + permits <= limit) {
                    return Decision.denied(permits, Math.max(0, limit - live), g[0] + window - now, reset(now), limit);
                }
            }
        }
        throw new AssertionError("a request of at most L permits fits once every grant expired");
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
    public SlidingWindowLogModel copy() {
        SlidingWindowLogModel copy = new SlidingWindowLogModel(SlidingWindow.log(limit, java.time.Duration.ofNanos(window)));
        for (long[] g : grants) {
            copy.grants.add(g.clone());
        }
        return copy;
    }

    /** The newest {@code permits} granted permits still in the window are removed. */
    @Override
    public void refund(long permits, long now) {
        long left = permits;
        for (int i = grants.size() - 1; i >= 0 && left > 0; i--) {
            long[] g = grants.get(i);
            if (!isLive(g, now)) {
                break;
            }
            long taken = Math.min(left, g[1]);
            g[1] -= taken;
            left -= taken;
            if (g[1] == 0) {
                grants.remove(i);
            }
        }
    }

    /** The grants still in this window at {@code now}, counted in the new limit's window. */
    @Override
    public ReferenceModel reconfigured(dev.ratelimiter.Limit next, long now) {
        SlidingWindowLogModel model = new SlidingWindowLogModel((SlidingWindow) next);
        for (long[] g : grants) {
            if (isLive(g, now)) {
                model.grants.add(g.clone());
            }
        }
        return model;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SlidingWindowLogModel{L=" + limit + ", W=" + window + ", grants=");
        for (long[] g : grants) {
            sb.append(' ').append(g[1]).append('@').append(g[0]);
        }
        return sb.append('}').toString();
    }
}

package dev.ratelimiter.conformance;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A {@link RateLimiter} that is its {@link ReferenceModel}, so that the conformance suite can be
 * run against the models themselves: this checks the suite's hard-coded scenarios and the
 * self-consistency of the models (retry-after, remaining, reset, bounds). Single-threaded.
 *
 * <p>The clock is clamped to the time of the latest grant, so that the models, which assume a
 * monotonic clock, see their grants in time order; a refusal moves nothing, as in every backend. A
 * blocking acquire that is interrupted is undone by rebuilding the model from its history
 * without that acquire.
 */
final class ModelLimiter implements RateLimiter {

    private Limit limit;
    private final Ticker ticker;
    private final Sleeper sleeper;
    private long origin;
    /** The model as of the latest operation that is not a decision: the history replays from it. */
    private ReferenceModel base;
    private final List<long[]> history = new ArrayList<>(); // {kind, permits, now, timeout[, until]}
    private ReferenceModel model;
    private long last;

    ModelLimiter(Limit limit, Ticker ticker, Sleeper sleeper) {
        this.limit = Objects.requireNonNull(limit, "limit");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.origin = ticker.read();
        this.model = ReferenceModel.of(limit);
        this.base = model.copy();
    }

    /** @return the reading, clamped to the latest time a grant was made at */
    private synchronized long now() {
        return Math.max(last, ticker.read() - origin);
    }

    @Override
    public boolean tryAcquire(long permits) {
        return decide(permits).isAllowed();
    }

    @Override
    public synchronized Decision decide(long permits) {
        Checks.requested(permits);
        long now = now();
        history.add(new long[] {0, permits, now, 0});
        Decision d = model.decide(permits, now);
        if (d.isAllowed()) {
            last = now; // only a grant moves the clamp: a refusal writes nothing
        }
        return d;
    }

    @Override
    public boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
        Checks.requested(permits);
        Objects.requireNonNull(timeout, "timeout");
        long timeoutNanos = timeout.isNegative() ? 0 : saturatedNanos(timeout);
        long[] op = reserve(permits, timeoutNanos);
        if (op == null) {
            return false;
        }
        try {
            while (now() < op[4]) {
                sleeper.sleepNanos(op[4] - now());
            }
        } catch (InterruptedException e) {
            undo(op);
            throw e;
        }
        return true;
    }

    /** @return the recorded operation {kind, permits, now, timeout, until}, or null if refused */
    private synchronized long[] reserve(long permits, long timeoutNanos) {
        long now = now();
        long wait = model.acquire(permits, now, timeoutNanos);
        if (wait < 0) {
            return null;
        }
        long[] op = {1, permits, now, timeoutNanos, now + wait};
        history.add(op);
        last = now;
        return op;
    }

    private synchronized void undo(long[] op) {
        history.remove(op);
        model = base.copy();
        for (long[] h : history) {
            if (h[0] == 0) {
                model.decide(h[1], h[2]);
            } else {
                model.acquire(h[1], h[2], h[3]);
            }
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public Limit limit() {
        return limit;
    }

    /** After an operation that is not a decision: the history starts again from the model as it is. */
    private void rebase() {
        history.clear();
        base = model.copy();
    }

    @Override
    public synchronized Decision peek(long permits) {
        Checks.requested(permits);
        return model.peek(permits, now());
    }

    @Override
    public synchronized long availablePermits() {
        return model.available(now());
    }

    @Override
    public synchronized void reset() {
        origin = ticker.read();
        last = 0;
        model = ReferenceModel.of(limit);
        rebase();
    }

    @Override
    public synchronized void refund(long permits) {
        Checks.requested(permits);
        model.refund(permits, now());
        rebase();
    }

    @Override
    public synchronized long drain() {
        long now = now();
        long taken = model.drain(now);
        if (taken > 0) {
            last = now;
        }
        rebase();
        return taken;
    }

    @Override
    public synchronized void reconfigure(Limit next) {
        Checks.reconfiguration(limit, next);
        model = model.reconfigured(next, now());
        limit = next;
        rebase();
    }
}

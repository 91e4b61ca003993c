package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;

/**
 * The limiter {@link LocalRateLimiters#create} returns: a volatile reference to the limiter that
 * currently decides (the engine). {@link #reconfigure}, {@link #refund} and {@link #reset}
 * replace the engine by one built from its state by the retire protocol of {@link Swaps}; they
 * are serialized among themselves, while decisions stay lock-free: one volatile read of the
 * reference more than the engine's own decision, and a decision that finds its engine retired
 * moves to the engine's successor with the same clock reading.
 */
final class ReconfigurableLimiter implements RateLimiter {

    private final Ticker ticker;
    private volatile LocalLimiter engine;

    ReconfigurableLimiter(LocalLimiter engine) {
        this.ticker = engine.ticker;
        this.engine = engine;
    }

    /** The engine after a retired one: its successor, or the current one. */
    private LocalLimiter next(LocalLimiter retired) {
        LocalLimiter s = retired.successor;
        return s != null ? s : engine;
    }

    @Override
    public boolean tryAcquire(long permits) {
        Checks.requested(permits);
        long now = ticker.read();
        LocalLimiter e = engine;
        while (true) {
            int result = e.tryAcquireAt(permits, now);
            if (result != LocalLimiter.RETIRED) {
                return result == LocalLimiter.ALLOWED;
            }
            e = next(e);
        }
    }

    @Override
    public Decision decide(long permits) {
        Checks.requested(permits);
        long now = ticker.read();
        LocalLimiter e = engine;
        while (true) {
            Decision d = e.decideAt(permits, now);
            if (d != LocalLimiter.RETIRED_DECISION) {
                return d;
            }
            e = next(e);
        }
    }

    @Override
    public boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
        Checks.requested(permits);
        long timeoutNanos = Checks.timeoutNanos(timeout);
        long start = ticker.read();
        LocalLimiter e = engine;
        long left = timeoutNanos; // no second clock read before the first attempt
        while (true) {
            int result = e.acquireBlocking(permits, Math.max(0, left));
            if (result != LocalLimiter.RETIRED) {
                return result == LocalLimiter.ALLOWED;
            }
            left = timeoutNanos - Math.max(0, ticker.read() - start);
            e = next(e);
        }
    }

    @Override
    public Limit limit() {
        return engine.limit();
    }

    @Override
    public Decision peek(long permits) {
        Checks.requested(permits);
        long now = ticker.read();
        LocalLimiter e = engine;
        while (true) {
            Decision d = e.peekAt(permits, now);
            if (d != LocalLimiter.RETIRED_DECISION) {
                return d;
            }
            e = next(e);
        }
    }

    @Override
    public long availablePermits() {
        long now = ticker.read();
        LocalLimiter e = engine;
        while (true) {
            long available = e.availableAt(now);
            if (available >= 0) {
                return available;
            }
            e = next(e);
        }
    }

    @Override
    public long drain() {
        long now = ticker.read();
        LocalLimiter e = engine;
        while (true) {
            long taken = e.drainAt(now);
            if (taken >= 0) {
                return taken;
            }
            e = next(e);
        }
    }

    @Override
    public synchronized void reset() {
        LocalLimiter old = engine;
        engine = Swaps.replaceFresh(old, old.limit(), ticker.read());
    }

    @Override
    public synchronized void refund(long permits) {
        Checks.requested(permits);
        LocalLimiter old = engine;
        engine = Swaps.replace(old, old.limit(), permits, ticker.read());
    }

    @Override
    public void reconfigure(Limit limit) {
        synchronized (this) {
            LocalLimiter old = engine;
            Checks.reconfiguration(old.limit(), limit);
            engine = Swaps.replace(old, limit, 0, ticker.read());
        }
    }

    @Override
    public String toString() {
        return engine.toString();
    }
}

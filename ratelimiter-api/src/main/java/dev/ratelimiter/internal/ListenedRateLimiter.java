package dev.ratelimiter.internal;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.Ticker;
import java.time.Duration;
import java.util.Objects;

/**
 * A {@link RateLimiter} that tells a {@link RateLimiterListener} of the decisions of the limiter
 * it wraps. Factories wrap a limiter in one only when a listener is registered, so an unlistened
 * limiter is the bare object and pays nothing.
 *
 * <p>Thread-safe and lock-free when the wrapped limiter is: all fields are final, and the
 * listener is called after the wrapped decision, guarded ({@link Listeners}). It allocates
 * nothing of its own per decision: the listener gets the {@link Decision} the wrapped limiter
 * returned, or {@code null} for {@code tryAcquire}. A blocking acquire reads the clock twice
 * more, to report the time waited. Every other operation goes straight to the wrapped limiter.
 * A reconfiguration reports the limit read just before it as the old one: two reconfigurations
 * racing each other may both report the same old limit (each new limit is reported once).
 * Not API: may change without notice.
 */
public final class ListenedRateLimiter implements RateLimiter {

    private final RateLimiter delegate;
    private final String name;
    private final RateLimiterListener listener;
    private final Ticker ticker;

    /**
     * @param name     the limiter's name, reported with every event
     * @param delegate the limiter deciding
     * @param listener told of its decisions
     * @param ticker   the clock the time waited is measured with (the limiter's own)
     * @throws NullPointerException if an argument is {@code null}
     */
    public ListenedRateLimiter(String name, RateLimiter delegate, RateLimiterListener listener, Ticker ticker) {
        this.name = Objects.requireNonNull(name, "name");
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    /** @return the limiter's name */
    public String name() {
        return name;
    }

    /** @return the wrapped limiter */
    public RateLimiter delegate() {
        return delegate;
    }

    @Override
    public boolean tryAcquire(long permits) {
        boolean granted = delegate.tryAcquire(permits);
        if (granted) {
            Listeners.granted(listener, name, null, permits, null);
        } else {
            Listeners.denied(listener, name, null, permits, null);
        }
        return granted;
    }

    @Override
    public Decision decide(long permits) {
        Decision decision = delegate.decide(permits);
        if (decision.isAllowed()) {
            Listeners.granted(listener, name, null, permits, decision);
        } else {
            Listeners.denied(listener, name, null, permits, decision);
        }
        return decision;
    }

    @Override
    public boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
        long start = ticker.read();
        boolean granted = delegate.tryAcquire(permits, timeout);
        Listeners.waited(listener, name, null, permits, granted, Math.max(0, ticker.read() - start));
        return granted;
    }

    @Override
    public Limit limit() {
        return delegate.limit();
    }

    @Override
    public Decision peek(long permits) {
        return delegate.peek(permits);
    }

    @Override
    public long availablePermits() {
        return delegate.availablePermits();
    }

    @Override
    public void reset() {
        delegate.reset();
    }

    @Override
    public void refund(long permits) {
        delegate.refund(permits);
    }

    @Override
    public long drain() {
        return delegate.drain();
    }

    @Override
    public void reconfigure(Limit limit) {
        Limit old = delegate.limit();
        delegate.reconfigure(limit);
        Listeners.reconfigured(listener, name, old, limit);
    }

    @Override
    public String toString() {
        return "Listened{" + name + ", " + delegate + '}';
    }
}

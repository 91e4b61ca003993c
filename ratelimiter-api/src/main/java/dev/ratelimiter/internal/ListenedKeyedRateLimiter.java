package dev.ratelimiter.internal;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.Ticker;
import java.time.Duration;
import java.util.Objects;

/**
 * A {@link KeyedRateLimiter} that tells a {@link RateLimiterListener} of the decisions of the
 * keyed limiter it wraps, naming the key; the keyed counterpart of {@link ListenedRateLimiter},
 * with the same guarantees (no allocation of its own per decision, every other operation passed
 * straight through). Open for a backend to add its own faces (Redis adds the asynchronous one).
 * Not API: may change without notice.
 *
 * @param <K> the key type
 */
public class ListenedKeyedRateLimiter<K> implements KeyedRateLimiter<K> {

    private final KeyedRateLimiter<K> delegate;
    private final String name;
    private final RateLimiterListener listener;
    private final Ticker ticker;

    /**
     * @param name     the limiter's name, reported with every event
     * @param delegate the keyed limiter deciding
     * @param listener told of its decisions
     * @param ticker   the clock the time waited is measured with (the limiter's own)
     * @throws NullPointerException if an argument is {@code null}
     */
    public ListenedKeyedRateLimiter(String name, KeyedRateLimiter<K> delegate, RateLimiterListener listener,
                                    Ticker ticker) {
        this.name = Objects.requireNonNull(name, "name");
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    /** @return the limiter's name */
    public final String name() {
        return name;
    }

    /** @return the wrapped keyed limiter */
    public KeyedRateLimiter<K> delegate() {
        return delegate;
    }

    /**
     * Reports a decision taken on {@code key} (by this limiter or by another face of the
     * wrapped one) as granted or denied.
     *
     * @param key      the key
     * @param permits  the permits
     * @param decision the decision
     * @return {@code decision}
     */
    protected final Decision report(K key, long permits, Decision decision) {
        if (decision.isAllowed()) {
            Listeners.granted(listener, name, key, permits, decision);
        } else {
            Listeners.denied(listener, name, key, permits, decision);
        }
        return decision;
    }

    /**
     * Reports a {@code tryAcquire} on {@code key} (by this limiter or by another face of the
     * wrapped one), which has no {@link Decision}, as granted or denied.
     *
     * @param key     the key
     * @param permits the permits
     * @param granted whether they were granted
     * @return {@code granted}
     */
    protected final boolean report(K key, long permits, boolean granted) {
        if (granted) {
            Listeners.granted(listener, name, key, permits, null);
        } else {
            Listeners.denied(listener, name, key, permits, null);
        }
        return granted;
    }

    @Override
    public boolean tryAcquire(K key, long permits) {
        return report(key, permits, delegate.tryAcquire(key, permits));
    }

    @Override
    public Decision decide(K key, long permits) {
        return report(key, permits, delegate.decide(key, permits));
    }

    @Override
    public boolean tryAcquire(K key, long permits, Duration timeout) throws InterruptedException {
        long start = ticker.read();
        boolean granted = delegate.tryAcquire(key, permits, timeout);
        Listeners.waited(listener, name, key, permits, granted, Math.max(0, ticker.read() - start));
        return granted;
    }

    @Override
    public Limit limit() {
        return delegate.limit();
    }

    @Override
    public Decision peek(K key, long permits) {
        return delegate.peek(key, permits);
    }

    @Override
    public long availablePermits(K key) {
        return delegate.availablePermits(key);
    }

    @Override
    public void reset(K key) {
        delegate.reset(key);
    }

    @Override
    public void refund(K key, long permits) {
        delegate.refund(key, permits);
    }

    @Override
    public long drain(K key) {
        return delegate.drain(key);
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

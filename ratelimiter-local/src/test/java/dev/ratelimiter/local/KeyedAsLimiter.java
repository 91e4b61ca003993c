package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import java.time.Duration;

/**
 * One key of a {@link LocalKeyedRateLimiter} as a {@link RateLimiter}, so that the conformance
 * suite runs against a key: every call goes to the keyed limiter for that key, and
 * {@link #reconfigure} reconfigures the keyed limiter (every key).
 */
final class KeyedAsLimiter implements RateLimiter {

    private final LocalKeyedRateLimiter<String> keyed;
    private final RateLimiter view;

    private KeyedAsLimiter(LocalKeyedRateLimiter<String> keyed) {
        this.keyed = keyed;
        this.view = keyed.forKey("key");
    }

    /** A keyed limiter of {@code limit} on this clock, seen through one key. */
    static RateLimiter of(Limit limit, Ticker ticker, Sleeper sleeper) {
        return new KeyedAsLimiter(LocalKeyedRateLimiter.builder(limit).maxKeys(4).ticker(ticker).sleeper(sleeper)
                .build(String.class));
    }

    @Override
    public boolean tryAcquire(long permits) {
        return view.tryAcquire(permits);
    }

    @Override
    public Decision decide(long permits) {
        return view.decide(permits);
    }

    @Override
    public boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
        return view.tryAcquire(permits, timeout);
    }

    @Override
    public Limit limit() {
        return keyed.limit();
    }

    @Override
    public Decision peek(long permits) {
        return view.peek(permits);
    }

    @Override
    public long availablePermits() {
        return view.availablePermits();
    }

    @Override
    public void reset() {
        view.reset();
    }

    @Override
    public void refund(long permits) {
        view.refund(permits);
    }

    @Override
    public long drain() {
        return view.drain();
    }

    @Override
    public void reconfigure(Limit limit) {
        keyed.reconfigure(limit);
    }

    @Override
    public String toString() {
        return view.toString();
    }
}

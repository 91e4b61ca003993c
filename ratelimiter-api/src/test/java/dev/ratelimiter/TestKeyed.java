package dev.ratelimiter;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** A keyed limiter of {@link TestBucket}s on one manual clock, for the API's tests. */
final class TestKeyed implements KeyedRateLimiter<String> {

    private final AtomicLong clock;
    private volatile TokenBucket limit;
    final ConcurrentHashMap<String, TestBucket> buckets = new ConcurrentHashMap<>();

    TestKeyed(TokenBucket limit, AtomicLong clock) {
        this.limit = limit;
        this.clock = clock;
    }

    TestBucket bucket(String key) {
        java.util.Objects.requireNonNull(key, "key");
        return buckets.computeIfAbsent(key, k -> new TestBucket(limit, clock));
    }

    @Override
    public boolean tryAcquire(String key, long permits) {
        return bucket(key).tryAcquire(permits);
    }

    @Override
    public Decision decide(String key, long permits) {
        return bucket(key).decide(permits);
    }

    @Override
    public boolean tryAcquire(String key, long permits, Duration timeout) throws InterruptedException {
        return bucket(key).tryAcquire(permits, timeout);
    }

    @Override
    public Limit limit() {
        return limit;
    }

    @Override
    public Decision peek(String key, long permits) {
        return bucket(key).peek(permits);
    }

    @Override
    public long availablePermits(String key) {
        return bucket(key).availablePermits();
    }

    @Override
    public void reset(String key) {
        bucket(key).reset();
    }

    @Override
    public void refund(String key, long permits) {
        bucket(key).refund(permits);
    }

    @Override
    public long drain(String key) {
        return bucket(key).drain();
    }

    @Override
    public void reconfigure(Limit limit) {
        TokenBucket tb = (TokenBucket) dev.ratelimiter.internal.Checks.reconfiguration(this.limit, limit);
        buckets.values().forEach(b -> b.reconfigure(tb));
        this.limit = tb;
    }
}

package dev.ratelimiter;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small synchronized token bucket on a manual clock, for the tests of the API's wrappers
 * (the real limiters live in other modules). A blocking acquire that can be satisfied within
 * its timeout "sleeps" by advancing the clock.
 */
final class TestBucket implements RateLimiter {

    final AtomicLong clock;
    private TokenBucket limit;
    private long available;
    private long last;
    int resets;
    long refunded;

    TestBucket(TokenBucket limit, AtomicLong clock) {
        this.limit = limit;
        this.clock = clock;
        this.available = limit.capacity();
        this.last = clock.get();
    }

    private long npp() {
        return limit.refillPeriodNanos() / limit.refillPermits();
    }

    private void refill() {
        long now = clock.get();
        long n = (now - last) / npp();
        if (n > 0) {
            available = Math.min(limit.capacity(), available + n);
            last += n * npp();
        }
        if (available == limit.capacity()) {
            last = now;
        }
    }

    @Override
    public synchronized boolean tryAcquire(long permits) {
        return decide(permits).isAllowed();
    }

    @Override
    public synchronized Decision decide(long permits) {
        if (permits <= 0) {
            throw new IllegalArgumentException("permits must be > 0: permits=" + permits);
        }
        refill();
        long capacity = limit.capacity();
        long reset = (capacity - available) * npp();
        if (permits > capacity) {
            return Decision.exceeding(permits, available, reset, capacity);
        }
        if (available >= permits) {
            available -= permits;
            return Decision.allowed(permits, available, (capacity - available) * npp(), capacity);
        }
        long retry = (permits - available) * npp() - (clock.get() - last);
        return Decision.denied(permits, available, Math.max(1, retry), reset, capacity);
    }

    @Override
    public synchronized boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
        Decision d = decide(permits);
        if (d.isAllowed()) {
            return true;
        }
        if (d.retryAfterNanos() <= timeout.toNanos()) {
            clock.addAndGet(d.retryAfterNanos());
            return decide(permits).isAllowed();
        }
        return false;
    }

    @Override
    public synchronized Limit limit() {
        return limit;
    }

    @Override
    public synchronized Decision peek(long permits) {
        refill();
        return available >= permits
                ? Decision.allowed(permits, available - permits, 0, limit.capacity())
                : Decision.denied(permits, available, 1, 1, limit.capacity());
    }

    @Override
    public synchronized long availablePermits() {
        refill();
        return available;
    }

    @Override
    public synchronized void reset() {
        resets++;
        available = limit.capacity();
        last = clock.get();
    }

    @Override
    public synchronized void refund(long permits) {
        refunded += permits;
        available = Math.min(limit.capacity(), available + permits);
    }

    @Override
    public synchronized long drain() {
        refill();
        long n = available;
        available = 0;
        return n;
    }

    @Override
    public synchronized void reconfigure(Limit limit) {
        if (!(limit instanceof TokenBucket tb)) {
            throw new IllegalArgumentException("limit must be a token bucket: limit=" + limit);
        }
        this.limit = tb;
        this.available = Math.min(available, tb.capacity());
    }
}

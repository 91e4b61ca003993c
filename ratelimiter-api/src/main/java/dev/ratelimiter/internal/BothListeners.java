package dev.ratelimiter.internal;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiterListener;
import java.util.Objects;

/**
 * Tells two listeners of every event, each guarded, so that what the first throws does not keep
 * the second from hearing it. Immutable and thread-safe. Not API: may change without notice.
 */
public final class BothListeners implements RateLimiterListener {

    private final RateLimiterListener first;
    private final RateLimiterListener second;

    /**
     * @param first  told first
     * @param second told second
     * @throws NullPointerException if an argument is {@code null}
     */
    public BothListeners(RateLimiterListener first, RateLimiterListener second) {
        this.first = Objects.requireNonNull(first, "first");
        this.second = Objects.requireNonNull(second, "second");
    }

    @Override
    public void onGranted(String limiter, Object key, long permits, Decision decision) {
        Listeners.granted(first, limiter, key, permits, decision);
        Listeners.granted(second, limiter, key, permits, decision);
    }

    @Override
    public void onDenied(String limiter, Object key, long permits, Decision decision) {
        Listeners.denied(first, limiter, key, permits, decision);
        Listeners.denied(second, limiter, key, permits, decision);
    }

    @Override
    public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
        Listeners.waited(first, limiter, key, permits, granted, waitedNanos);
        Listeners.waited(second, limiter, key, permits, granted, waitedNanos);
    }

    @Override
    public void onFailurePolicy(String limiter, Object key, String policy, Decision answer, RuntimeException failure) {
        Listeners.failurePolicy(first, limiter, key, policy, answer, failure);
        Listeners.failurePolicy(second, limiter, key, policy, answer, failure);
    }

    @Override
    public void onMisconfiguration(String limiter, Object key, RuntimeException failure) {
        Listeners.misconfiguration(first, limiter, key, failure);
        Listeners.misconfiguration(second, limiter, key, failure);
    }

    @Override
    public void onReconfigured(String limiter, Limit oldLimit, Limit newLimit) {
        Listeners.reconfigured(first, limiter, oldLimit, newLimit);
        Listeners.reconfigured(second, limiter, oldLimit, newLimit);
    }

    @Override
    public void onKeyDropped(String limiter, Object key, DropCause cause) {
        Listeners.keyDropped(first, limiter, key, cause);
        Listeners.keyDropped(second, limiter, key, cause);
    }

    @Override
    public void onBackendCall(String limiter, long nanos, boolean succeeded) {
        Listeners.backendCall(first, limiter, nanos, succeeded);
        Listeners.backendCall(second, limiter, nanos, succeeded);
    }

    @Override
    public String toString() {
        return "RateLimiterListener.both(" + first + ", " + second + ')';
    }
}

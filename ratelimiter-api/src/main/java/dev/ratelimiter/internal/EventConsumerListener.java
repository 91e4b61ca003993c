package dev.ratelimiter.internal;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiterEvent;
import dev.ratelimiter.RateLimiterListener;
import java.time.Duration;
import java.util.Objects;

/**
 * The listener of {@link RateLimiterListener#of}: one event object per event, to a consumer.
 * Immutable; thread-safe when the consumer is. Not API: may change without notice.
 */
public final class EventConsumerListener implements RateLimiterListener {

    private final java.util.function.Consumer<? super RateLimiterEvent> consumer;

    /**
     * @param consumer told of every event
     * @throws NullPointerException if {@code consumer} is {@code null}
     */
    public EventConsumerListener(java.util.function.Consumer<? super RateLimiterEvent> consumer) {
        this.consumer = Objects.requireNonNull(consumer, "consumer");
    }

    @Override
    public void onGranted(String limiter, Object key, long permits, Decision decision) {
        consumer.accept(new RateLimiterEvent.Granted(limiter, key, permits, decision));
    }

    @Override
    public void onDenied(String limiter, Object key, long permits, Decision decision) {
        consumer.accept(new RateLimiterEvent.Denied(limiter, key, permits, decision));
    }

    @Override
    public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
        consumer.accept(new RateLimiterEvent.Waited(limiter, key, permits, granted, Duration.ofNanos(waitedNanos)));
    }

    @Override
    public void onFailurePolicy(String limiter, Object key, String policy, Decision answer, RuntimeException failure) {
        consumer.accept(new RateLimiterEvent.FailurePolicyAnswered(limiter, key, policy, answer, failure));
    }

    @Override
    public void onMisconfiguration(String limiter, Object key, RuntimeException failure) {
        consumer.accept(new RateLimiterEvent.Misconfigured(limiter, key, failure));
    }

    @Override
    public void onReconfigured(String limiter, Limit oldLimit, Limit newLimit) {
        consumer.accept(new RateLimiterEvent.Reconfigured(limiter, oldLimit, newLimit));
    }

    @Override
    public void onKeyDropped(String limiter, Object key, DropCause cause) {
        consumer.accept(new RateLimiterEvent.KeyDropped(limiter, key, cause));
    }

    @Override
    public void onBackendCall(String limiter, long nanos, boolean succeeded) {
        consumer.accept(new RateLimiterEvent.BackendCall(limiter, Duration.ofNanos(nanos), succeeded));
    }

    @Override
    public String toString() {
        return "RateLimiterListener.of(" + consumer + ')';
    }
}

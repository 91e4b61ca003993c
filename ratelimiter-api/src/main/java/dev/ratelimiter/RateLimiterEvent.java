package dev.ratelimiter;

import java.time.Duration;

/**
 * One event of a limiter as an immutable value, for code that wants events as objects (to queue
 * them, keep the latest in a buffer, log them uniformly): what {@link RateLimiterListener#of}
 * hands its consumer. Each kind is a record with the fields of the matching
 * {@link RateLimiterListener} method.
 *
 * <p>Building one costs an allocation per event: a record of a few fields, 24 to 40 bytes on a
 * 64-bit JVM with compressed pointers (a {@link Granted} or {@link Denied} is measured at 32
 * bytes), and a {@link Duration} more for {@link Waited} and {@link BackendCall}. A listener that overrides the
 * {@link RateLimiterListener} methods directly allocates nothing.
 *
 * <pre>{@code
 * RateLimiterListener log = RateLimiterListener.of(event -> {
 *     if (event instanceof RateLimiterEvent.Denied denied) {
 *         logger.info(denied.limiter() + " refused " + denied.key());
 *     }
 * });
 * }</pre>
 */
public sealed interface RateLimiterEvent {

    /** @return the name of the limiter the event is about */
    String limiter();

    /** @return the key the event is about, or {@code null} for a single limiter (or the whole limiter) */
    Object key();

    /**
     * See {@link RateLimiterListener#onGranted}.
     *
     * @param limiter  the limiter's name
     * @param key      the key, or {@code null}
     * @param permits  the permits granted
     * @param decision the decision, or {@code null} for {@code tryAcquire}
     */
    record Granted(String limiter, Object key, long permits, Decision decision) implements RateLimiterEvent {
    }

    /**
     * See {@link RateLimiterListener#onDenied}.
     *
     * @param limiter  the limiter's name
     * @param key      the key, or {@code null}
     * @param permits  the permits requested
     * @param decision the decision, or {@code null} for {@code tryAcquire}
     */
    record Denied(String limiter, Object key, long permits, Decision decision) implements RateLimiterEvent {
    }

    /**
     * See {@link RateLimiterListener#onWaited}.
     *
     * @param limiter the limiter's name
     * @param key     the key, or {@code null}
     * @param permits the permits requested
     * @param granted whether they were granted
     * @param waited  how long the call took
     */
    record Waited(String limiter, Object key, long permits, boolean granted, Duration waited)
            implements RateLimiterEvent {
    }

    /**
     * See {@link RateLimiterListener#onFailurePolicy}.
     *
     * @param limiter the limiter's name
     * @param key     the key, or {@code null}
     * @param policy  the policy that answered
     * @param answer  its decision, or {@code null} when it propagated the failure
     * @param failure what the backend failed with
     */
    record FailurePolicyAnswered(String limiter, Object key, String policy, Decision answer, RuntimeException failure)
            implements RateLimiterEvent {
    }

    /**
     * See {@link RateLimiterListener#onMisconfiguration}.
     *
     * @param limiter the limiter's name
     * @param key     the key, or {@code null}
     * @param failure the backend's error
     */
    record Misconfigured(String limiter, Object key, RuntimeException failure) implements RateLimiterEvent {
    }

    /**
     * See {@link RateLimiterListener#onReconfigured}; its {@link #key()} is {@code null}.
     *
     * @param limiter  the limiter's name
     * @param oldLimit the limit before
     * @param newLimit the limit from now on
     */
    record Reconfigured(String limiter, Limit oldLimit, Limit newLimit) implements RateLimiterEvent {
        @Override
        public Object key() {
            return null;
        }
    }

    /**
     * See {@link RateLimiterListener#onKeyDropped}.
     *
     * @param limiter the limiter's name
     * @param key     the key dropped
     * @param cause   why
     */
    record KeyDropped(String limiter, Object key, RateLimiterListener.DropCause cause) implements RateLimiterEvent {
    }

    /**
     * See {@link RateLimiterListener#onBackendCall}; its {@link #key()} is {@code null}.
     *
     * @param limiter   the limiter's name
     * @param took      the round trip
     * @param succeeded whether the backend answered
     */
    record BackendCall(String limiter, Duration took, boolean succeeded) implements RateLimiterEvent {
        @Override
        public Object key() {
            return null;
        }
    }
}

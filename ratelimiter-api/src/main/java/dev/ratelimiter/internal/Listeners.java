package dev.ratelimiter.internal;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiterListener;
import java.util.Objects;

/**
 * Calls a {@link RateLimiterListener} so that what it throws never reaches the decision: every
 * method catches and ignores the listener's {@link RuntimeException}. Also checks the names
 * limiters are created under. Not API: may change without notice.
 */
public final class Listeners {

    private Listeners() {
    }

    /**
     * Checks a limiter's name.
     *
     * @param name the name
     * @return {@code name}
     * @throws NullPointerException     if {@code name} is {@code null}
     * @throws IllegalArgumentException if {@code name} is empty
     */
    public static String name(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("name must not be empty: name=\"\"");
        }
        return name;
    }

    /**
     * @param listener the listener, or {@code null} for none
     * @param more     another listener
     * @return {@code more} if {@code listener} is {@code null}, else both
     * @throws NullPointerException if {@code more} is {@code null}
     */
    public static RateLimiterListener and(RateLimiterListener listener, RateLimiterListener more) {
        Objects.requireNonNull(more, "listener");
        return listener == null ? more : new BothListeners(listener, more);
    }

    /**
     * Guarded {@link RateLimiterListener#onGranted}.
     *
     * @param l        the listener
     * @param limiter  the limiter's name
     * @param key      the key, or {@code null}
     * @param permits  the permits
     * @param decision the decision, or {@code null}
     */
    public static void granted(RateLimiterListener l, String limiter, Object key, long permits, Decision decision) {
        try {
            l.onGranted(limiter, key, permits, decision);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }

    /**
     * Guarded {@link RateLimiterListener#onDenied}.
     *
     * @param l        the listener
     * @param limiter  the limiter's name
     * @param key      the key, or {@code null}
     * @param permits  the permits
     * @param decision the decision, or {@code null}
     */
    public static void denied(RateLimiterListener l, String limiter, Object key, long permits, Decision decision) {
        try {
            l.onDenied(limiter, key, permits, decision);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }

    /**
     * Guarded {@link RateLimiterListener#onWaited}.
     *
     * @param l           the listener
     * @param limiter     the limiter's name
     * @param key         the key, or {@code null}
     * @param permits     the permits
     * @param granted     whether they were granted
     * @param waitedNanos how long the call took
     */
    public static void waited(RateLimiterListener l, String limiter, Object key, long permits, boolean granted,
                              long waitedNanos) {
        try {
            l.onWaited(limiter, key, permits, granted, waitedNanos);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }

    /**
     * Guarded {@link RateLimiterListener#onFailurePolicy}.
     *
     * @param l       the listener
     * @param limiter the limiter's name
     * @param key     the key, or {@code null}
     * @param policy  the policy's name
     * @param answer  its decision, or {@code null}
     * @param failure the failure
     */
    public static void failurePolicy(RateLimiterListener l, String limiter, Object key, String policy,
                                     Decision answer, RuntimeException failure) {
        try {
            l.onFailurePolicy(limiter, key, policy, answer, failure);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }

    /**
     * Guarded {@link RateLimiterListener#onMisconfiguration}.
     *
     * @param l       the listener
     * @param limiter the limiter's name
     * @param key     the key, or {@code null}
     * @param failure the failure
     */
    public static void misconfiguration(RateLimiterListener l, String limiter, Object key, RuntimeException failure) {
        try {
            l.onMisconfiguration(limiter, key, failure);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }

    /**
     * Guarded {@link RateLimiterListener#onReconfigured}.
     *
     * @param l        the listener
     * @param limiter  the limiter's name
     * @param oldLimit the limit before
     * @param newLimit the limit after
     */
    public static void reconfigured(RateLimiterListener l, String limiter, Limit oldLimit, Limit newLimit) {
        try {
            l.onReconfigured(limiter, oldLimit, newLimit);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }

    /**
     * Guarded {@link RateLimiterListener#onKeyDropped}.
     *
     * @param l       the listener
     * @param limiter the limiter's name
     * @param key     the key
     * @param cause   why
     */
    public static void keyDropped(RateLimiterListener l, String limiter, Object key,
                                  RateLimiterListener.DropCause cause) {
        try {
            l.onKeyDropped(limiter, key, cause);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }

    /**
     * Guarded {@link RateLimiterListener#onBackendCall}.
     *
     * @param l         the listener
     * @param limiter   the limiter's name
     * @param nanos     the round trip
     * @param succeeded whether the backend answered
     */
    public static void backendCall(RateLimiterListener l, String limiter, long nanos, boolean succeeded) {
        try {
            l.onBackendCall(limiter, nanos, succeeded);
        } catch (RuntimeException ignored) {
            // A listener is for metrics and logs: it never changes a decision.
        }
    }
}

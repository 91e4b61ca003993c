package dev.ratelimiter;

/**
 * Told of what the limiters of a {@link RateLimiterFactory} decide and go through, to build
 * metrics and logs on: granted, denied, waited, answered by a failure policy, misconfigured,
 * reconfigured, key dropped.
 *
 * <h2>Why one method per event, with default bodies</h2>
 * Each event is a method taking its fields as arguments, and every method does nothing by
 * default, so a listener overrides only what it uses. This keeps a listened limiter free of
 * allocation: no event object is built per decision, the {@link Decision} the limiter returned
 * anyway is passed as it is, and an event a listener does not override costs one call to an
 * empty method. (A single {@code onEvent(RateLimiterEvent)} would have to build an event object
 * per decision whether or not the listener looks at it.) New kinds of events may be added as
 * new default methods without breaking existing listeners. Code that prefers event objects
 * uses {@link #of(java.util.function.Consumer)}, which builds a {@link RateLimiterEvent} per
 * event, and so only when someone listens.
 *
 * <h2>Which event, when</h2>
 * Every event names its limiter (the name it was created with) and, for a keyed limiter, the
 * key; {@code key} is {@code null} for a single limiter. One decision emits exactly one of:
 * <ul>
 *   <li>{@link #onGranted} or {@link #onDenied}: {@code tryAcquire(permits)} and
 *       {@code decide(permits)}, after the decision;</li>
 *   <li>{@link #onWaited}: {@code tryAcquire(permits, timeout)}, granted after waiting (perhaps
 *       zero) or refused when the permits could not be had in time. An interrupted wait emits
 *       nothing: it has no outcome.</li>
 * </ul>
 * Besides: {@link #onFailurePolicy} and {@link #onMisconfiguration} (a backend that can fail,
 * such as Redis, before the decision's own event), {@link #onReconfigured} after a successful
 * {@code reconfigure}, {@link #onKeyDropped} when a keyed limiter forgets a key, and
 * {@link #onBackendCall} after each call a remote backend (Redis) makes, whatever the operation.
 * Apart from their backend calls, {@code peek}, {@code availablePermits}, {@code reset},
 * {@code refund} and {@code drain} emit nothing.
 *
 * <h2>Threads and failures</h2>
 * Methods are called on the thread that made the decision (or, for an asynchronous backend, the
 * thread that completed it; for a dropped key, the thread running the sweep), concurrently from
 * many threads, so implementations must be thread-safe, quick and must not block. What a method
 * throws ({@link RuntimeException}) is caught and ignored: the decision stands and is returned
 * as if nothing had happened (log inside the listener if that matters).
 *
 * <pre>{@code
 * LongAdder denied = new LongAdder();
 * RateLimiterFactory factory = LocalRateLimiters.factory().withListener(new RateLimiterListener() {
 *     public void onDenied(String limiter, Object key, long permits, Decision decision) {
 *         denied.increment();
 *     }
 * });
 * }</pre>
 */
public interface RateLimiterListener {

    /** Why a keyed limiter dropped a key: what it held was a full state, identical to a fresh one. */
    enum DropCause {
        /** An idle key found full by a sweep (on a new key's insertion or {@code cleanUp}). */
        IDLE,
        /** A full key dropped to make room for a new key when the bound on keys was reached. */
        BOUND
    }

    /**
     * The permits were granted (and consumed).
     *
     * @param limiter  the limiter's name
     * @param key      the key, or {@code null} for a single limiter
     * @param permits  the permits granted
     * @param decision the decision, for {@code decide}; {@code null} for {@code tryAcquire},
     *                 which reports only a boolean and so builds no {@link Decision}
     */
    default void onGranted(String limiter, Object key, long permits, Decision decision) {
    }

    /**
     * The permits were refused; nothing was consumed.
     *
     * @param limiter  the limiter's name
     * @param key      the key, or {@code null} for a single limiter
     * @param permits  the permits requested
     * @param decision the decision, for {@code decide}; {@code null} for {@code tryAcquire}
     */
    default void onDenied(String limiter, Object key, long permits, Decision decision) {
    }

    /**
     * A blocking acquire ({@code tryAcquire(permits, timeout)}) ended.
     *
     * @param limiter     the limiter's name
     * @param key         the key, or {@code null} for a single limiter
     * @param permits     the permits requested
     * @param granted     {@code true} if granted, {@code false} if refused or timed out
     * @param waitedNanos how long the call took, by the limiter's clock, {@code >= 0}
     */
    default void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
    }

    /**
     * The backend could not decide (timed out, unreachable, out of memory) and its failure policy
     * answered instead. The decision's own {@link #onGranted}/{@link #onDenied} follows when the
     * policy answered with a decision.
     *
     * @param limiter the limiter's name
     * @param key     the key, or {@code null} for a single limiter
     * @param policy  the policy that answered: {@code "FAIL_OPEN"}, {@code "FAIL_CLOSED"},
     *                {@code "FALLBACK"} (a local limiter decided) or {@code "PROPAGATE"}
     * @param answer  the policy's decision, or {@code null} when the policy propagates the failure
     * @param failure what the backend failed with
     */
    default void onFailurePolicy(String limiter, Object key, String policy, Decision answer,
                                 RuntimeException failure) {
    }

    /**
     * The backend refused the decision because it is set up wrong (for Redis: an ACL without
     * scripting, a replica, a bad password, an evicting memory policy). No policy answers it.
     *
     * @param limiter the limiter's name
     * @param key     the key, or {@code null} for a single limiter (or a warning about the backend)
     * @param failure the backend's error
     */
    default void onMisconfiguration(String limiter, Object key, RuntimeException failure) {
    }

    /**
     * The limiter's limit was replaced by {@code reconfigure}.
     *
     * @param limiter  the limiter's name
     * @param oldLimit the limit enforced before
     * @param newLimit the limit enforced from now on
     */
    default void onReconfigured(String limiter, Limit oldLimit, Limit newLimit) {
    }

    /**
     * A keyed limiter dropped the state of a key, which was full: the key's next decision starts
     * from a fresh, full state, as it would have from the dropped one.
     *
     * @param limiter the limiter's name
     * @param key     the key dropped
     * @param cause   why it was dropped
     */
    default void onKeyDropped(String limiter, Object key, DropCause cause) {
    }

    /**
     * A remote backend's call ended: for Redis, one script call (its NOSCRIPT and TRYAGAIN resends
     * included), made by a decision or by {@code peek}, {@code availablePermits}, {@code reset},
     * {@code refund} or {@code drain}. A local limiter makes no call. The key is not given: one
     * call of a composite serves several keys. Reported on the thread that completed the call
     * (Lettuce's event loop, or the timeout thread), before or after the decision's own event.
     *
     * @param limiter   the limiter's name
     * @param nanos     the round trip, from sending the call to its reply, its failure or its
     *                  timeout, by {@link System#nanoTime()}; {@code >= 0}
     * @param succeeded {@code true} if the backend answered, {@code false} if the call failed
     *                  (an error reply, a lost connection) or timed out
     */
    default void onBackendCall(String limiter, long nanos, boolean succeeded) {
    }

    /**
     * A listener that hands {@code consumer} every event as a {@link RateLimiterEvent} (one
     * object allocated per event; see there).
     *
     * @param consumer told of every event; must be thread-safe, quick and must not block
     * @return the listener
     * @throws NullPointerException if {@code consumer} is {@code null}
     */
    static RateLimiterListener of(java.util.function.Consumer<? super RateLimiterEvent> consumer) {
        return new dev.ratelimiter.internal.EventConsumerListener(consumer);
    }

    /**
     * A listener that tells {@code first}, then {@code second}, of every event; what one throws
     * does not keep the other from hearing it.
     *
     * @param first  a listener
     * @param second another listener
     * @return the listener telling both
     * @throws NullPointerException if an argument is {@code null}
     */
    static RateLimiterListener both(RateLimiterListener first, RateLimiterListener second) {
        return new dev.ratelimiter.internal.BothListeners(first, second);
    }
}

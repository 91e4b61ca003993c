package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import java.time.Duration;
import java.util.Objects;

/**
 * What a Redis limiter answers when Redis cannot decide: the call timed out, the connection is
 * down, or Redis answered with an error. Chosen with {@link RedisRateLimiters.Builder#failurePolicy};
 * applied alike to {@code tryAcquire}, {@code decide}, {@code decideAsync} and to every poll of a
 * blocking {@code tryAcquire(key, permits, timeout)}. Immutable and thread-safe.
 *
 * <ul>
 *   <li>{@link #fallbackToLocal()} (the default) and {@link #fallbackToLocal(int)}: an
 *       in-process limiter with the same limit decides, per key, on this instance alone.
 *   <li>{@link #failOpen()}: every request is allowed, unchecked.
 *   <li>{@link #failClosed(Duration)}: every request is denied, with a retry-after.
 *   <li>{@link #propagate()}: the failure reaches the caller as a {@link RedisRateLimiterException}.
 * </ul>
 *
 * <p><b>Misconfiguration is not an outage.</b> A Redis that refuses the decision because of how
 * it is set up ({@code NOPERM}, {@code READONLY}, {@code NOAUTH}, {@code WRONGPASS}, unknown
 * scripting commands) fails with a {@link RedisMisconfigurationException}, which no policy
 * answers: it is thrown whatever the policy (and logged once per factory), because waiting does
 * not end it and a fallback would hide it. {@code OOM} ({@link RedisOutOfMemoryException}) is
 * answered by the policy.
 *
 * <p><b>Why the default is the local fallback.</b> A limit shared through Redis usually protects
 * something (a downstream service, a paid API, a tenant's fair share). Failing open removes that
 * protection exactly when the infrastructure is in trouble; failing closed turns a Redis outage
 * into an outage of every service that uses the limiter. The local fallback does neither: the
 * service keeps answering and every key stays limited. With {@code N} instances each holding
 * the full limit the aggregate is at most {@code N} times the limit while Redis is away, which
 * {@link #fallbackToLocal(int)} brings back to about the limit when {@code N} is known.
 *
 * <p>Whatever the policy (even {@link #propagate()}), a request for more permits than the limit
 * can ever grant is answered {@link Decision#exceedsLimit()}, with a retry-after of
 * {@link Decision#NEVER}: {@code tryAcquire} and {@code tryAcquireAsync} answer {@code false}
 * without a round trip; {@code decide} and {@code decideAsync} still ask Redis for the remaining
 * permits and the reset, and if Redis cannot answer (the listener is told) they answer an
 * exceeding decision with remaining and reset {@code 0}. Bad arguments still throw
 * {@link IllegalArgumentException} or {@link NullPointerException} before any round trip, and an
 * interrupted synchronous call still throws {@link RedisRateLimiterException} with the thread's
 * interrupt status set: an interrupted thread is being cancelled and should not go on as if
 * allowed.
 *
 * <pre>{@code
 * RedisRateLimiters redis = RedisRateLimiters.builder(connection.async())
 *         .timeout(Duration.ofMillis(200))
 *         .failurePolicy(FailurePolicy.fallbackToLocal(4))   // 4 instances share the limit
 *         .build();
 * }</pre>
 */
public final class FailurePolicy {

    /** The retry-after of {@link #failClosed()}. */
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

    /** The largest expected instance count {@link #fallbackToLocal(int)} accepts. */
    public static final int MAX_INSTANCES = 1_000_000;

    /** The kinds of policy. */
    enum Kind {
        PROPAGATE, FAIL_OPEN, FAIL_CLOSED, FALLBACK
    }

    private static final FailurePolicy PROPAGATE = new FailurePolicy(Kind.PROPAGATE, 0, 0);
    private static final FailurePolicy FAIL_OPEN = new FailurePolicy(Kind.FAIL_OPEN, 0, 0);

    private final Kind kind;
    private final long retryAfterNanos;
    private final int instances;

    private FailurePolicy(Kind kind, long retryAfterNanos, int instances) {
        this.kind = kind;
        this.retryAfterNanos = retryAfterNanos;
        this.instances = instances;
    }

    /**
     * Allow every request while Redis cannot decide. The decision is
     * {@link Decision#allowed allowed} with {@link Decision#remaining()} {@code 0} and
     * {@link Decision#resetNanos()} {@code 0}: no checked grant reports that pair (a grant always
     * leaves the limiter short of full, so its reset is positive), so {@link #isUnchecked}
     * recognises it; and a client reading {@code RateLimit-Remaining: 0} does not take an
     * unchecked answer as an invitation to burst.
     *
     * @return the fail-open policy
     */
    public static FailurePolicy failOpen() {
        return FAIL_OPEN;
    }

    /**
     * Deny every request while Redis cannot decide, with a retry-after of
     * {@link #DEFAULT_RETRY_AFTER}.
     *
     * @return the fail-closed policy
     * @see #failClosed(Duration)
     */
    public static FailurePolicy failClosed() {
        return failClosed(DEFAULT_RETRY_AFTER);
    }

    /**
     * Deny every request while Redis cannot decide. The decision is
     * {@link Decision#denied denied} with {@link Decision#remaining()} {@code 0} and both
     * {@link Decision#retryAfterNanos()} and {@link Decision#resetNanos()} equal to
     * {@code retryAfter}: the soonest a retry can learn more. A blocking
     * {@code tryAcquire(key, permits, timeout)} waits that long and asks Redis again, while its
     * timeout lasts.
     *
     * @param retryAfter what denied decisions report as their retry-after, at least 1 ms
     * @return the fail-closed policy
     * @throws NullPointerException     if {@code retryAfter} is {@code null}
     * @throws IllegalArgumentException if it is shorter than 1 ms or longer than 30 days
     */
    public static FailurePolicy failClosed(Duration retryAfter) {
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (retryAfter.compareTo(Duration.ofMillis(1)) < 0 || retryAfter.compareTo(Duration.ofDays(30)) > 0) {
            throw new IllegalArgumentException("retryAfter must be between 1 ms and 30 days: retryAfter=" + retryAfter);
        }
        return new FailurePolicy(Kind.FAIL_CLOSED, retryAfter.toNanos(), 0);
    }

    /**
     * Decide with an in-process limiter holding the full limit, per key, while Redis cannot
     * decide. This is the default policy; see the class comment for why.
     *
     * @return the local-fallback policy for one instance
     * @see #fallbackToLocal(int)
     */
    public static FailurePolicy fallbackToLocal() {
        return fallbackToLocal(1);
    }

    /**
     * Decide with an in-process limiter while Redis cannot decide, its limit divided among
     * {@code expectedInstances} instances, so that all of them together admit about what the
     * shared limit would. Each limiter key has its own local state (at most
     * {@value dev.ratelimiter.local.LocalKeyedRateLimiter#DEFAULT_MAX_KEYS} keys per limiter,
     * idle ones dropped), which lives for as long as the limiter and starts full: the local
     * limiter knows nothing of what Redis had counted, and Redis learns nothing of what it
     * admitted. A {@link CompositeLimiter}'s local shares are decided as one, all-or-nothing, by a
     * local composite ({@link dev.ratelimiter.local.LocalCompositeKeyedRateLimiter}), so a refusal
     * by one limit consumes nothing from the others; a composite holding a sliding window log,
     * which the local composite does not hold, falls back limit by limit.
     *
     * <p>Division rounds down, so the instances never admit more than the limit together: the
     * capacity (burst, queue capacity, window limit) becomes {@code floor(capacity / n)}; the
     * rate {@code permits / period} becomes {@code permits / (period * n)} while that period is
     * at most 30 days, else {@code floor(permits / n) / period}. A limit that division would leave
     * with no permit at all is refused when its limiter is created
     * ({@link RedisRateLimiters#keyed}), with an {@link IllegalArgumentException}.
     *
     * @param expectedInstances how many instances share each limit, {@code 1..}{@value #MAX_INSTANCES}
     * @return the local-fallback policy
     * @throws IllegalArgumentException if {@code expectedInstances} is out of range
     */
    public static FailurePolicy fallbackToLocal(int expectedInstances) {
        if (expectedInstances < 1 || expectedInstances > MAX_INSTANCES) {
            throw new IllegalArgumentException("expectedInstances must be between 1 and " + MAX_INSTANCES
                    + ": expectedInstances=" + expectedInstances);
        }
        return new FailurePolicy(Kind.FALLBACK, 0, expectedInstances);
    }

    /**
     * Let the failure reach the caller: synchronous calls throw {@link RedisRateLimiterException},
     * asynchronous stages complete exceptionally with it. For callers that apply a policy of their
     * own.
     *
     * @return the propagating policy
     */
    public static FailurePolicy propagate() {
        return PROPAGATE;
    }

    /**
     * Whether a decision is a {@link #failOpen() fail-open} answer, taken without Redis.
     *
     * @param decision a decision of a Redis limiter
     * @return {@code true} if it was allowed without being checked
     * @throws NullPointerException if {@code decision} is {@code null}
     */
    public static boolean isUnchecked(Decision decision) {
        Objects.requireNonNull(decision, "decision");
        return decision.isAllowed() && decision.remaining() == 0 && decision.resetNanos() == 0;
    }

    Kind kind() {
        return kind;
    }

    long retryAfterNanos() {
        return retryAfterNanos;
    }

    int instances() {
        return instances;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FailurePolicy p && p.kind == kind && p.retryAfterNanos == retryAfterNanos
                && p.instances == instances;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, retryAfterNanos, instances);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case PROPAGATE -> "FailurePolicy.propagate()";
            case FAIL_OPEN -> "FailurePolicy.failOpen()";
            case FAIL_CLOSED -> "FailurePolicy.failClosed(" + Duration.ofNanos(retryAfterNanos) + ")";
            case FALLBACK -> "FailurePolicy.fallbackToLocal(" + instances + ")";
        };
    }
}

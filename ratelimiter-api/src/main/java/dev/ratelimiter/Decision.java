package dev.ratelimiter;

import java.time.Duration;

/**
 * The outcome of one rate-limit decision, with what HTTP {@code Retry-After} and
 * {@code RateLimit-*} headers need. Immutable and thread-safe.
 *
 * <ul>
 *   <li>{@link #isAllowed()}: whether the permits were granted (and consumed).
 *   <li>{@link #remaining()}: how many permits could be granted right after this decision.
 *   <li>{@link #retryAfterNanos()}: zero when allowed; when denied, how long until the same
 *       request can succeed if nothing else consumes permits meanwhile, or {@link #NEVER} when
 *       the request asks for more than the limit can ever grant ({@link #exceedsLimit()}).
 *   <li>{@link #resetNanos()}: how long until the limiter is back to its full state if no
 *       further permits are consumed.
 *   <li>{@link #limit()}: the most permits one request can ever be granted.
 * </ul>
 *
 * <pre>{@code
 * Decision d = limiter.decide(1);
 * if (!d.isAllowed()) {
 *     response.setHeader("Retry-After", Long.toString(d.retryAfter().toSeconds() + 1));
 * }
 * }</pre>
 */
public final class Decision {

    /** The {@link #retryAfterNanos()} of a request that can never be granted. */
    public static final long NEVER = Long.MAX_VALUE;

    private final boolean allowed;
    private final long permits;
    private final long remaining;
    private final long retryAfterNanos;
    private final long resetNanos;
    private final long limit;
    /** Set only by {@link #exceeding}: a denial whose retry-after is NEVER for another reason is not. */
    private final boolean exceeds;

    private Decision(boolean allowed, boolean exceeds, long permits, long remaining, long retryAfterNanos,
                     long resetNanos, long limit) {
        this.allowed = allowed;
        this.exceeds = exceeds;
        this.permits = permits;
        this.remaining = remaining;
        this.retryAfterNanos = retryAfterNanos;
        this.resetNanos = resetNanos;
        this.limit = limit;
    }

    /**
     * A granted decision.
     *
     * @param permits    the permits requested and granted, {@code > 0}
     * @param remaining  the permits still available right after, {@code >= 0}
     * @param resetNanos nanoseconds until the limiter is full again, {@code >= 0}
     * @param limit      the most permits one request can be granted, {@code > 0}
     * @return the decision
     * @throws IllegalArgumentException if a value is out of range
     */
    public static Decision allowed(long permits, long remaining, long resetNanos, long limit) {
        return of(true, false, permits, remaining, 0, resetNanos, limit);
    }

    /**
     * A refused decision; nothing was consumed.
     *
     * @param permits         the permits requested, {@code > 0}
     * @param remaining       the permits available now (fewer than requested), {@code >= 0}
     * @param retryAfterNanos nanoseconds until the same request can succeed, {@code > 0}, or
     *                        {@link #NEVER}
     * @param resetNanos      nanoseconds until the limiter is full again, {@code >= 0}
     * @param limit           the most permits one request can be granted, {@code > 0}
     * @return the decision
     * @throws IllegalArgumentException if a value is out of range
     */
    public static Decision denied(long permits, long remaining, long retryAfterNanos,
                                  long resetNanos, long limit) {
        if (retryAfterNanos <= 0) {
            throw new IllegalArgumentException(
                    "retryAfterNanos must be > 0 for a denied decision: retryAfterNanos=" + retryAfterNanos);
        }
        return of(false, false, permits, remaining, retryAfterNanos, resetNanos, limit);
    }

    /**
     * A refused decision for a request larger than the limit can ever grant.
     *
     * @param permits    the permits requested, {@code > limit}
     * @param remaining  the permits available now, {@code >= 0}
     * @param resetNanos nanoseconds until the limiter is full again, {@code >= 0}
     * @param limit      the most permits one request can be granted, {@code > 0}
     * @return the decision, with {@link #retryAfterNanos()} equal to {@link #NEVER}
     * @throws IllegalArgumentException if a value is out of range
     */
    public static Decision exceeding(long permits, long remaining, long resetNanos, long limit) {
        return of(false, true, permits, remaining, NEVER, resetNanos, limit);
    }

    private static Decision of(boolean allowed, boolean exceeds, long permits, long remaining,
                               long retryAfterNanos, long resetNanos, long limit) {
        if (permits <= 0) {
            throw new IllegalArgumentException("permits must be > 0: permits=" + permits);
        }
        if (remaining < 0) {
            throw new IllegalArgumentException("remaining must be >= 0: remaining=" + remaining);
        }
        if (resetNanos < 0) {
            throw new IllegalArgumentException("resetNanos must be >= 0: resetNanos=" + resetNanos);
        }
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be > 0: limit=" + limit);
        }
        return new Decision(allowed, exceeds, permits, remaining, retryAfterNanos, resetNanos, limit);
    }

    /** @return {@code true} if the permits were granted and consumed */
    public boolean isAllowed() {
        return allowed;
    }

    /** @return the number of permits the request asked for */
    public long permits() {
        return permits;
    }

    /** @return the permits that could be granted right after this decision */
    public long remaining() {
        return remaining;
    }

    /**
     * @return zero when allowed; else nanoseconds until the same request can succeed if no other
     *     caller consumes permits meanwhile, or {@link #NEVER}
     */
    public long retryAfterNanos() {
        return retryAfterNanos;
    }

    /**
     * @return {@link #retryAfterNanos()} as a {@link Duration}; {@code null} never, but a
     *     request that {@link #exceedsLimit() exceeds the limit} gets the longest
     *     {@code Duration} of nanoseconds ({@code Long.MAX_VALUE} ns)
     */
    public Duration retryAfter() {
        return Duration.ofNanos(retryAfterNanos);
    }

    /** @return nanoseconds until the limiter is back to its full state */
    public long resetNanos() {
        return resetNanos;
    }

    /** @return {@link #resetNanos()} as a {@link Duration} */
    public Duration reset() {
        return Duration.ofNanos(resetNanos);
    }

    /** @return the most permits one request can ever be granted by this limiter */
    public long limit() {
        return limit;
    }

    /**
     * @return {@code true} if the request asks for more permits than the limit can ever grant
     *     (a decision made by {@link #exceeding}); a {@link #denied} decision whose retry-after
     *     is {@link #NEVER} for another reason is not
     */
    public boolean exceedsLimit() {
        return exceeds;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Decision)) {
            return false;
        }
        Decision d = (Decision) o;
        return allowed == d.allowed && exceeds == d.exceeds && permits == d.permits && remaining == d.remaining
                && retryAfterNanos == d.retryAfterNanos && resetNanos == d.resetNanos
                && limit == d.limit;
    }

    @Override
    public int hashCode() {
        int h = Boolean.hashCode(allowed) * 2 + Boolean.hashCode(exceeds);
        h = 31 * h + Long.hashCode(permits);
        h = 31 * h + Long.hashCode(remaining);
        h = 31 * h + Long.hashCode(retryAfterNanos);
        h = 31 * h + Long.hashCode(resetNanos);
        return 31 * h + Long.hashCode(limit);
    }

    @Override
    public String toString() {
        return "Decision{" + (allowed ? "allowed" : exceedsLimit() ? "exceedsLimit" : "denied")
                + ", permits=" + permits + ", remaining=" + remaining
                + ", retryAfterNanos=" + (retryAfterNanos == NEVER ? "NEVER" : Long.toString(retryAfterNanos))
                + ", resetNanos=" + resetNanos + ", limit=" + limit + '}';
    }
}

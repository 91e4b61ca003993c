package dev.ratelimiter;

import java.time.Duration;
import java.util.Objects;

/**
 * Thrown (or used to fail a {@code CompletionStage}) by the {@link Decorators} when a call is
 * refused by its limiter. Carries the refused {@link Decision}, so a server can answer
 * {@code 429 Too Many Requests} with a {@code Retry-After} header.
 *
 * <p>The stack trace is not filled in: a refusal is an expected, frequent outcome, and the
 * decision says all there is to know.
 */
public class RateLimitExceededException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Decision decision;

    /**
     * @param decision the refused decision
     * @throws NullPointerException if {@code decision} is {@code null}
     * @throws IllegalArgumentException if the decision was allowed
     */
    public RateLimitExceededException(Decision decision) {
        super(message(decision), null, false, false);
        this.decision = decision;
    }

    private static String message(Decision decision) {
        Objects.requireNonNull(decision, "decision");
        if (decision.isAllowed()) {
            throw new IllegalArgumentException("decision must be a refusal: decision=" + decision);
        }
        return decision.exceedsLimit()
                ? "rate limit exceeded: " + decision.permits() + " permits can never be granted (limit "
                        + decision.limit() + ")"
                : "rate limit exceeded: retry after " + decision.retryAfterNanos() + " ns";
    }

    /** @return the refused decision */
    public Decision decision() {
        return decision;
    }

    /** @return how long until a retry can succeed; see {@link Decision#retryAfter()} */
    public Duration retryAfter() {
        return decision.retryAfter();
    }

    /** @return how long until a retry can succeed, in nanoseconds, or {@link Decision#NEVER} */
    public long retryAfterNanos() {
        return decision.retryAfterNanos();
    }
}

package dev.ratelimiter;

import java.time.Duration;
import java.util.Objects;

/**
 * Thrown (or used to fail a {@code CompletionStage}) by the {@link Decorators} when a call is
 * refused by its limiter. Names the limiter and the key (when they are known) and carries the
 * refused {@link Decision}, so a server can answer {@code 429 Too Many Requests} with a
 * {@code Retry-After} header.
 *
 * <p>The stack trace is not filled in: a refusal is an expected, frequent outcome, and the
 * decision says all there is to know.
 *
 * <p>Serialization keeps the message, the limiter's name, the key's text and the retry-after;
 * the {@link Decision} and the key object are not serializable in general and are
 * {@code null} in a deserialized copy.
 *
 * <pre>{@code
 * try {
 *     return limitedSearch.apply(request);
 * } catch (RateLimitExceededException e) {
 *     response.setStatus(429);
 *     response.setHeader("Retry-After", Long.toString(e.retryAfter().toSeconds() + 1));
 *     log.info("refused by " + e.limiterName() + " for " + e.key());
 * }
 * }</pre>
 */
public class RateLimitExceededException extends RuntimeException {

    private static final long serialVersionUID = 2L;

    /** The refused decision; not serialized. */
    private final transient Decision decision;
    /** The key; not serialized (its text is). */
    private final transient Object key;
    /** The limiter's name, or {@code null}. */
    private final String limiterName;
    /** {@code String.valueOf(key)}, or {@code null} without a key. */
    private final String keyText;
    /** The decision's retry-after, kept across serialization. */
    private final long retryAfterNanos;

    /**
     * A refusal by an unnamed limiter, without a key.
     *
     * @param decision the refused decision
     * @throws NullPointerException if {@code decision} is {@code null}
     * @throws IllegalArgumentException if the decision was allowed
     */
    public RateLimitExceededException(Decision decision) {
        this(null, null, decision);
    }

    /**
     * A refusal by the limiter named {@code limiterName}, for {@code key}.
     *
     * @param limiterName the limiter's name, or {@code null} if it has none
     * @param key         the key refused, or {@code null} for a single limiter
     * @param decision    the refused decision
     * @throws NullPointerException     if {@code decision} is {@code null}
     * @throws IllegalArgumentException if the decision was allowed
     */
    public RateLimitExceededException(String limiterName, Object key, Decision decision) {
        super(message(limiterName, key, decision), null, false, false);
        this.decision = decision;
        this.key = key;
        this.limiterName = limiterName;
        this.keyText = key == null ? null : String.valueOf(key);
        this.retryAfterNanos = decision.retryAfterNanos();
    }

    private static String message(String limiterName, Object key, Decision decision) {
        Objects.requireNonNull(decision, "decision");
        if (decision.isAllowed()) {
            throw new IllegalArgumentException("decision must be a refusal: decision=" + decision);
        }
        String who = limiterName == null ? "" : " by limiter " + limiterName;
        if (key != null) {
            who += " for key " + key;
        }
        return decision.exceedsLimit()
                ? "rate limit exceeded" + who + ": " + decision.permits() + " permits can never be granted (limit "
                        + decision.limit() + ")"
                : "rate limit exceeded" + who + ": retry after " + decision.retryAfterNanos() + " ns";
    }

    /** @return the refused decision; {@code null} only in a deserialized copy */
    public Decision decision() {
        return decision;
    }

    /** @return the name of the limiter that refused, or {@code null} if it was not named */
    public String limiterName() {
        return limiterName;
    }

    /**
     * @return the key that was refused, or {@code null} for a single limiter (and in a
     *     deserialized copy: see {@link #keyText()})
     */
    public Object key() {
        return key;
    }

    /** @return {@code String.valueOf(key())}, or {@code null} without a key; kept by serialization */
    public String keyText() {
        return keyText;
    }

    /**
     * @return how long until a retry can succeed, as a {@link Duration}; see
     *     {@link Decision#retryAfter()}
     */
    public Duration retryAfter() {
        return Duration.ofNanos(retryAfterNanos);
    }

    /** @return how long until a retry can succeed, in nanoseconds, or {@link Decision#NEVER} */
    public long retryAfterNanos() {
        return retryAfterNanos;
    }
}

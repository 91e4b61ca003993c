package dev.ratelimiter.redis;

/**
 * A rate-limit decision could not be taken in Redis: the call failed, timed out, or was
 * interrupted. Nothing is known about whether the request was counted; a call that timed out is
 * never retried, because it may already have been.
 *
 * <p>Subclasses tell the kinds of failure apart for a
 * {@link RedisRateLimiters.Builder#failureListener failure listener}:
 * {@link RedisMisconfigurationException} (Redis is set up wrong; thrown whatever the
 * {@link FailurePolicy}) and {@link RedisOutOfMemoryException} (answered by the policy). A plain
 * instance is an outage, a timeout or an interrupt.
 */
public class RedisRateLimiterException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed
     * @param cause   the underlying failure, or {@code null}
     */
    public RedisRateLimiterException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.ratelimiter.redis;

/**
 * Redis refused a decision with {@code OOM}: its memory is at {@code maxmemory} and its
 * {@code maxmemory-policy} ({@code noeviction}, as the limiters want it) refuses writes rather
 * than evict keys. Unlike a {@link RedisMisconfigurationException}, this is answered by the
 * {@link FailurePolicy} like an outage (memory may be freed without touching the limiter), but the
 * {@link RedisRateLimiters.Builder#failureListener failure listener} can tell it apart by its
 * type, and the first one is logged at {@code WARNING}, once per {@link RedisRateLimiters}
 * factory, through {@link System.Logger} {@code dev.ratelimiter.redis}. Nothing ran: the script
 * wrote nothing.
 */
public class RedisOutOfMemoryException extends RedisRateLimiterException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed
     * @param cause   the underlying failure, or {@code null}
     */
    public RedisOutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.ratelimiter.redis;

import java.util.Objects;

/**
 * Redis refused a decision because of how it, or the connection to it, is set up, not because it
 * is unavailable: the ACL user may not run {@code EVALSHA}/{@code EVAL} ({@code NOPERM}), the
 * connection is not authenticated ({@code NOAUTH}, {@code WRONGPASS}), the limiter points at a
 * read-only replica ({@code READONLY}), or the server does not know the scripting commands
 * (renamed or disabled). Waiting does not fix any of these: an operator must.
 *
 * <p><b>Not answered by the failure policy.</b> Whatever the {@link FailurePolicy}, a decision
 * refused this way throws this exception (a synchronous call) or completes its stage
 * exceptionally with it (an asynchronous one), after the
 * {@link RedisRateLimiters.Builder#failureListener failure listener} is told; the first one of
 * each {@link Reason} is also logged at {@code ERROR}, once per {@link RedisRateLimiters} factory,
 * through {@link System.Logger} {@code dev.ratelimiter.redis}. A fallback that quietly decided
 * with local limits would hide a broken deployment for ever; an outage ends, a misconfiguration
 * does not. The one exception is a request for more permits than the limit can ever grant, which
 * is answered {@link dev.ratelimiter.Decision#exceedsLimit() exceeding} as always.
 *
 * <p>{@code READONLY} also appears for a moment when a failover demotes the master a plain
 * standalone connection still points at: connect through Lettuce's Sentinel or Redis Cluster
 * support, which follows the new master, rather than to a fixed address that may become a
 * replica.
 *
 * <p>A {@link Reason#EVICTION_POLICY} instance is never thrown: the factory checks the server's
 * {@code maxmemory-policy} once when it is built and hands the listener (and the log, at
 * {@code WARNING}) this warning if the policy may evict the limiters' keys.
 */
public class RedisMisconfigurationException extends RedisRateLimiterException {

    private static final long serialVersionUID = 1L;

    /** What is misconfigured. */
    public enum Reason {
        /** {@code NOPERM}: the ACL user may not run the scripting commands (or a key or command a script uses). */
        NO_PERMISSION,
        /** {@code NOAUTH} or {@code WRONGPASS}: the connection is not authenticated as a user that may decide. */
        NOT_AUTHENTICATED,
        /** {@code READONLY}: the connection reaches a read-only replica, not the master. */
        READ_ONLY_REPLICA,
        /** The server does not know {@code EVALSHA}/{@code EVAL} (renamed or disabled commands). */
        UNKNOWN_COMMAND,
        /**
         * {@code maxmemory-policy} is not {@code noeviction}: Redis may evict the limiters' keys
         * (all of which have a TTL) under memory pressure, which silently resets their limits and
         * over-admits. Only reported, never thrown.
         */
        EVICTION_POLICY
    }

    /** What is misconfigured (part of the serialized form). */
    private final Reason reason;

    /**
     * @param reason  what is misconfigured
     * @param message what failed
     * @param cause   the underlying failure, or {@code null}
     * @throws NullPointerException if {@code reason} is {@code null}
     */
    public RedisMisconfigurationException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** @return what is misconfigured */
    public Reason reason() {
        return reason;
    }
}

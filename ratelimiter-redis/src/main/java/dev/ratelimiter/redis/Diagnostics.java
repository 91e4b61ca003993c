package dev.ratelimiter.redis;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/*
 * Sorts the Redis errors of one factory into outages, misconfigurations and out-of-memory, and
 * logs the first of each kind once per factory. Redis error replies start with their code (the
 * first word); in Redis 6.2 an error raised inside a script is wrapped as "ERR Error running
 * script ... -CODE ...", so the code is also looked for after a '-' in such a message.
 *
 * Thread safety: the set of kinds already logged is guarded by this object's lock, taken only on
 * the failure path and only for the set's update.
 */
/** The classification and the once-per-factory log of Redis errors. Thread-safe. */
final class Diagnostics {

    /** The logger of the Redis limiters: {@code dev.ratelimiter.redis}. */
    static final System.Logger LOG = System.getLogger("dev.ratelimiter.redis");

    private final Set<RedisMisconfigurationException.Reason> logged = EnumSet.noneOf(RedisMisconfigurationException.Reason.class);
    private boolean oomLogged;

    /**
     * @param message the failure's message
     * @param cause   a Redis error reply's exception
     * @return the failure, of the type its error code calls for (misconfiguration, out of
     *     memory, or a plain {@link RedisRateLimiterException}); the first misconfiguration of
     *     each reason and the first out-of-memory are logged
     */
    RedisRateLimiterException classify(String message, Throwable cause) {
        String error = cause.getMessage() == null ? "" : cause.getMessage();
        RedisMisconfigurationException.Reason reason = reasonOf(error);
        if (reason != null) {
            RedisMisconfigurationException e = new RedisMisconfigurationException(reason, message, cause);
            logOnce(e);
            return e;
        }
        if (hasCode(error, "OOM")) {
            RedisOutOfMemoryException e = new RedisOutOfMemoryException(message, cause);
            boolean first;
            synchronized (this) {
                first = !oomLogged;
                oomLogged = true;
            }
            if (first) {
                LOG.log(System.Logger.Level.WARNING, "Redis is out of memory and refuses rate-limit decisions, "
                        + "which the failure policy answers (logged once per factory): " + message);
            }
            return e;
        }
        return new RedisRateLimiterException(message, cause);
    }

    /** Logs a misconfiguration, at ERROR (WARNING for the eviction policy), if it is the first of its reason. */
    void logOnce(RedisMisconfigurationException e) {
        synchronized (this) {
            if (!logged.add(e.reason())) {
                return;
            }
        }
        if (e.reason() == RedisMisconfigurationException.Reason.EVICTION_POLICY) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage());
        } else {
            LOG.log(System.Logger.Level.ERROR, "Redis rate limiter misconfigured (" + e.reason()
                    + "), decisions fail whatever the failure policy (logged once per factory): " + e.getMessage());
        }
    }

    /** @return the misconfiguration an error reply reports, or {@code null} if it reports none */
    static RedisMisconfigurationException.Reason reasonOf(String error) {
        if (hasCode(error, "NOPERM")) {
            return RedisMisconfigurationException.Reason.NO_PERMISSION;
        }
        if (hasCode(error, "NOAUTH") || hasCode(error, "WRONGPASS")) {
            return RedisMisconfigurationException.Reason.NOT_AUTHENTICATED;
        }
        if (hasCode(error, "READONLY")) {
            return RedisMisconfigurationException.Reason.READ_ONLY_REPLICA;
        }
        String lower = error.toLowerCase(Locale.ROOT);
        if (lower.startsWith("err unknown command") && (lower.contains("'eval") || lower.contains("`eval"))) {
            return RedisMisconfigurationException.Reason.UNKNOWN_COMMAND;
        }
        return null;
    }

    /** @return whether the error reply has {@code code}: as its first word, or after a '-' inside a script error */
    static boolean hasCode(String error, String code) {
        if (error.startsWith(code + " ") || error.equals(code)) {
            return true;
        }
        return error.startsWith("ERR") && (error.contains("-" + code + " ") || error.contains(": " + code + " "));
    }
}

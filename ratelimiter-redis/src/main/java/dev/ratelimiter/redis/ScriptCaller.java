package dev.ratelimiter.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/*
 * One round trip per decision: EVALSHA. If Redis answers NOSCRIPT (restarted, failed over, or
 * SCRIPT FLUSH), the same call is sent once more as EVAL with the whole body, which also caches
 * the script again and, in a cluster, is routed by its key like EVALSHA. Only NOSCRIPT is
 * retried: a NOSCRIPT reply proves the script did not run. Any other failure, and above all a
 * timeout, is reported as is: a call that timed out may already have counted.
 *
 * Thread safety: stateless apart from final fields; Lettuce's async commands are thread-safe and
 * pipeline over the shared connection.
 */
/** Runs the scripts over Lettuce with the NOSCRIPT fallback and a timeout on every call. */
final class ScriptCaller {

    private final RedisScriptingAsyncCommands<String, String> commands;
    private final long timeoutNanos;

    ScriptCaller(RedisScriptingAsyncCommands<String, String> commands, Duration timeout) {
        this.commands = commands;
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * Runs {@code script} on {@code key}.
     *
     * @return its reply, the four integers; completes exceptionally with
     *     {@link RedisRateLimiterException} on failure or after the timeout
     */
    CompletableFuture<List<Object>> call(Scripts script, String key, String... args) {
        String[] keys = {key};
        CompletableFuture<List<Object>> first = commands.<List<Object>>evalsha(
                script.sha(), ScriptOutputType.MULTI, keys, args).toCompletableFuture();
        CompletableFuture<List<Object>> result = first.handle((reply, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(reply);
            }
            if (unwrap(failure) instanceof RedisNoScriptException) {
                return commands.<List<Object>>eval(script.body(), ScriptOutputType.MULTI, keys, args)
                        .toCompletableFuture();
            }
            return CompletableFuture.<List<Object>>failedFuture(unwrap(failure));
        }).thenCompose(f -> f);
        return result.orTimeout(timeoutNanos, TimeUnit.NANOSECONDS).handle((reply, failure) -> {
            if (failure == null) {
                return reply;
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof TimeoutException) {
                throw new RedisRateLimiterException("no answer from Redis within "
                        + Duration.ofNanos(timeoutNanos) + " for key " + key, cause);
            }
            if (cause instanceof RedisRateLimiterException e) {
                throw e;
            }
            throw new RedisRateLimiterException("rate-limit script failed for key " + key + ": " + cause, cause);
        });
    }

    /**
     * Runs a script that is not one of {@link Scripts}, on several keys (which must share a hash
     * slot), with the same NOSCRIPT fallback and timeout as {@link #call(Scripts, String, String...)}.
     *
     * @param sha  the SHA-1 of {@code body}
     * @param body the script text
     * @param keys its keys; the first names the decision in error messages
     * @param args its arguments
     * @return its reply; completes exceptionally with {@link RedisRateLimiterException} on
     *     failure or after the timeout
     */
    CompletableFuture<List<Object>> call(String sha, String body, String[] keys, String... args) {
        CompletableFuture<List<Object>> first = commands.<List<Object>>evalsha(
                sha, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
        CompletableFuture<List<Object>> result = first.handle((reply, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(reply);
            }
            if (unwrap(failure) instanceof RedisNoScriptException) {
                return commands.<List<Object>>eval(body, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
            }
            return CompletableFuture.<List<Object>>failedFuture(unwrap(failure));
        }).thenCompose(f -> f);
        String key = keys[0];
        return result.orTimeout(timeoutNanos, TimeUnit.NANOSECONDS).handle((reply, failure) -> {
            if (failure == null) {
                return reply;
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof TimeoutException) {
                throw new RedisRateLimiterException("no answer from Redis within "
                        + Duration.ofNanos(timeoutNanos) + " for key " + key, cause);
            }
            if (cause instanceof RedisRateLimiterException e) {
                throw e;
            }
            throw new RedisRateLimiterException("rate-limit script failed for key " + key + ": " + cause, cause);
        });
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}

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
        // The caller's deadline starts now. The NOSCRIPT fallback is sent only while it has not
        // passed: an EVALSHA answered after the caller gave up (e.g. buffered by Lettuce while
        // reconnecting) must not run the script anyway.
        CompletableFuture<List<Object>> result = new CompletableFuture<List<Object>>()
                .orTimeout(timeoutNanos, TimeUnit.NANOSECONDS);
        commands.<List<Object>>evalsha(script.sha(), ScriptOutputType.MULTI, keys, args)
                .whenComplete((reply, failure) -> {
                    if (failure == null) {
                        result.complete(reply);
                    } else if (unwrap(failure) instanceof RedisNoScriptException && !result.isDone()) {
                        commands.<List<Object>>eval(script.body(), ScriptOutputType.MULTI, keys, args)
                                .whenComplete((again, failedAgain) -> {
                                    if (failedAgain == null) {
                                        result.complete(again);
                                    } else {
                                        result.completeExceptionally(unwrap(failedAgain));
                                    }
                                });
                    } else {
                        result.completeExceptionally(unwrap(failure));
                    }
                });
        return result.handle((reply, failure) -> {
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

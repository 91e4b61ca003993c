package dev.ratelimiter.redis;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/*
 * One round trip per decision: EVALSHA. If Redis answers NOSCRIPT (restarted, failed over, or
 * SCRIPT FLUSH), the same call is sent once more as EVAL with the whole body, which also caches
 * the script again and, in a cluster, is routed by its key like EVALSHA. Only NOSCRIPT is
 * retried: a NOSCRIPT reply proves the script did not run. Any other failure, and above all a
 * timeout, is reported as is: a call that timed out may already have counted. On timeout the
 * pending Lettuce command is cancelled, so that Lettuce does not send it after a reconnect, and a
 * NOSCRIPT reply that arrives after the timeout sends no EVAL.
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
        return call(script.sha(), script.body(), new String[] {key}, args);
    }

    /**
     * Runs a script on one or more keys (which must share a hash slot), with the NOSCRIPT
     * fallback and the timeout.
     *
     * @param sha  the SHA-1 of {@code body}
     * @param body the script text
     * @param keys its keys; the first names the decision in error messages
     * @param args its arguments
     * @return its reply; completes exceptionally with {@link RedisRateLimiterException} on
     *     failure or after the timeout
     */
    CompletableFuture<List<Object>> call(String sha, String body, String[] keys, String... args) {
        String key = keys[0];
        // The Lettuce futures of this call, cancelled when it times out: a cancelled command
        // still waiting in Lettuce's buffers (disconnected, or queued behind a slow write) is
        // never written, so a call that timed out cannot run later, after a reconnect.
        AtomicReference<CompletableFuture<List<Object>>> inFlight = new AtomicReference<>();
        CompletableFuture<List<Object>> first = send(inFlight,
                () -> commands.evalsha(sha, ScriptOutputType.MULTI, keys, args));
        CompletableFuture<List<Object>> result = new CompletableFuture<>();
        first.whenComplete((reply, failure) -> {
            if (failure == null) {
                result.complete(reply);
            } else if (unwrap(failure) instanceof RedisNoScriptException && !result.isDone()) {
                // NOSCRIPT proves the script did not run; but once the call has timed out its
                // caller has been answered, and a late EVAL would count a request nobody waits for.
                send(inFlight, () -> commands.eval(body, ScriptOutputType.MULTI, keys, args))
                        .whenComplete((r, f) -> {
                            if (f == null) {
                                result.complete(r);
                            } else {
                                result.completeExceptionally(unwrap(f));
                            }
                        });
            } else {
                result.completeExceptionally(unwrap(failure));
            }
        });
        return result.orTimeout(timeoutNanos, TimeUnit.NANOSECONDS).handle((reply, failure) -> {
            if (failure == null) {
                return reply;
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof TimeoutException) {
                CompletableFuture<List<Object>> pending = inFlight.get();
                if (pending != null) {
                    pending.cancel(false);
                }
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
     * Sends one command, recording its future in {@code inFlight}; a command Lettuce refuses at
     * once (it may throw instead of failing the future) becomes a failed future too.
     */
    private static CompletableFuture<List<Object>> send(AtomicReference<CompletableFuture<List<Object>>> inFlight,
                                                        Supplier<RedisFuture<List<Object>>> command) {
        CompletableFuture<List<Object>> future;
        try {
            future = command.get().toCompletableFuture();
        } catch (RuntimeException refused) {
            future = CompletableFuture.failedFuture(refused);
        }
        inFlight.set(future);
        return future;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}

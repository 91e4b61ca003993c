package dev.ratelimiter.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/*
 * One round trip per decision: EVALSHA. If Redis answers NOSCRIPT (restarted, failed over, or
 * SCRIPT FLUSH), the same call is sent once more as EVAL with the whole body, which also caches
 * the script again and, in a cluster, is routed by its key like EVALSHA. Only NOSCRIPT and
 * TRYAGAIN (below) are retried: both prove the script did not run. Any other failure, and above all a
 * timeout, is reported as is: a call that timed out may already have counted. On timeout the
 * pending Lettuce command is cancelled, so that Lettuce does not send it after a reconnect, and a
 * NOSCRIPT reply that arrives after the timeout sends no EVAL.
 *
 * TRYAGAIN (Redis Cluster, a multi-key call while its slot migrates and its keys are split
 * between the two nodes) also proves that nothing ran: the same command is sent again after a
 * bounded exponential backoff (TRYAGAIN_FIRST_NANOS doubling up to TRYAGAIN_MAX_NANOS), as long
 * as the resend comes before the call's deadline; a retry that would come at or after it is not
 * made and the call fails with the TRYAGAIN error at once (the policy answers). The delay runs on
 * CompletableFuture's shared delay thread, which only sends the command (non-blocking), and only
 * if the call is not over: a call that timed out is never sent again. Each resend follows the
 * completion of the previous command, so the attempt count is only touched by one thread at a time.
 *
 * Timeouts cost no timer task on the synchronous path: the calling thread waits with a timed
 * get and, when it expires, times the call out itself. Asynchronous calls are registered with
 * the shared CallTimer (one lock-free queue insertion), which times them out within the timeout
 * plus CallTimer.SWEEP_NANOS.
 *
 * Thread safety: a Call is completed once, by whichever comes first of Lettuce's event loop (the
 * reply), the waiting caller or the timer (the timeout); CompletableFuture arbitrates. The
 * Lettuce future in flight is published through a volatile field, written before the call's
 * done state is checked (EVAL) and read after the timeout completed the call (timeOut): with
 * both accesses volatile, either the timeout sees the EVAL's future and cancels it, or the EVAL's
 * sender sees the call done and cancels it itself; a cancelled command still in Lettuce's
 * buffers is never written. Lettuce's async commands are thread-safe and pipeline over the
 * shared connection.
 */
/** Runs the scripts over Lettuce with the NOSCRIPT fallback and a timeout on every call. */
final class ScriptCaller {

    /** The first wait before resending a call answered TRYAGAIN: 2 ms. */
    static final long TRYAGAIN_FIRST_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    /** The longest wait between two sends of a call answered TRYAGAIN: 64 ms. */
    static final long TRYAGAIN_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(64);

    private final RedisScriptingAsyncCommands<String, String> commands;
    private final long timeoutNanos;
    /** Sorts Redis error replies into outages and misconfigurations; logs once per factory. */
    private final Diagnostics diagnostics;
    /** The pending asynchronous calls, for the shared timer. */
    private final CallTimer.Lane lane;
    /** Told of every call's round trip, or {@code null}. */
    private final Observer observer;

    /** Told how long each call took. Must be quick and thread-safe; what it throws is ignored. */
    interface Observer {
        /**
         * A call ended.
         *
         * @param nanos     from its first send to its reply, failure or timeout
         * @param succeeded whether Redis answered it
         */
        void called(long nanos, boolean succeeded);
    }

    ScriptCaller(RedisScriptingAsyncCommands<String, String> commands, Duration timeout) {
        this(commands, timeout, new Diagnostics());
    }

    ScriptCaller(RedisScriptingAsyncCommands<String, String> commands, Duration timeout, Diagnostics diagnostics) {
        this(commands, timeout.toNanos(), diagnostics, new CallTimer.Lane(), null);
    }

    private ScriptCaller(RedisScriptingAsyncCommands<String, String> commands, long timeoutNanos,
                         Diagnostics diagnostics, CallTimer.Lane lane, Observer observer) {
        this.commands = commands;
        this.timeoutNanos = timeoutNanos;
        this.diagnostics = diagnostics;
        this.lane = lane;
        this.observer = observer;
    }

    /**
     * @param observer told of every call this caller's copy makes
     * @return a caller over the same connection, timeout, diagnostics and timer lane (its calls
     *     have the same timeout, so the lane stays in deadline order), telling {@code observer}
     */
    ScriptCaller observed(Observer observer) {
        return new ScriptCaller(commands, timeoutNanos, diagnostics, lane, java.util.Objects.requireNonNull(observer));
    }

    /**
     * Runs {@code script} on {@code key}, asynchronously.
     *
     * @return its reply, the four integers; completes exceptionally with
     *     {@link RedisRateLimiterException} on failure or after the timeout (at most
     *     {@link CallTimer#SWEEP_NANOS} late, plus scheduling delays)
     */
    CompletableFuture<List<Object>> call(Scripts script, String key, String... args) {
        return call(script.sha(), script.body(), new String[] {key}, args);
    }

    /**
     * Runs a script on one or more keys (which must share a hash slot), asynchronously, with the
     * NOSCRIPT fallback and the timeout.
     *
     * @param sha  the SHA-1 of {@code body}
     * @param body the script text
     * @param keys its keys; the first names the decision in error messages
     * @param args its arguments
     * @return its reply; completes exceptionally with {@link RedisRateLimiterException} on
     *     failure or after the timeout (at most {@link CallTimer#SWEEP_NANOS} late, plus
     *     scheduling delays)
     */
    CompletableFuture<List<Object>> call(String sha, String body, String[] keys, String... args) {
        return start(sha, body, keys, args, true);
    }

    /**
     * Sends a script call, as {@link #call(String, String, String[], String...)} does.
     *
     * @param timed whether the shared timer times it out; if not, the one waiting for it must, as
     *              {@link #await} does
     * @return the call, its reply once answered
     */
    TimedReply start(String sha, String body, String[] keys, String[] args, boolean timed) {
        return start(sha, body, keys, args, timed, null);
    }

    /**
     * {@link #start(String, String, String[], String[], boolean)}, running {@code ended} once the
     * call is over (answered, failed or timed out), before its dependents run, on the thread that
     * ended it; what it throws is ignored.
     */
    TimedReply start(String sha, String body, String[] keys, String[] args, boolean timed, Runnable ended) {
        Call call = new Call(this, sha, body, keys, args, System.nanoTime() + timeoutNanos, ended);
        if (timed) {
            lane.add(call);
        }
        call.evalsha();
        return call;
    }

    /** Has the shared timer time out {@code reply} at its deadline (registered in deadline order). */
    void timeOutLater(TimedReply reply) {
        lane.add(reply);
    }

    /** @return the timeout of every call */
    long timeoutNanos() {
        return timeoutNanos;
    }

    /**
     * A reply waited for until a deadline: a script call, or a decision that another call
     * answers (a coalesced one). Completed only with its reply or a
     * {@link RedisRateLimiterException}.
     */
    abstract static class TimedReply extends CompletableFuture<List<Object>> implements CallTimer.Timed {
        /** @return the Redis key the reply is about, for messages */
        abstract String key();
    }

    /** @return the failure of a call on {@code key} that did not answer within the timeout */
    RedisRateLimiterException timedOut(String key) {
        return timedOut(key, null);
    }

    /**
     * @param tryAgain the last TRYAGAIN answer of a call being resent when it timed out, or {@code null}
     * @return the failure of a call on {@code key} that did not answer within the timeout, naming
     *         the TRYAGAIN if there was one (the reason no answer came)
     */
    RedisRateLimiterException timedOut(String key, Throwable tryAgain) {
        String message = "no answer from Redis within " + Duration.ofNanos(timeoutNanos) + " for key "
                + RedisKeys.forMessage(key);
        if (tryAgain == null) {
            return new RedisRateLimiterException(message, new TimeoutException());
        }
        Throwable cause = unwrap(tryAgain);
        return new RedisRateLimiterException(message + ", resent while Redis answered: " + cause.getMessage(), cause);
    }

    /**
     * Runs {@code script} on {@code key} and waits for its reply, at most the timeout.
     *
     * @return its reply
     * @throws RedisRateLimiterException on failure or after the timeout
     * @throws InterruptedException      if interrupted while waiting; the call is then abandoned
     *                                   as if timed out (no EVAL follows, its pending command is
     *                                   cancelled)
     */
    List<Object> callSync(Scripts script, String key, String... args) throws InterruptedException {
        return callSync(script.sha(), script.body(), new String[] {key}, args);
    }

    /**
     * Runs a script as {@link #call(String, String, String[], String...)} does and waits for its
     * reply, at most the timeout, on the calling thread: no timer is involved.
     *
     * @return its reply
     * @throws RedisRateLimiterException on failure or after the timeout
     * @throws InterruptedException      if interrupted while waiting; the call is then abandoned
     *                                   as if timed out
     */
    List<Object> callSync(String sha, String body, String[] keys, String... args) throws InterruptedException {
        checkNotInterrupted();
        return await(start(sha, body, keys, args, false));
    }

    /**
     * Checked before a synchronous caller's command is sent: one written for a caller that cannot
     * wait for its reply would still count in Redis. Clears the interrupt, as throwing
     * {@link InterruptedException} does.
     *
     * @throws InterruptedException if the calling thread is interrupted
     */
    static void checkNotInterrupted() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before calling Redis");
        }
    }

    /**
     * Waits for a reply until its deadline, on the calling thread, and times it out then.
     *
     * @return the reply
     * @throws RedisRateLimiterException on failure or after the deadline
     * @throws InterruptedException      if interrupted while waiting; the reply is then timed out
     *                                   (abandoned)
     */
    List<Object> await(TimedReply reply) throws InterruptedException {
        try {
            return reply.get(reply.deadline() - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            reply.timeOut();
            return replyOf(reply); // the reply, if it won the race against the timeout
        } catch (InterruptedException e) {
            reply.timeOut();
            throw e;
        } catch (ExecutionException e) {
            throw asRedisFailure(reply.key(), e.getCause());
        }
    }

    /** @return the exception a sync caller interrupted while waiting throws, the interrupt kept */
    static RedisRateLimiterException interrupted(InterruptedException e) {
        Thread.currentThread().interrupt();
        return new RedisRateLimiterException("interrupted while waiting for Redis", e);
    }

    private List<Object> replyOf(TimedReply done) {
        try {
            return done.join();
        } catch (CompletionException e) {
            throw asRedisFailure(done.key(), e.getCause());
        }
    }

    private RedisRateLimiterException asRedisFailure(String key, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof RedisRateLimiterException e) {
            return e;
        }
        String message = "rate-limit script failed for key " + RedisKeys.forMessage(key) + ": " + cause;
        if (cause instanceof RedisCommandExecutionException) {
            // An error reply: NOPERM, READONLY, OOM and the like are told apart from outages.
            return diagnostics.classify(message, cause);
        }
        return new RedisRateLimiterException(message, cause);
    }

    /** @return whether a failure is Redis Cluster's TRYAGAIN, which proves the command did not run */
    static boolean isTryAgain(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof RedisCommandExecutionException && cause.getMessage() != null
                && cause.getMessage().startsWith("TRYAGAIN");
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /**
     * One script call: its own result future, and the completion action of its Lettuce
     * futures, so that a call costs no further stage. Completed only with its reply or a
     * {@link RedisRateLimiterException}.
     */
    private static final class Call extends TimedReply implements BiConsumer<List<Object>, Throwable> {

        private final ScriptCaller caller;
        private final String sha;
        private final String body;
        private final String[] keys;
        private final String[] args;
        private final long deadline;
        /** Run once the call is over, before its dependents, or {@code null}. */
        private final Runnable ended;
        /** 1 once a completion has won (then the call counts as over, see {@link #isDone}). */
        private volatile int over;
        private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<Call> OVER =
                java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(Call.class, "over");
        /** The Lettuce future of the command in flight, cancelled when the call times out. */
        private volatile CompletableFuture<List<Object>> inFlight;
        /** Whether the EVAL was sent; written before it is sent, read on its completion. */
        private volatile boolean retried;
        /** How many times the call was answered TRYAGAIN; touched by one completion at a time. */
        private int tryAgains;
        /** The last TRYAGAIN answer, named by a timeout that comes while the call is resent; or {@code null}. */
        private volatile Throwable lastTryAgain;

        Call(ScriptCaller caller, String sha, String body, String[] keys, String[] args, long deadline,
             Runnable ended) {
            this.ended = ended;
            this.caller = caller;
            this.sha = sha;
            this.body = body;
            this.keys = keys;
            this.args = args;
            this.deadline = deadline;
        }

        void evalsha() {
            send(false);
        }

        @Override
        public boolean complete(List<Object> reply) {
            long end = caller.observer == null ? 0 : System.nanoTime(); // before the dependents run
            if (!OVER.compareAndSet(this, 0, 1)) {
                return false;
            }
            try {
                announce(end, true);
            } finally {
                super.complete(reply); // whatever announce threw: a claimed call is always completed
            }
            return true;
        }

        @Override
        public boolean completeExceptionally(Throwable failure) {
            long end = caller.observer == null ? 0 : System.nanoTime();
            if (!OVER.compareAndSet(this, 0, 1)) {
                return false;
            }
            try {
                announce(end, false);
            } finally {
                super.completeExceptionally(failure);
            }
            return true;
        }

        /**
         * The call is over from here on (see {@link #isDone}); it was not before.
         */
        @Override
        public boolean isDone() {
            return over != 0 || super.isDone();
        }

        /**
         * Run by the completion that won the claim ({@link #OVER}), before the call is completed:
         * tells the observer, if any (the time read before the stages chained on the call run, so
         * the round trip alone), and runs {@link #ended} before those stages run, so that what
         * follows the call (the next batch on its key) waits for none of them.
         */
        private void announce(long end, boolean succeeded) {
            Observer o = caller.observer;
            if (o != null) {
                try {
                    o.called(Math.max(0L, end - (deadline - caller.timeoutNanos)), succeeded);
                } catch (RuntimeException ignored) {
                    // An observer is for metrics: it never changes the call's outcome.
                }
            }
            if (ended != null) {
                try {
                    ended.run();
                } catch (RuntimeException ignored) {
                    // The call's outcome is settled; its follower must not undo it.
                }
            }
        }

        private void eval() {
            retried = true;
            send(true);
        }

        /** Sends the call as EVALSHA, or as EVAL (the NOSCRIPT fallback), and publishes its future. */
        private void send(boolean asEval) {
            CompletableFuture<List<Object>> f;
            try {
                f = (asEval
                        ? caller.commands.<List<Object>>eval(body, ScriptOutputType.MULTI, keys, args)
                        : caller.commands.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args))
                        .toCompletableFuture();
            } catch (RuntimeException refused) {
                // Lettuce may refuse a command at once by throwing instead of failing the future.
                f = CompletableFuture.failedFuture(refused);
            }
            inFlight = f;
            if (isDone()) {
                // Timed out before inFlight was set (the sender stalled, or the EVALSHA's NOSCRIPT
                // raced the timeout): the timeout cancelled nothing, so cancel here, before Lettuce
                // writes the command or replays it after a reconnect.
                f.cancel(false);
            }
            f.whenComplete(this);
        }

        /** The completion of a Lettuce future of this call. */
        @Override
        public void accept(List<Object> reply, Throwable failure) {
            if (failure == null) {
                complete(reply);
            } else if (!retried && unwrap(failure) instanceof RedisNoScriptException && !isDone()) {
                // NOSCRIPT proves the script did not run; but once the call has timed out its
                // caller has been answered, and a late EVAL would count a request nobody waits for.
                eval();
            } else if (isTryAgain(failure) && !isDone()) {
                tryAgain(failure);
            } else if (!isDone()) {
                completeExceptionally(caller.asRedisFailure(keys[0], failure));
            }
        }

        /** Sends the call again after the backoff if that comes before the deadline, else fails it. */
        private void tryAgain(Throwable failure) {
            long backoff = Math.min(TRYAGAIN_MAX_NANOS, TRYAGAIN_FIRST_NANOS << Math.min(tryAgains, 20));
            tryAgains++;
            lastTryAgain = failure;
            if (deadline - (System.nanoTime() + backoff) <= 0) {
                completeExceptionally(caller.asRedisFailure(keys[0], failure)); // no retry past the timeout
                return;
            }
            boolean asEval = retried;
            CompletableFuture.delayedExecutor(backoff, TimeUnit.NANOSECONDS, Runnable::run).execute(() -> {
                if (!isDone()) { // timed out meanwhile: never sent again
                    send(asEval);
                }
            });
        }

        @Override
        public long deadline() {
            return deadline;
        }

        @Override
        String key() {
            return keys[0];
        }

        @Override
        public void timeOut() {
            if (isDone()) {
                return;
            }
            if (completeExceptionally(caller.timedOut(keys[0], lastTryAgain))) {
                CompletableFuture<List<Object>> pending = inFlight;
                if (pending != null) {
                    pending.cancel(false);
                }
            }
        }
    }
}

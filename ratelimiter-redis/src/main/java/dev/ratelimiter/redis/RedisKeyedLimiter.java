package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/*
 * A keyed limiter whose state lives in Redis, one Redis key per limiter key.
 *
 * Invariants and concurrency: this object holds only final, immutable configuration; all state
 * is in Redis, and each decision is one script, which Redis runs atomically. Any number of
 * threads and processes may decide on the same key at once: their scripts are serialized by
 * Redis, so there is no race in this class. The only client-side state is the reading of the
 * client clock passed with each call; two clients whose readings arrive out of order are judged
 * as the scripts document for a clock that steps back (no permit is created).
 *
 * A decision Redis cannot take (timeout, connection, Redis error) is answered by the failure
 * policy on whichever thread completes the failed stage; a blocking acquire applies it to each
 * poll, so under fail-closed it waits the policy's retry-after and asks Redis again.
 *
 * Blocking acquire on the GCRA limits (token bucket, leaky bucket meter and queue) reserves, as
 * the local GCRA limiter does: one script call checks that the slot comes within the timeout (and,
 * for the queue, that the queue holds the request), moves F past the request as a grant would,
 * and returns the wait; the caller then sleeps until its slot. Other callers, in any process, see
 * the debt and queue behind it, so waiters fill the queue and the next caller is refused at once.
 * The slot is counted from the moment the reply arrives, which is after the script read its
 * clock: a waiter never leaves before the slot the script gave it. If the wait ends by an
 * exception before the slot, a second script gives the reservation back only if it is still the
 * last write to the key (F still equals what the reservation wrote), restoring exactly the state
 * it replaced; otherwise later grants were computed on top of it and it is forfeited, which only
 * under-admits. If that call fails (Redis unreachable), the reservation is forfeited too.
 *
 * Blocking acquire on the sliding windows polls: decide; if refused, sleep the decision's
 * retry-after and decide again, until granted or the deadline. Nothing is reserved, so an
 * interrupted or timed-out wait has nothing to give back, and another caller may take the permits
 * first (the waiter then waits again, within its deadline).
 */
/**
 * The Redis-backed keyed limiter; see {@link RedisRateLimiters}. Thread-safe; each decision is
 * one round trip; {@code tryAcquire(key, permits, timeout)} blocks: the GCRA limits reserve their
 * slot and sleep until it comes, the sliding windows poll.
 */
final class RedisKeyedLimiter implements KeyedRateLimiter<String>, AsyncKeyedRateLimiter<String> {

    private final ScriptCaller caller;
    private final String name;
    private final String prefix;
    private final LimitArgs args;
    private final RedisRateLimiters.Clock clock;
    private final Sleeper sleeper;
    /** The clock reading the fixed windows of a counter start from, when its key is absent. */
    private final String origin;
    private final String unitsPerMs;
    private final String graceMs;
    /** The GCRA script's flags: 1 for the queue, 0 for the bucket and the meter. */
    private final String gcraFlags;
    /** What a decision Redis could not take is answered with. */
    private final FailureHandler failures;
    /** The start of every Redis key of this limiter: {@code <prefix>{<name>:}. */
    private final String keyStart;
    /**
     * The script's arguments with the clock reading (index 0) and the permits (index 4 for the
     * GCRA, 3 for the windows) left {@code null}: the constant ones are built once.
     */
    private final String[] argvTemplate;
    private final int permitsIndex;

    RedisKeyedLimiter(ScriptCaller caller, String prefix, String name, LimitArgs args, RedisRateLimiters.Clock clock,
                      Sleeper sleeper, long graceMs) {
        this(caller, prefix, name, args, clock, sleeper, graceMs, FailureHandler.PROPAGATE);
    }

    RedisKeyedLimiter(ScriptCaller caller, String prefix, String name, LimitArgs args, RedisRateLimiters.Clock clock,
                      Sleeper sleeper, long graceMs, FailureHandler failures) {
        this.failures = failures;
        this.caller = caller;
        this.prefix = prefix;
        this.name = name;
        this.args = args;
        this.clock = clock;
        this.sleeper = sleeper;
        this.origin = clock.redisTime() ? "0" : Long.toString(clock.now(args.span));
        this.unitsPerMs = Long.toString(1_000_000L / clock.unitNanos());
        this.graceMs = Long.toString(graceMs);
        this.gcraFlags = args.queue ? "1" : "0";
        this.keyStart = prefix + '{' + name + ':'; // as RedisKeys.tagged writes it
        String max = Long.toString(args.max);
        String period = Long.toString(args.period);
        this.argvTemplate = switch (args.script) {
            case GCRA -> new String[] {null, max, Long.toString(args.rate), period, null, gcraFlags, unitsPerMs,
                    this.graceMs};
            case SLIDING_LOG -> new String[] {null, max, period, null, unitsPerMs, this.graceMs};
            case SLIDING_COUNTER -> new String[] {null, max, period, null, origin, unitsPerMs, this.graceMs};
        };
        this.permitsIndex = args.script == Scripts.GCRA ? 4 : 3;
    }

    /**
     * The Redis key of {@code key}: {@code <prefix>{<name>:<key>}}, the key escaped as
     * {@link RedisKeys} describes. The braces make the whole {@code name:key} the Redis Cluster
     * hash tag, so different keys spread over the slots while everything one decision touches
     * stays in one slot; braces in the key cannot move the tag.
     */
    String redisKey(String key) {
        return keyStart + RedisKeys.escape(key) + '}';
    }

    /** @return the script's arguments for one decision */
    private String[] argv(long permits) {
        String[] argv = argvTemplate.clone();
        argv[0] = clock.redisTime() ? "redis" : Long.toString(clock.now(args.span));
        argv[permitsIndex] = permits == 1 ? "1" : Long.toString(permits);
        return argv;
    }

    @Override
    public CompletionStage<Decision> decideAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        String[] argv;
        try {
            argv = argv(permits);
        } catch (IllegalStateException outOfRange) {
            return CompletableFuture.failedFuture(outOfRange); // async callers get a failed stage
        }
        return caller.call(args.script, redisKey(key), argv).handle((reply, failure) -> failure == null
                ? toDecision(reply, permits) : failures.onFailure(key, permits, failure));
    }

    private Decision toDecision(List<Object> reply, long permits) {
        boolean allowed = ((Long) reply.get(0)) == 1L;
        long remaining = (Long) reply.get(1);
        long retry = (Long) reply.get(2);
        long reset = nanos((Long) reply.get(3));
        if (allowed) {
            return Decision.allowed(permits, remaining, reset, args.max);
        }
        if (retry < 0) {
            return Decision.exceeding(permits, remaining, reset, args.max);
        }
        return Decision.denied(permits, remaining, nanos(retry), reset, args.max);
    }

    private long nanos(long units) {
        return Math.multiplyHigh(units, clock.unitNanos()) == 0 && units * clock.unitNanos() >= 0
                ? units * clock.unitNanos() : Long.MAX_VALUE;
    }

    @Override
    public Decision decide(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        try {
            return decideInterruptibly(key, permits);
        } catch (InterruptedException e) {
            throw ScriptCaller.interrupted(e); // not a Redis failure: the policy does not answer it
        }
    }

    /** {@link #decide}, an interrupt while waiting for Redis thrown as such (blocking acquires). */
    private Decision decideInterruptibly(String key, long permits) throws InterruptedException {
        List<Object> reply;
        try {
            reply = caller.callSync(args.script, redisKey(key), argv(permits));
        } catch (RedisRateLimiterException failed) {
            return failures.onFailure(key, permits, failed);
        }
        return toDecision(reply, permits);
    }

    @Override
    public boolean tryAcquire(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        if (permits > args.max) {
            return false; // never grantable: no round trip
        }
        return decide(key, permits).isAllowed();
    }

    @Override
    public CompletionStage<Boolean> tryAcquireAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        if (permits > args.max) {
            return CompletableFuture.completedFuture(false); // never grantable: no round trip
        }
        return decideAsync(key, permits).thenApply(Decision::isAllowed);
    }

    @Override
    public boolean tryAcquire(String key, long permits, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Objects.requireNonNull(timeout, "timeout");
        if (permits > args.max) {
            return false; // never grantable: no round trip, no wait
        }
        long timeoutNanos = Checks.timeoutNanos(timeout);
        Ticker ticker = clock.deadlineTicker();
        if (args.script == Scripts.GCRA) {
            try {
                return reserveAndAwait(key, permits, timeoutNanos, ticker);
            } catch (RedisRateLimiterException redisFailed) {
                // Redis could not reserve: poll instead, so that the failure policy answers
                // each attempt (within the same deadline) as it does for every other call.
            }
        }
        return Polling.acquire(() -> decideInterruptibly(key, permits), timeoutNanos, ticker, sleeper);
    }

    /** The largest wait, in time units, the scripts compare exactly: 2^53. */
    private static final long MAX_WAIT_UNITS = 1L << 53;

    /**
     * Reserves the permits in Redis if their slot comes within the timeout, then sleeps until it
     * comes; a wait that ends by an exception before the slot gives the reservation back if it is
     * still the last write.
     */
    private boolean reserveAndAwait(String key, long permits, long timeoutNanos, Ticker ticker)
            throws InterruptedException {
        String now = clock.redisTime() ? "redis" : Long.toString(clock.now(args.span));
        String maxWait = Long.toString(Math.min(timeoutNanos / clock.unitNanos(), MAX_WAIT_UNITS));
        String redisKey = redisKey(key);
        List<Object> reply;
        try {
            reply = caller.callSync(args.script, redisKey, now, Long.toString(args.max),
                    Long.toString(args.rate), Long.toString(args.period), Long.toString(permits), gcraFlags,
                    unitsPerMs, graceMs, "reserve", maxWait);
        } catch (InterruptedException e) {
            throw e; // the blocking acquire's own contract: not a Redis failure to poll around
        }
        if (((Long) reply.get(0)) != 1L) {
            return false;
        }
        long slot = saturatedAdd(ticker.read(), nanos((Long) reply.get(2)));
        // The states as the script wrote and replaced them ("F" or "F q"), handed back verbatim.
        String reserved = String.valueOf(reply.get(4));
        String replaced = ((Long) reply.get(5)) == 1L ? String.valueOf(reply.get(6)) : "";
        while (true) {
            long left = slot - ticker.read();
            if (left <= 0) {
                return true;
            }
            try {
                sleeper.sleepNanos(left);
            } catch (InterruptedException | RuntimeException | Error e) {
                if (slot - ticker.read() > 0) {
                    release(redisKey, reserved, replaced, e);
                    throw e;
                }
                if (e instanceof InterruptedException) {
                    // The wait was over: the permits are this caller's. Keep the interrupt for the
                    // caller to see rather than take back permits it already waited for.
                    Thread.currentThread().interrupt();
                    return true;
                }
                throw e;
            }
        }
    }

    /** Gives a reservation back if it is still the last write; a failure is recorded on {@code cause}. */
    private void release(String redisKey, String reserved, String replaced, Throwable cause) {
        try {
            String now = clock.redisTime() ? "redis" : Long.toString(clock.now(args.span));
            // Not through await: the thread may be interrupted, and the call is bounded by its timeout.
            caller.call(args.script, redisKey, now, Long.toString(args.max), Long.toString(args.rate),
                    Long.toString(args.period), "1", gcraFlags, unitsPerMs, graceMs,
                    "release", reserved, replaced).join();
        } catch (RuntimeException failed) {
            cause.addSuppressed(failed); // forfeited: only under-admits
        }
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /**
     * Waits for a decision's future, which is bounded by the call's timeout; unwraps its failure.
     * Shared by every synchronous Redis limiter.
     */
    static <T> T await(CompletableFuture<T> future) {
        try {
            // Bounded: the caller's future fails after the configured timeout.
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RedisRateLimiterException("interrupted while waiting for Redis", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new RedisRateLimiterException("rate-limit decision failed: " + cause, cause);
        }
    }

    @Override
    public Limit limit() {
        return args.limit;
    }

    @Override
    public String toString() {
        return "RedisKeyedLimiter{name=" + name + ", " + args.limit + '}';
    }
}

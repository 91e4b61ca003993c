package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.math.BigInteger;
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
 * Blocking acquire polls: decide; if refused, sleep the decision's retry-after and decide
 * again, until granted or the deadline. Nothing is reserved, so an interrupted or timed-out wait
 * has nothing to give back, and another caller may take the permits first (the waiter then
 * waits again, within its deadline).
 */
/**
 * The Redis-backed keyed limiter; see {@link RedisRateLimiters}. Thread-safe; each decision is
 * one round trip; {@code tryAcquire(key, permits, timeout)} blocks, polling.
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

    RedisKeyedLimiter(ScriptCaller caller, String prefix, String name, LimitArgs args, RedisRateLimiters.Clock clock,
                      Sleeper sleeper, long graceMs) {
        this.caller = caller;
        this.prefix = prefix;
        this.name = name;
        this.args = args;
        this.clock = clock;
        this.sleeper = sleeper;
        this.origin = clock.redisTime() ? "0" : Long.toString(clock.now(args.span));
        this.unitsPerMs = Long.toString(1_000_000L / clock.unitNanos());
        this.graceMs = Long.toString(graceMs);
    }

    /**
     * The Redis key of {@code key}: {@code <prefix>{<name>:<key>}}, the key escaped as
     * {@link RedisKeys} describes. The braces make the whole {@code name:key} the Redis Cluster
     * hash tag, so different keys spread over the slots while everything one decision touches
     * stays in one slot; braces in the key cannot move the tag.
     */
    String redisKey(String key) {
        return RedisKeys.tagged(prefix, name, key);
    }

    @Override
    public CompletionStage<Decision> decideAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        String now = clock.redisTime() ? "redis" : Long.toString(clock.now(args.span));
        String n = Long.toString(permits);
        String[] argv = switch (args.script) {
            case GCRA -> new String[] {now, Long.toString(args.max), Long.toString(args.rate),
                    Long.toString(args.period), n, args.queue ? "1" : "0", unitsPerMs, graceMs};
            case SLIDING_LOG -> new String[] {now, Long.toString(args.max), Long.toString(args.period), n,
                    unitsPerMs, graceMs};
            case SLIDING_COUNTER -> new String[] {now, Long.toString(args.max), Long.toString(args.period), n,
                    origin, unitsPerMs, graceMs};
        };
        return caller.call(args.script, redisKey(key), argv).thenApply(reply -> toDecision(reply, permits));
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
        return await(decideAsync(key, permits).toCompletableFuture());
    }

    @Override
    public boolean tryAcquire(String key, long permits) {
        return decide(key, permits).isAllowed();
    }

    @Override
    public boolean tryAcquire(String key, long permits, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Objects.requireNonNull(timeout, "timeout");
        if (permits > args.max) {
            return false; // never grantable: no round trip, no wait
        }
        long timeoutNanos = saturatedNanos(timeout);
        Ticker ticker = clock.deadlineTicker();
        long start = ticker.read();
        while (true) {
            Decision d = decide(key, permits);
            if (d.isAllowed()) {
                return true;
            }
            if (d.exceedsLimit() || (args.queue && !queueAdmits(d.retryAfterNanos(), permits))) {
                return false;
            }
            long left = timeoutNanos - (ticker.read() - start);
            if (d.retryAfterNanos() > left) {
                return false;
            }
            sleeper.sleepNanos(d.retryAfterNanos());
        }
    }

    /** Whether a queue with this debt has room for {@code n} more: debt * R + n * P <= Q * P. */
    private boolean queueAdmits(long debtNanos, long n) {
        BigInteger debt = BigInteger.valueOf(debtNanos / clock.unitNanos());
        BigInteger p = BigInteger.valueOf(args.period);
        return debt.multiply(BigInteger.valueOf(args.rate)).add(BigInteger.valueOf(n).multiply(p))
                .compareTo(BigInteger.valueOf(args.max).multiply(p)) <= 0;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException overflow) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private static Decision await(CompletableFuture<Decision> future) {
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

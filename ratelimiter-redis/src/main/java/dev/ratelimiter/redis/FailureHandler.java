package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.internal.Checks;
import dev.ratelimiter.local.LocalKeyedRateLimiter;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/*
 * Applies a FailurePolicy to the failed decisions of one keyed limiter.
 *
 * Invariants and concurrency: all fields are final and set at construction; the only mutable
 * state is the local fallback limiter, itself thread-safe and lock-free. Any number of threads
 * (callers, Lettuce's event loop, the timeout scheduler) may call onFailure at once. Only
 * RedisRateLimiterException, the failure of the round trip itself, is answered by the policy:
 * anything else (an IllegalArgumentException, a bug surfacing as ClassCastException) is a fault
 * of this process and is rethrown unchanged, whatever the policy. A RedisMisconfigurationException
 * (NOPERM, READONLY, ...) is not an outage either: it reaches the listener, then is rethrown
 * whatever the policy. A RedisOutOfMemoryException is answered by the policy like an outage.
 */
/** What one keyed limiter answers when Redis cannot decide. Thread-safe. */
final class FailureHandler {

    /** Lets every failure through: the behaviour of {@link FailurePolicy#propagate()}. */
    static final FailureHandler PROPAGATE = new FailureHandler(FailurePolicy.propagate(), 1, null, failure -> { });

    private final FailurePolicy policy;
    private final long maxPermits;
    /** The fallback limiter, or {@code null} unless the policy is the local fallback. */
    private final LocalKeyedRateLimiter<String> local;
    private final Consumer<? super RedisRateLimiterException> listener;
    /** Told how each failure was answered, or {@code null} (unlistened). Set by a listened factory. */
    private final Events events;

    /**
     * What a listened factory is told of the failures (and, as a {@link ScriptCaller.Observer},
     * of the calls) of one keyed limiter. Must not throw.
     */
    interface Events extends ScriptCaller.Observer {
        /**
         * The policy answered a failure.
         *
         * @param key     the key
         * @param policy  the policy's kind
         * @param answer  its decision, or {@code null} when it propagates the failure
         * @param failure the failure
         */
        void answered(String key, FailurePolicy.Kind policy, Decision answer, RedisRateLimiterException failure);

        /**
         * A misconfiguration, thrown whatever the policy.
         *
         * @param key     the key
         * @param failure the failure
         */
        void misconfigured(String key, RedisMisconfigurationException failure);
    }

    private FailureHandler(FailurePolicy policy, long maxPermits, LocalKeyedRateLimiter<String> local,
                           Consumer<? super RedisRateLimiterException> listener) {
        this(policy, maxPermits, local, listener, null);
    }

    private FailureHandler(FailurePolicy policy, long maxPermits, LocalKeyedRateLimiter<String> local,
                           Consumer<? super RedisRateLimiterException> listener, Events events) {
        this.policy = policy;
        this.maxPermits = maxPermits;
        this.local = local;
        this.listener = listener;
        this.events = events;
    }

    /**
     * @param events told how each failure is answered
     * @return this handler (the same fallback limiter), also telling {@code events}
     */
    FailureHandler withEvents(Events events) {
        return new FailureHandler(policy, maxPermits, local, listener, events);
    }

    /**
     * @param policy   the policy
     * @param limit    the limit of the keyed limiter
     * @param ticker   the clock of the local fallback
     * @param listener told of every failure before the policy answers it
     * @return the handler
     * @throws IllegalArgumentException if the fallback's division leaves the limit no permit
     */
    static FailureHandler of(FailurePolicy policy, Limit limit, Ticker ticker,
                             Consumer<? super RedisRateLimiterException> listener) {
        LocalKeyedRateLimiter<String> local = null;
        if (policy.kind() == FailurePolicy.Kind.FALLBACK) {
            local = LocalKeyedRateLimiter.builder(divide(limit, policy.instances())).ticker(ticker).build();
        }
        return new FailureHandler(policy, limit.maxPermits(), local, listener);
    }

    /**
     * Answers a failed decision by the policy.
     *
     * @param failure what the decision failed with, perhaps wrapped in a {@link CompletionException}
     * @return the policy's decision; for more permits than the limit can ever grant, an
     *     {@link Decision#exceedsLimit() exceeding} one whatever the policy
     * @throws RuntimeException the failure itself, unless it is a {@link RedisRateLimiterException}
     *                          that the policy answers; a {@link RedisMisconfigurationException}
     *                          is always thrown (unless the request is oversized)
     */
    Decision onFailure(String key, long permits, Throwable failure) {
        return answer(key, permits, failure, false);
    }

    /**
     * Answers a failed {@code peek} as {@link #onFailure} answers a decision, except that the
     * local fallback is peeked at, not consumed from.
     *
     * @param failure what the peek failed with
     * @return the policy's answer
     * @throws RuntimeException as {@link #onFailure}
     */
    Decision onPeekFailure(String key, long permits, Throwable failure) {
        return answer(key, permits, failure, true);
    }

    /**
     * Answers a failed {@code availablePermits}: the most a decision would grant under the policy
     * (fail open: the limit's largest request; fail closed: 0; the local fallback: its own).
     *
     * @param failure what the call failed with
     * @return the permits available by the policy
     * @throws RuntimeException the failure under {@link FailurePolicy#propagate()}, or if it is
     *                          a misconfiguration or not a Redis failure
     */
    long onAvailableFailure(String key, Throwable failure) {
        RedisRateLimiterException redisFailure = redisFailure(failure);
        throwIfMisconfigured(key, redisFailure);
        return switch (policy.kind()) {
            case FAIL_OPEN -> maxPermits;
            case FAIL_CLOSED -> 0;
            case FALLBACK -> local.availablePermits(key);
            default -> throw redisFailure;
        };
    }

    /**
     * Answers a failed write ({@code reset}, {@code refund}, {@code drain}): under the local
     * fallback it is applied to the fallback limiter (which answers the decisions while Redis is
     * down); under fail open it is dropped and logged; under fail closed and propagate, and for a
     * misconfiguration whatever the policy, the failure is thrown.
     *
     * @param op       the operation, for the log
     * @param failure  what the call failed with
     * @param fallback applies the operation to the local fallback limiter; returns its result
     * @return what the fallback returned, or 0 when the operation was dropped
     * @throws RuntimeException the failure, as described
     */
    long onWriteFailure(String key, String op, Throwable failure,
                        java.util.function.ToLongFunction<LocalKeyedRateLimiter<String>> fallback) {
        RedisRateLimiterException redisFailure = redisFailure(failure);
        throwIfMisconfigured(key, redisFailure);
        switch (policy.kind()) {
            case FAIL_OPEN:
                Diagnostics.LOG.log(System.Logger.Level.WARNING, "Redis could not " + op + " the rate limit of key "
                        + key + "; dropped under the fail-open policy: " + redisFailure.getMessage());
                return 0;
            case FALLBACK:
                return fallback.applyAsLong(local);
            default:
                throw redisFailure;
        }
    }

    /**
     * The same handler for another limit of the same family: its largest request, and the local
     * fallback reconfigured to that limit's share (keeping its state).
     *
     * @param limit the new limit
     * @return the handler for it
     */
    FailureHandler reconfigured(Limit limit) {
        if (local != null) {
            local.reconfigure(divide(limit, policy.instances()));
        }
        return new FailureHandler(policy, limit.maxPermits(), local, listener, events);
    }

    /** The Redis failure within {@code failure}, told to the listener; anything else is rethrown. */
    private RedisRateLimiterException redisFailure(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (!(cause instanceof RedisRateLimiterException redisFailure)) {
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error e) {
                throw e;
            }
            throw new CompletionException(cause);
        }
        report(redisFailure);
        return redisFailure;
    }

    private Decision answer(String key, long permits, Throwable failure, boolean peek) {
        RedisRateLimiterException redisFailure = redisFailure(failure);
        if (permits > maxPermits) {
            // Never grantable: the answer needs no Redis, whatever the policy (even propagate).
            return Decision.exceeding(permits, 0, 0, maxPermits);
        }
        throwIfMisconfigured(key, redisFailure);
        Decision answer = answer(key, permits, redisFailure, peek);
        if (events != null) {
            events.answered(key, policy.kind(), answer, redisFailure);
        }
        if (answer == null) {
            throw redisFailure;
        }
        return answer;
    }

    /** A misconfiguration is not an outage: waiting will not fix it, so it is loud whatever the policy. */
    private void throwIfMisconfigured(String key, RedisRateLimiterException redisFailure) {
        if (redisFailure instanceof RedisMisconfigurationException misconfigured) {
            if (events != null) {
                events.misconfigured(key, misconfigured);
            }
            throw redisFailure;
        }
    }

    /** @return the policy's decision, or {@code null} if it propagates the failure */
    private Decision answer(String key, long permits, RedisRateLimiterException redisFailure, boolean peek) {
        switch (policy.kind()) {
            case FAIL_OPEN:
                return Decision.allowed(permits, 0, 0, maxPermits);
            case FAIL_CLOSED:
                return Decision.denied(permits, 0, policy.retryAfterNanos(), policy.retryAfterNanos(), maxPermits);
            case FALLBACK:
                return peek ? local.peek(key, permits) : local.decide(key, permits);
            default:
                return null;
        }
    }

    /**
     * Tells the listener of a failure, unless it is not a Redis failure, which is rethrown as
     * {@link #onFailure} would.
     *
     * @param failure what a decision failed with, perhaps wrapped in a {@link CompletionException}
     */
    void reportOnly(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof RedisRateLimiterException redisFailure) {
            report(redisFailure);
            return;
        }
        if (cause instanceof RuntimeException re) {
            throw re;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        throw new CompletionException(cause);
    }

    private void report(RedisRateLimiterException failure) {
        try {
            listener.accept(failure);
        } catch (RuntimeException ignored) {
            // A listener is for logs and metrics: its failure does not change the answer.
        }
    }

    /** @return the local fallback limiter, or {@code null}; for tests */
    LocalKeyedRateLimiter<String> local() {
        return local;
    }

    /**
     * The share of {@code limit} one of {@code n} instances may admit: capacities divided and
     * rounded down, the rate divided by stretching its period (exact) while it stays within 30
     * days, else by dividing its permits (rounded down).
     *
     * @throws IllegalArgumentException if the share has no permit, naming the instance count
     */
    static Limit divide(Limit limit, int n) {
        if (n == 1) {
            return limit;
        }
        try {
            if (limit instanceof TokenBucket tb) {
                long[] rate = rate(tb.refillPermits(), tb.refillPeriodNanos(), n);
                return TokenBucket.of(share("capacity", tb.capacity(), n), rate[0], Duration.ofNanos(rate[1]));
            }
            if (limit instanceof LeakyBucket lb) {
                long[] rate = rate(lb.permits(), lb.periodNanos(), n);
                return lb.mode() == LeakyBucket.Mode.METER
                        ? LeakyBucket.meter(rate[0], Duration.ofNanos(rate[1]), share("burst", lb.capacity(), n))
                        : LeakyBucket.queue(rate[0], Duration.ofNanos(rate[1]), share("queueCapacity", lb.capacity(), n));
            }
            SlidingWindow sw = (SlidingWindow) limit;
            long share = share("limit", sw.limit(), n);
            return sw.mode() == SlidingWindow.Mode.LOG
                    ? SlidingWindow.log(share, sw.window()) : SlidingWindow.counter(share, sw.window());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the local fallback cannot divide " + limit + " among "
                    + "expectedInstances=" + n + ": " + e.getMessage(), e);
        }
    }

    private static long share(String name, long value, int n) {
        long share = value / n;
        if (share < 1) {
            throw new IllegalArgumentException(name + " must be >= expectedInstances for every instance to get a permit: "
                    + name + "=" + value);
        }
        return share;
    }

    /** {@code permits / period} divided by n: {permits, period * n} if that fits, else {permits / n, period}. */
    private static long[] rate(long permits, long periodNanos, int n) {
        if (periodNanos <= Checks.MAX_PERIOD_NANOS / n) {
            return new long[] {permits, periodNanos * n};
        }
        return new long[] {share("permits", permits, n), periodNanos};
    }
}

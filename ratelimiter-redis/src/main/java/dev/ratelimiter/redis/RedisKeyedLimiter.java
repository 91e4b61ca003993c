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
    private final RedisRateLimiters.Clock clock;
    private final Sleeper sleeper;
    /** The clock reading the fixed windows of a counter start from, when its key is absent. */
    private final String origin;
    private final String unitsPerMs;
    private final String graceMs;
    /** The start of every Redis key of this limiter: {@code <prefix>{<name>:}. */
    private final String keyStart;
    /**
     * The limit and everything derived from it, replaced whole by {@link #reconfigure}: every
     * call reads it once, so it is decided wholly under one limit.
     */
    private volatile Config config;
    /** The slots of each limit's refusal cache, or 0 when refusals are not remembered. */
    private final int refusalSlots;
    /** The longest a refusal is remembered, on the clock {@link #now} reads. */
    private final long refusalMaxAge;
    /** Whether concurrent decisions on one key are coalesced (see {@link Coalescer}). */
    private final boolean coalesce;

    /** The largest refund one script call takes: larger ones are clamped (2^52, exact in Lua). */
    private static final long MAX_REFUND = LimitArgs.MAX_EXACT;

    /** One limit's script arguments and failure handler. Immutable. */
    private static final class Config {
        final LimitArgs args;
        /** The GCRA script's flags: 1 for the queue, 0 for the bucket and the meter. */
        final String gcraFlags;
        /** What a call Redis could not answer is answered with. */
        final FailureHandler failures;
        /**
         * The sliding log's floor: grants at or before it are forgotten whatever the window
         * ({@code ""}: none). Set when the window grows, to the horizon the old window had then.
         */
        final String floor;
        /** When the floor was set: no log decision is taken at an earlier time ({@code ""}: none). */
        final String floorAt;
        /**
         * The script's arguments with the clock reading (index 0) and the permits (index 4 for the
         * GCRA, 3 for the windows) left {@code null}: the constant ones are built once. The
         * operations' template has the operation's slot ({@link #modeIndex}) too.
         */
        final String[] argvTemplate;
        final String[] opTemplate;
        final int permitsIndex;
        final int modeIndex;
        /** Under Redis time, the arguments of every one-permit decision, else {@code null}. */
        final String[] redisTimeOnePermit;
        /** The refusals known under this limit, or {@code null} when not remembered. */
        final RefusalCache refusals;
        /** Coalesces this limit's concurrent decisions per key, or {@code null} when they are not. */
        final Coalescer coalescer;

        Config(LimitArgs args, FailureHandler failures, String floor, String floorAt, String origin,
               String unitsPerMs, String graceMs, int refusalSlots, ScriptCaller caller, boolean coalesce,
               boolean redisTime) {
            this.args = args;
            this.refusals = refusalSlots == 0 ? null : new RefusalCache(refusalSlots);
            this.failures = failures;
            this.floor = floor;
            this.floorAt = floorAt;
            this.gcraFlags = args.queue ? "1" : "0";
            String max = Long.toString(args.max);
            String period = Long.toString(args.period);
            this.opTemplate = switch (args.script) {
                case GCRA -> new String[] {null, max, Long.toString(args.rate), period, null, gcraFlags, unitsPerMs,
                        graceMs, null};
                case SLIDING_LOG -> new String[] {null, max, period, null, unitsPerMs, graceMs, null, floor, floorAt};
                case SLIDING_COUNTER -> new String[] {null, max, period, null, origin, unitsPerMs, graceMs, null};
            };
            this.modeIndex = args.script == Scripts.GCRA ? 8 : args.script == Scripts.SLIDING_LOG ? 6 : 7;
            if (args.script == Scripts.SLIDING_LOG && !floor.isEmpty()) {
                String[] t = opTemplate.clone();
                t[modeIndex] = "";
                this.argvTemplate = t;
            } else {
                this.argvTemplate = java.util.Arrays.copyOf(opTemplate, modeIndex);
            }
            this.permitsIndex = args.script == Scripts.GCRA ? 4 : 3;
            if (redisTime) {
                String[] one = argvTemplate.clone();
                one[0] = "redis";
                one[permitsIndex] = "1";
                this.redisTimeOnePermit = one;
            } else {
                this.redisTimeOnePermit = null;
            }
            // Every script decides batches (its 'batch' operation).
            this.coalescer = coalesce
                    ? new Coalescer(caller, args.script, opTemplate, permitsIndex, modeIndex) : null;
        }
    }

    RedisKeyedLimiter(ScriptCaller caller, String prefix, String name, LimitArgs args, RedisRateLimiters.Clock clock,
                      Sleeper sleeper, long graceMs) {
        this(caller, prefix, name, args, clock, sleeper, graceMs, FailureHandler.PROPAGATE, 0, 1, false);
    }

    /**
     * @param refusalSlots      the slots of the refusal cache, a power of two, or 0 for none
     * @param refusalMaxAgeNanos the longest a refusal is remembered, {@code > 0}
     * @param coalesce          whether concurrent decisions on one key go to Redis together
     */
    RedisKeyedLimiter(ScriptCaller caller, String prefix, String name, LimitArgs args, RedisRateLimiters.Clock clock,
                      Sleeper sleeper, long graceMs, FailureHandler failures, int refusalSlots,
                      long refusalMaxAgeNanos, boolean coalesce) {
        this.coalesce = coalesce;
        this.refusalSlots = refusalSlots;
        // On the clock the refusals are dated with: nanoseconds under Redis time, else units.
        this.refusalMaxAge = clock.redisTime() ? refusalMaxAgeNanos
                : Math.max(1, refusalMaxAgeNanos / clock.unitNanos());
        this.caller = caller;
        this.prefix = prefix;
        this.name = name;
        this.clock = clock;
        this.sleeper = sleeper;
        this.origin = clock.redisTime() ? "0" : Long.toString(clock.now(args.span));
        this.unitsPerMs = Long.toString(1_000_000L / clock.unitNanos());
        this.graceMs = Long.toString(graceMs);
        this.keyStart = prefix + '{' + name + ':'; // as RedisKeys.tagged writes it
        this.config = new Config(args, failures, "", "", origin, unitsPerMs, this.graceMs, refusalSlots, caller,
                coalesce, clock.redisTime());
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

    /**
     * @param now the reading of {@link #now}
     * @return the script's arguments for one decision dated {@code now}
     */
    private String[] argv(Config c, long permits, long now) {
        if (permits == 1 && c.redisTimeOnePermit != null) {
            return c.redisTimeOnePermit; // constant: nobody writes into an argument array once built
        }
        String[] argv = c.argvTemplate.clone();
        argv[0] = clock.redisTime() ? "redis" : Long.toString(now);
        argv[c.permitsIndex] = permits == 1 ? "1" : Long.toString(permits);
        return argv;
    }

    /**
     * The reading a decision is dated with: with client time, the client clock in the scripts'
     * units, sent with the call; with Redis time, the local monotonic clock in nanoseconds, read
     * before the call is sent (the script reads Redis's own clock), which only the refusal cache
     * uses.
     *
     * @throws IllegalStateException if the client reading is out of the scripts' exact range
     */
    private long now(Config c) {
        if (clock.redisTime()) {
            // Only the refusal cache reads it: without one, no clock read on the decision path.
            return c.refusals == null ? 0 : clock.deadlineTicker().read();
        }
        return clock.now(c.args.span);
    }

    /**
     * Remembers a refusal in the reply, if it is one and the limit remembers refusals: Redis
     * refuses as many permits or more until the reading {@code now} plus its retry-after;
     * remembered for that long, but at most the maximum age.
     */
    private void remember(Config c, String key, long permits, List<Object> reply, long now, long epoch) {
        RefusalCache refusals = c.refusals;
        if (refusals == null) {
            return;
        }
        if (((Long) reply.get(0)) == 1L) {
            refusals.granted(key);
            return;
        }
        long retry = (Long) reply.get(2);
        if (retry <= 0) {
            return; // oversized (never grantable; tryAcquire answers those without a call) or no wait
        }
        // Compared as now - until < 0: the wait is at most a day (the longest maximum age); the
        // retry and reset instants are only read while now is before until.
        long wait = clock.redisTime() ? nanos(retry) : retry;
        long reset = (Long) reply.get(3);
        refusals.refused(key, permits, now + Math.min(wait, refusalMaxAge), now + wait,
                now + (clock.redisTime() ? nanos(reset) : reset), (Long) reply.get(1), epoch);
    }

    /**
     * A decision of one permit answered from the refusal cache, when it holds a refusal of one
     * permit with nothing remaining: until its retry-after nothing can remain (other decisions
     * only consume), and the retry-after and the reset count down with the clock, so the decision
     * is the one Redis would give (under client time, exactly).
     *
     * @return the decision, or {@code null} when Redis must be asked
     */
    private Decision knownDecision(Config c, String key, long permits, long now) {
        RefusalCache refusals = c.refusals;
        if (refusals == null || permits != 1) {
            return null;
        }
        RefusalCache.Entry e = refusals.singlePermitRefusal(key, now);
        if (e == null) {
            return null;
        }
        return Decision.denied(1, 0, toNanos(e.retryAt - now), toNanos(Math.max(0, e.resetAt - now)),
                c.args.max);
    }

    /** @return a span on the clock {@link #now} reads, in nanoseconds */
    private long toNanos(long span) {
        return clock.redisTime() ? span : nanos(span);
    }

    /** @return whether the refusal cache of {@code c} knows Redis refuses these permits at {@code now} */
    private static boolean knownRefused(Config c, String key, long permits, long now) {
        RefusalCache refusals = c.refusals;
        return refusals != null && refusals.refuses(key, permits, now);
    }

    private static long epoch(Config c) {
        RefusalCache refusals = c.refusals;
        return refusals == null ? 0 : refusals.epoch();
    }

    /** @return the script's arguments for one operation ({@code peek}, {@code reset}, ...) */
    private String[] argv(Config c, long permits, String mode) {
        String[] argv = c.opTemplate.clone();
        argv[0] = clock.redisTime() ? "redis" : Long.toString(clock.now(c.args.span));
        argv[c.permitsIndex] = Long.toString(permits);
        argv[c.modeIndex] = mode;
        return argv;
    }

    @Override
    public CompletionStage<Decision> decideAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Config c = config;
        long now;
        try {
            now = now(c);
        } catch (IllegalStateException outOfRange) {
            return CompletableFuture.failedFuture(outOfRange); // async callers get a failed stage
        }
        Decision known = knownDecision(c, key, permits, now);
        return known != null ? CompletableFuture.completedFuture(known) : decideAsync(c, key, permits, now);
    }

    private CompletionStage<Decision> decideAsync(Config c, String key, long permits, long now) {
        long epoch = epoch(c);
        return send(c, key, permits, now).handle((reply, failure) -> {
            if (failure != null) {
                return c.failures.onFailure(key, permits, failure);
            }
            remember(c, key, permits, reply, now, epoch);
            return toDecision(c.args, reply, permits);
        });
    }

    private Decision toDecision(LimitArgs args, List<Object> reply, long permits) {
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
        ScriptCaller.checkNotInterrupted(); // as a call would, also when the answer is known
        Config c = config;
        long now = now(c);
        Decision known = knownDecision(c, key, permits, now);
        return known != null ? known : decideInterruptibly(c, key, permits, now);
    }

    private Decision decideInterruptibly(Config c, String key, long permits, long now) throws InterruptedException {
        long epoch = epoch(c);
        List<Object> reply;
        try {
            String[] argv = argv(c, permits, now);
            reply = c.coalescer == null ? caller.callSync(c.args.script, redisKey(key), argv)
                    : c.coalescer.decideSync(key, new String[] {redisKey(key)}, argv);
        } catch (RedisRateLimiterException failed) {
            return c.failures.onFailure(key, permits, failed);
        }
        remember(c, key, permits, reply, now, epoch);
        return toDecision(c.args, reply, permits);
    }

    /**
     * One operation's script call, waited for (bounded by the call's timeout). An interrupt while
     * waiting is not a Redis failure: it is thrown as {@link ScriptCaller#interrupted} makes it,
     * and the policy does not answer it.
     */
    private List<Object> operation(Config c, String key, long permits, String mode) {
        try {
            return caller.callSync(c.args.script, redisKey(key), argv(c, permits, mode));
        } catch (InterruptedException e) {
            throw ScriptCaller.interrupted(e); // not a Redis failure: the policy does not answer it
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>One read-only script call: nothing is written, no key is created and no TTL is touched.
     * If Redis cannot answer, the failure policy answers as it would the decision (the local
     * fallback is peeked at, not consumed from).
     */
    @Override
    public Decision peek(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Config c = config;
        try {
            return toDecision(c.args, operation(c, key, permits, "peek"), permits);
        } catch (RedisRateLimiterException failed) {
            return c.failures.onPeekFailure(key, permits, failed);
        }
    }

    /** {@link #peek}, without blocking: the failure policy answers on the thread that completes it. */
    CompletionStage<Decision> peekAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Config c = config;
        String[] argv;
        try {
            argv = argv(c, permits, "peek");
        } catch (IllegalStateException outOfRange) {
            return CompletableFuture.failedFuture(outOfRange);
        }
        return caller.call(c.args.script, redisKey(key), argv).handle((reply, failure) -> failure == null
                ? toDecision(c.args, reply, permits) : c.failures.onPeekFailure(key, permits, failure));
    }

    /**
     * {@inheritDoc}
     *
     * <p>One read-only script call. If Redis cannot answer: the limit's largest request under
     * fail open, 0 under fail closed, the local fallback's own count under the fallback.
     */
    @Override
    public long availablePermits(String key) {
        Objects.requireNonNull(key, "key");
        Config c = config;
        try {
            // A request above the limit decides nothing and reports the permits available as they are.
            return (Long) operation(c, key, c.args.max + 1, "peek").get(1);
        } catch (RedisRateLimiterException failed) {
            return c.failures.onAvailableFailure(key, failed);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Deletes the key's Redis key, so every process sharing it sees the reset. If Redis cannot
     * do it: under the local fallback the fallback's key is reset; under fail open it is dropped
     * and logged; otherwise the {@link RedisRateLimiterException} is thrown.
     */
    @Override
    public void reset(String key) {
        Objects.requireNonNull(key, "key");
        Config c = config;
        try {
            resetIn(c, key);
        } finally {
            forgetRefusals(c);
        }
    }

    private void resetIn(Config c, String key) {
        try {
            if (c.args.script == Scripts.SLIDING_COUNTER && !clock.redisTime()) {
                // Client time: the fixed windows start again at the reset, as a limiter made now.
                String[] argv = java.util.Arrays.copyOf(argv(c, 1, "reset"), c.opTemplate.length + 1);
                argv[argv.length - 1] = "rebase";
                caller.callSync(c.args.script, redisKey(key), argv);
            } else {
                operation(c, key, 1, "reset");
            }
        } catch (InterruptedException e) {
            throw ScriptCaller.interrupted(e);
        } catch (RedisRateLimiterException failed) {
            c.failures.onWriteFailure(key, "reset", failed, local -> {
                local.reset(key);
                return 0;
            });
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>One script call; a refund of more than 2^52 permits gives back 2^52. If Redis cannot do
     * it: under the local fallback the refund goes to the fallback; under fail open it is
     * dropped and logged; otherwise the {@link RedisRateLimiterException} is thrown.
     */
    @Override
    public void refund(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Config c = config;
        try {
            operation(c, key, Math.min(permits, MAX_REFUND), "refund");
        } catch (RedisRateLimiterException failed) {
            c.failures.onWriteFailure(key, "refund", failed, local -> {
                local.refund(key, permits);
                return 0;
            });
        } finally {
            forgetRefusals(c);
        }
    }

    /**
     * Forgets the refusals remembered under {@code c} and under the current limit, once a write
     * that gives permits back (a reset, a refund, a reservation given back) is over, answered or
     * not.
     */
    private void forgetRefusals(Config c) {
        invalidate(c);
        Config current = config;
        if (current != c) {
            // Reconfigured meanwhile: a refusal the new limit was given before this write ran in
            // Redis must not outlive it either.
            invalidate(current);
        }
    }

    private static void invalidate(Config c) {
        RefusalCache refusals = c.refusals;
        if (refusals != null) {
            refusals.invalidate();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>One script call. If Redis cannot do it: under the local fallback the fallback is
     * drained; under fail open nothing is taken (0, logged); otherwise the
     * {@link RedisRateLimiterException} is thrown.
     */
    @Override
    public long drain(String key) {
        Objects.requireNonNull(key, "key");
        Config c = config;
        List<Object> reply;
        try {
            reply = operation(c, key, 1, "drain");
        } catch (RedisRateLimiterException failed) {
            return c.failures.onWriteFailure(key, "drain", failed, local -> local.drain(key));
        }
        return ((Long) reply.get(0)) == 1L ? (Long) reply.get(4) : 0;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Applies to this process only: no Redis key is written. Other processes sharing the keys
     * keep deciding with their own limit on the same stored state. A sliding window log whose
     * window grows reads the Redis time once (in Redis-time mode) to remember the horizon of the
     * old window; if Redis cannot answer, it is not remembered, so the longer window may count
     * grants the old one had forgotten (fewer permits, never more).
     */
    @Override
    public synchronized void reconfigure(Limit limit) {
        Config c = config;
        Checks.reconfiguration(c.args.limit, limit);
        LimitArgs next = LimitArgs.of(limit, clock.unitNanos());
        String[] floor = {c.floor, c.floorAt};
        if (next.script == Scripts.SLIDING_LOG && next.period > c.args.period) {
            floor = logFloor(c);
        }
        // A fresh refusal cache: the new limit may grant what the old one refused.
        config = new Config(next, c.failures.reconfigured(limit), floor[0], floor[1], origin, unitsPerMs, graceMs,
                refusalSlots, caller, coalesce, clock.redisTime());
    }

    /**
     * The horizon of the log's current window now and now, or the current floor if later or
     * unknown.
     */
    private String[] logFloor(Config c) {
        long now;
        if (clock.redisTime()) {
            try {
                now = (Long) operation(c, "", 1, "time").get(0);
            } catch (RedisRateLimiterException failed) {
                return new String[] {c.floor, c.floorAt}; // counts more than the old window held: under-admits only
            }
        } else {
            now = clock.now(c.args.span);
        }
        long horizon = now - c.args.period;
        if (!c.floor.isEmpty()) {
            horizon = Math.max(horizon, Long.parseLong(c.floor));
            now = Math.max(now, Long.parseLong(c.floorAt));
        }
        return new String[] {Long.toString(horizon), Long.toString(now)};
    }

    /**
     * {@inheritDoc}
     *
     * <p>A request Redis is known to refuse is refused without a call: one for at least as many
     * permits as a refusal this limiter was given for the key, before that refusal's retry-after
     * has passed (see {@link RedisRateLimiters.Builder#refusalCache(int)}).
     */
    @Override
    public boolean tryAcquire(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Config c = config;
        if (permits > c.args.max) {
            return false; // never grantable: no round trip
        }
        long now = now(c);
        if (knownRefused(c, key, permits, now)) {
            return false;
        }
        try {
            return decideInterruptibly(c, key, permits, now).isAllowed();
        } catch (InterruptedException e) {
            throw ScriptCaller.interrupted(e); // not a Redis failure: the policy does not answer it
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>A request Redis is known to refuse is refused without a call, as by {@link #tryAcquire(String, long)}.
     */
    @Override
    public CompletionStage<Boolean> tryAcquireAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Config c = config;
        if (permits > c.args.max) {
            return CompletableFuture.completedFuture(false); // never grantable: no round trip
        }
        long now;
        try {
            now = now(c);
        } catch (IllegalStateException outOfRange) {
            return CompletableFuture.failedFuture(outOfRange);
        }
        if (knownRefused(c, key, permits, now)) {
            return CompletableFuture.completedFuture(false);
        }
        // One stage from the reply to the answer: no Decision is made for it.
        long epoch = epoch(c);
        return send(c, key, permits, now).handle((reply, failure) -> {
            if (failure != null) {
                return c.failures.onFailure(key, permits, failure).isAllowed();
            }
            remember(c, key, permits, reply, now, epoch);
            return ((Long) reply.get(0)) == 1L;
        });
    }

    /** Sends one decision's call, coalesced when the limit coalesces; the timer times it out. */
    private CompletableFuture<List<Object>> send(Config c, String key, long permits, long now) {
        String[] argv = argv(c, permits, now);
        return c.coalescer == null ? caller.call(c.args.script, redisKey(key), argv)
                : c.coalescer.decide(key, new String[] {redisKey(key)}, argv, false);
    }

    @Override
    public boolean tryAcquire(String key, long permits, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Objects.requireNonNull(timeout, "timeout");
        Config c = config;
        if (permits > c.args.max) {
            return false; // never grantable: no round trip, no wait
        }
        long timeoutNanos = Checks.timeoutNanos(timeout);
        Ticker ticker = clock.deadlineTicker();
        if (c.args.script == Scripts.GCRA) {
            if (c.refusals != null) {
                // A reservation may grant: the key's remembered refusal would no longer describe it.
                c.refusals.granted(key);
            }
            try {
                return reserveAndAwait(c, key, permits, timeoutNanos, ticker);
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
    private boolean reserveAndAwait(Config c, String key, long permits, long timeoutNanos, Ticker ticker)
            throws InterruptedException {
        LimitArgs args = c.args;
        String gcraFlags = c.gcraFlags;
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
                    release(c, redisKey, reserved, replaced, e);
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
    private void release(Config c, String redisKey, String reserved, String replaced, Throwable cause) {
        LimitArgs args = c.args;
        String gcraFlags = c.gcraFlags;
        try {
            String now = clock.redisTime() ? "redis" : Long.toString(clock.now(args.span));
            // Not through await: the thread may be interrupted, and the call is bounded by its timeout.
            caller.call(args.script, redisKey, now, Long.toString(args.max), Long.toString(args.rate),
                    Long.toString(args.period), "1", gcraFlags, unitsPerMs, graceMs,
                    "release", reserved, replaced).join();
        } catch (RuntimeException failed) {
            cause.addSuppressed(failed); // forfeited: only under-admits
        } finally {
            forgetRefusals(c); // the reservation's permits may be back: refusals made behind it are stale
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
        return config.args.limit;
    }

    /** @return the current limit's coalescer, or {@code null} when decisions are not coalesced; for tests */
    Coalescer coalescer() {
        return config.coalescer;
    }

    /** @return the local fallback of the failure policy, or {@code null}; for tests */
    FailureHandler failures() {
        return config.failures;
    }

    @Override
    public String toString() {
        return "RedisKeyedLimiter{name=" + name + ", " + config.args.limit + '}';
    }
}

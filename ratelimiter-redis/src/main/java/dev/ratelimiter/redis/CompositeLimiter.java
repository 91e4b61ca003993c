package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.internal.Checks;
import dev.ratelimiter.local.LocalCompositeKeyedRateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/*
 * Several limits decided atomically in one script (composite.lua): a request is granted only if
 * every limit grants it, and then consumes from all of them; refused, it consumes nothing.
 *
 * Invariants and concurrency: this object holds only final, immutable configuration; the state
 * is in Redis, one key per limit, all keys of one decision under one hash tag (the group), so
 * that one script may touch them all, also in a Redis Cluster. Redis runs each script
 * atomically, so decisions on keys of one group are serialized and no caller ever sees one
 * limit consumed and another not. There is no client-side race: the only per-call client state
 * is the clock reading passed in client-time mode.
 *
 * Blocking acquire polls as the single limiters do: decide; if refused, sleep the decision's
 * retry-after (the largest of the refusing limits') and decide again, until granted or the
 * deadline. Nothing is reserved meanwhile.
 */
/**
 * A composite Redis limiter: per key, several limits decided as one, atomically, in one round
 * trip. Made by {@link RedisRateLimiters#composite(String, Limit...)} (every limit per key, for
 * example 10 per second and 1000 per hour per user) or
 * {@link RedisRateLimiters#composite(String, Function, List, List)} (limits shared by a group of
 * keys and limits per key, for example per tenant and per user of the tenant).
 *
 * <p>A request is granted only if every limit grants it; then every limit consumes it. If one
 * limit refuses, none consumes anything. The {@link Decision} reports the most restrictive
 * figures: the smallest {@link Decision#remaining() remaining}, the largest
 * {@link Decision#retryAfterNanos() retry-after} of the refusing limits ({@link Decision#NEVER}
 * if one of them can never grant the request), the largest {@link Decision#resetNanos() reset},
 * and as {@link Decision#limit() limit} the smallest of the limits' maxima.
 *
 * <p>Keys: with {@code group = groupOf.apply(key)}, the group's limit {@code i} is stored at
 * {@code <prefix>{<name>:<group>}:g<i>} and the key's limit {@code j} at
 * {@code <prefix>{<name>:<group>}:k<j>:<key>}, the group escaped as {@link RedisRateLimiters}
 * describes. The hash tag is the group, so all keys of one decision share a slot and different
 * groups spread over the cluster. A limit's index is its position in the list it was given in:
 * changing a composite's limits means giving it a new name.
 *
 * <p>Thread-safe; a decision is one round trip and blocks only in the synchronous methods.
 * Every limit is decided before anything is written, and a refused decision writes nothing, so
 * its cost does not grow with the state of the limits that would have granted.
 *
 * <pre>{@code
 * CompositeLimiter perUser = redis.composite("api",
 *         TokenBucket.of(10, 10, Duration.ofSeconds(1)),
 *         SlidingWindow.log(1000, Duration.ofHours(1)));
 * if (!perUser.tryAcquire(userId)) {
 *     return tooManyRequests();
 * }
 * }</pre>
 */
public final class CompositeLimiter implements KeyedRateLimiter<String>, AsyncKeyedRateLimiter<String> {

    private static final String BODY = Scripts.withFastPath(Scripts.read("composite_fast.lua"),
            Scripts.read("exact.lua") + "\n"
                    + wrap("run_gcra", "gcra.lua") + wrap("run_sliding_log", "sliding_log.lua")
                    + wrap("run_sliding_counter", "sliding_counter.lua") + Scripts.read("composite.lua"));
    private static final String SHA = Scripts.sha1(BODY);

    /** One limit of the composite. */
    private static final class Part {
        final LimitArgs args;
        final boolean perKey;
        final int index;
        /** The fixed windows' origin of a sliding window counter whose key is absent. */
        final String origin;
        /** What follows the tag in its Redis key: {@code ":k<index>:"} (then the key) or {@code ":g<index>"}. */
        final String suffix;

        Part(LimitArgs args, boolean perKey, int index, String origin) {
            this.args = args;
            this.perKey = perKey;
            this.index = index;
            this.origin = origin;
            this.suffix = perKey ? ":k" + index + ":" : ":g" + index;
        }
    }

    private final ScriptCaller caller;
    private final String prefix;
    private final String name;
    private final Function<? super String, String> groupOf;
    private final List<Limit> groupLimits;
    private final List<Limit> keyLimits;
    /** The limits in the order the script runs them: sliding logs last (the costliest to decide). */
    private final List<Part> parts;
    private final RedisRateLimiters.Clock clock;
    private final Sleeper sleeper;
    private final String unitsPerMs;
    private final String graceMs;
    /** The longest time any limit's state stays not full, in units: the exact-range margin. */
    private final long span;
    /** The most permits one request can be granted: the smallest maximum. */
    private final long max;
    /** The failure policy of each group limit, then of each key limit, in their given order. */
    private final List<FailureHandler> groupFailures;
    private final List<FailureHandler> keyFailures;
    /**
     * Under the local fallback, every limit's local share decided as one (all-or-nothing, in
     * process); {@code null} under another policy, or when a limit is a sliding window log, which
     * the local composite does not hold (those composites fall back limit by limit).
     */
    private final LocalCompositeKeyedRateLimiter<String, String> localFallback;
    /**
     * The script's arguments with the clock reading (index 0) and the permits (at
     * {@link #permitsIndexes}) left {@code null}: the constant ones are built once.
     */
    private final String[] argvTemplate;
    private final int[] permitsIndexes;
    /** The refusals known, per key (see {@link RefusalCache}), or {@code null} when not remembered. */
    private final RefusalCache refusals;
    /** The longest a refusal is remembered, on the clock {@link #now} reads. */
    private final long refusalMaxAge;
    /** The concurrent decisions on one key sent together (see {@link Coalescer}), or {@code null}. */
    private final Coalescer coalescer;

    CompositeLimiter(ScriptCaller caller, String prefix, String name, Function<? super String, String> groupOf,
                     List<Limit> groupLimits, List<Limit> keyLimits, RedisRateLimiters.Clock clock,
                     Sleeper sleeper, long graceMs, Function<Limit, FailureHandler> failures, int refusalSlots,
                     long refusalMaxAgeNanos, boolean coalescing) {
        this.refusals = refusalSlots == 0 ? null : new RefusalCache(refusalSlots);
        this.refusalMaxAge = clock.redisTime() ? refusalMaxAgeNanos
                : Math.max(1, refusalMaxAgeNanos / clock.unitNanos());
        Objects.requireNonNull(name, "name");
        this.groupOf = Objects.requireNonNull(groupOf, "groupOf");
        Objects.requireNonNull(groupLimits, "groupLimits");
        Objects.requireNonNull(keyLimits, "keyLimits");
        RedisKeys.checkName(name);
        if (groupLimits.isEmpty() && keyLimits.isEmpty()) {
            throw new IllegalArgumentException("a composite needs at least one limit: groupLimits=[], keyLimits=[]");
        }
        this.caller = caller;
        this.prefix = prefix;
        this.name = name;
        this.clock = clock;
        this.sleeper = sleeper;
        this.unitsPerMs = Long.toString(1_000_000L / clock.unitNanos());
        this.graceMs = Long.toString(graceMs);
        List<Part> all = new ArrayList<>();
        this.groupLimits = parts(groupLimits, "groupLimits", false, all);
        this.keyLimits = parts(keyLimits, "keyLimits", true, all);
        all.sort(Comparator.comparing(p -> p.args.script == Scripts.SLIDING_LOG)); // stable: logs last
        this.parts = List.copyOf(all);
        this.span = all.stream().mapToLong(p -> p.args.span).max().orElseThrow();
        this.max = all.stream().mapToLong(p -> p.args.max).min().orElseThrow();
        this.groupFailures = groupLimits.stream().map(failures).toList();
        this.keyFailures = keyLimits.stream().map(failures).toList();
        this.localFallback = localFallback(this.groupOf, groupFailures, keyFailures, clock, sleeper);
        List<String> argv = new ArrayList<>(1 + 9 * parts.size());
        int[] permitsAt = new int[parts.size()];
        argv.add(null);
        for (int i = 0; i < parts.size(); i++) {
            Part p = parts.get(i);
            LimitArgs a = p.args;
            permitsAt[i] = argv.size() + 2 + (a.script == Scripts.GCRA ? 3 : 2);
            switch (a.script) {
                case GCRA -> add(argv, "gcra", Long.toString(a.max), Long.toString(a.rate), Long.toString(a.period),
                        null, a.queue ? "1" : "0", unitsPerMs,
                        this.graceMs);
                case SLIDING_LOG -> add(argv, "sliding_log", Long.toString(a.max), Long.toString(a.period), null,
                        unitsPerMs, this.graceMs);
                case SLIDING_COUNTER -> add(argv, "sliding_counter", Long.toString(a.max), Long.toString(a.period),
                        null, p.origin, unitsPerMs, this.graceMs);
            }
        }
        this.argvTemplate = argv.toArray(new String[0]);
        this.permitsIndexes = permitsAt;
        this.coalescer = coalescing ? new Coalescer(caller, SHA, BODY, batchTemplate(argvTemplate, permitsAt),
                permitsAt[0], 4 * parts.size()) : null;
    }

    /** @return the local composite of the limits' local shares, or {@code null}; see {@link #localFallback} */
    private static LocalCompositeKeyedRateLimiter<String, String> localFallback(
            Function<? super String, String> groupOf, List<FailureHandler> group, List<FailureHandler> key,
            RedisRateLimiters.Clock clock, Sleeper sleeper) {
        List<Limit> groupShares = shares(group);
        List<Limit> keyShares = shares(key);
        if (groupShares == null || keyShares == null) {
            return null;
        }
        return LocalCompositeKeyedRateLimiter.<String, String>builder(groupOf, groupShares, keyShares)
                .ticker(clock.deadlineTicker()).sleeper(sleeper).build();
    }

    /** @return the local fallback's limit of each handler, or {@code null} if one has none or it is a log */
    private static List<Limit> shares(List<FailureHandler> handlers) {
        List<Limit> shares = new ArrayList<>(handlers.size());
        for (FailureHandler h : handlers) {
            Limit share = h.local() == null ? null : h.local().limit();
            if (share == null || share instanceof SlidingWindow sw && sw.mode() == SlidingWindow.Mode.LOG) {
                return null;
            }
            shares.add(share);
        }
        return shares;
    }

    private List<Limit> parts(List<Limit> limits, String what, boolean perKey, List<Part> into) {
        List<Limit> copy = new ArrayList<>(limits.size());
        for (int i = 0; i < limits.size(); i++) {
            Limit limit = limits.get(i);
            if (limit == null) {
                throw new NullPointerException(what + "[" + i + "]");
            }
            LimitArgs args = LimitArgs.of(limit, clock.unitNanos());
            String origin = clock.redisTime() ? "0" : Long.toString(clock.now(args.span));
            into.add(new Part(args, perKey, i, origin));
            copy.add(limit);
        }
        return List.copyOf(copy);
    }

    private static String wrap(String function, String resource) {
        // The single-limit script's body, unchanged, as a function whose parameters shadow the
        // global KEYS and ARGV it reads, and whose finish defers the grant's writes (composite.lua).
        // No fast path ran before it: pre_now and pre_stored (read by gcra.lua and sliding_counter.lua) are nil.
        return "local function " + function + "(KEYS, ARGV, finish)\nlocal pre_now, pre_stored\n" + Scripts.read(resource)
                + "\nend\n";
    }

    /**
     * @param key a limiter key
     * @return the Redis keys holding its limits' state, group limits first, each list in the
     *     order given; all in one hash slot
     * @throws NullPointerException if {@code key} or its group is {@code null}
     */
    public List<String> redisKeys(String key) {
        String tag = tag(Objects.requireNonNull(key, "key"));
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < groupLimits.size(); i++) {
            keys.add(tag + ":g" + i);
        }
        for (int i = 0; i < keyLimits.size(); i++) {
            keys.add(tag + ":k" + i + ":" + key);
        }
        return keys;
    }

    private String tag(String key) {
        String group = groupOf.apply(key);
        if (group == null) {
            throw new NullPointerException("groupOf returned null for key " + RedisKeys.forMessage(key));
        }
        return RedisKeys.tagged(prefix, name, group);
    }

    @Override
    public CompletionStage<Decision> decideAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        String[] keys = keys(key);
        long now;
        try {
            now = now();
        } catch (IllegalStateException outOfRange) {
            return CompletableFuture.failedFuture(outOfRange); // async callers get a failed stage
        }
        Decision known = knownDecision(key, permits, now);
        return known != null ? CompletableFuture.completedFuture(known) : decideAsync(keys, key, permits, now);
    }

    private CompletionStage<Decision> decideAsync(String[] keys, String key, long permits, long now) {
        long epoch = refusals == null ? 0 : refusals.epoch();
        String[] argv = argvAt(permits, now);
        CompletionStage<List<Object>> call = coalescer == null ? caller.call(SHA, BODY, keys, argv)
                : coalescer.decide(key, keys, argv, false);
        return call.handle((reply, failure) -> {
            if (failure != null) {
                return onFailure(key, permits, failure, false);
            }
            remember(key, permits, reply, now, epoch);
            return toDecision(reply, permits);
        });
    }

    /**
     * The reading a decision is dated with, as {@link RedisKeyedLimiter} dates its own: the client
     * reading in units sent with the call, or under Redis time the local monotonic clock in
     * nanoseconds, for the refusal cache only.
     */
    private long now() {
        if (clock.redisTime()) {
            // Only the refusal cache reads it: without one, no clock read on the decision path.
            return refusals == null ? 0 : clock.deadlineTicker().read();
        }
        return clock.now(span);
    }

    /** @return a span on the clock {@link #now} reads, in nanoseconds */
    private long toNanos(long span) {
        return clock.redisTime() ? span : nanos(span);
    }

    /**
     * Remembers the refusal in a reply, as {@link RedisKeyedLimiter} does: the composite refuses
     * as many permits or more until the latest retry-after of its refusing limits (by then every
     * limit grants them, as nothing but time changes a limit in this process's favour), its
     * remaining the smallest and its reset the largest of the limits'.
     */
    private void remember(String key, long permits, List<Object> reply, long now, long epoch) {
        if (refusals == null) {
            return;
        }
        boolean allowed = true;
        long remaining = Long.MAX_VALUE;
        long retry = 0;
        long reset = 0;
        for (int i = 0; i < reply.size(); i += 4) {
            remaining = Math.min(remaining, (Long) reply.get(i + 1));
            reset = Math.max(reset, (Long) reply.get(i + 3));
            if (((Long) reply.get(i)) != 1L) {
                allowed = false;
                long r = (Long) reply.get(i + 2);
                if (r < 0) {
                    return; // never grantable: tryAcquire answers those without a call
                }
                retry = Math.max(retry, r);
            }
        }
        if (allowed) {
            refusals.granted(key);
            return;
        }
        if (retry <= 0) {
            return;
        }
        long wait = clock.redisTime() ? nanos(retry) : retry;
        refusals.refused(key, permits, now + Math.min(wait, refusalMaxAge), now + wait,
                now + (clock.redisTime() ? nanos(reset) : reset), remaining, epoch);
    }

    /** A decision of one permit answered from a remembered refusal, as {@link RedisKeyedLimiter} does; else {@code null}. */
    private Decision knownDecision(String key, long permits, long now) {
        if (refusals == null || permits != 1) {
            return null;
        }
        RefusalCache.Entry e = refusals.singlePermitRefusal(key, now);
        return e == null ? null
                : Decision.denied(1, 0, toNanos(e.retryAt - now), toNanos(Math.max(0, e.resetAt - now)), max);
    }

    /** Forgets every remembered refusal once a write that gives permits back is over. */
    private void forgetRefusals() {
        if (refusals != null) {
            refusals.invalidate();
        }
    }

    /** @return the Redis keys of one decision, in the order of {@link #parts} */
    private String[] keys(String key) {
        String tag = tag(key);
        String[] keys = new String[parts.size()];
        for (int i = 0; i < keys.length; i++) {
            Part p = parts.get(i);
            keys[i] = p.perKey ? tag + p.suffix + key : tag + p.suffix;
        }
        return keys;
    }

    /** @return the script's arguments for one decision */
    private String[] argv(long permits) {
        return argvAt(permits, clock.redisTime() ? 0 : clock.now(span));
    }

    /** @return the script's arguments for one decision dated {@code now} (a reading of {@link #now}) */
    private String[] argvAt(long permits, long now) {
        String[] argv = argvTemplate.clone();
        argv[0] = clock.redisTime() ? "redis" : Long.toString(now);
        String n = permits == 1 ? "1" : Long.toString(permits);
        for (int i : permitsIndexes) {
            argv[i] = n;
        }
        return argv;
    }

    /**
     * Answers a decision Redis could not take by the failure policy. Under the local fallback, the
     * local shares of every limit are decided as one by a local composite (see
     * {@link LocalCompositeKeyedRateLimiter}): all-or-nothing, so a refusal by a group limit leaves
     * the key's own permits intact, as Redis would. Otherwise (another policy, or a composite
     * holding a sliding window log) limit by limit, each key's own limits first, then its group's:
     * the first refusal is the answer; if all grant, the grant reports the smallest remaining and
     * the largest reset. A log composite under the local fallback then checks its limits in process
     * one after the other, so a group refusal may leave permits consumed in the key's own limits:
     * it errs towards refusing, never towards admitting. A peek ({@code peek} true) is answered
     * the same way by the same fallbacks, consuming nothing.
     */
    private Decision onFailure(String key, long permits, Throwable failure, boolean peek) {
        if (permits > max) {
            // Never grantable, whatever the policy: reported once, answered without Redis, and no
            // local fallback consumes permits for it.
            (keyFailures.isEmpty() ? groupFailures.get(0) : keyFailures.get(0)).reportOnly(failure);
            return Decision.exceeding(permits, 0, 0, max);
        }
        if (localFallback != null) {
            FailureHandler reporter = keyFailures.isEmpty() ? groupFailures.get(0) : keyFailures.get(0);
            reporter.reportOnly(failure); // and rethrows what is not a Redis failure
            Throwable cause = failure;
            while (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof RedisMisconfigurationException misconfigured) {
                throw misconfigured; // not an outage: loud whatever the policy
            }
            return peek ? localFallback.peek(key, permits) : localFallback.decide(key, permits);
        }
        String group = groupOf.apply(key);
        long remaining = Long.MAX_VALUE;
        long reset = 0;
        for (int i = 0; i < keyFailures.size() + groupFailures.size(); i++) {
            boolean perKey = i < keyFailures.size();
            FailureHandler handler = perKey ? keyFailures.get(i) : groupFailures.get(i - keyFailures.size());
            Decision d = peek ? handler.onPeekFailure(perKey ? key : group, permits, failure)
                    : handler.onFailure(perKey ? key : group, permits, failure);
            if (!d.isAllowed()) {
                return d;
            }
            remaining = Math.min(remaining, d.remaining());
            reset = Math.max(reset, d.resetNanos());
        }
        return Decision.allowed(permits, remaining, reset, max);
    }

    /** @return the arguments of a batch of decisions before their pairs: the limits', the operation "batch" */
    private static String[] batchTemplate(String[] decision, int[] permitsIndexes) {
        String[] argv = new String[decision.length + 2];
        argv[1] = "mode";
        argv[2] = "batch";
        System.arraycopy(decision, 1, argv, 3, decision.length - 1);
        for (int i : permitsIndexes) {
            argv[i + 2] = "1"; // each request's permits are in its pair
        }
        return argv;
    }

    private static void add(List<String> argv, String script, String... args) {
        argv.add(script);
        argv.add(Integer.toString(args.length));
        argv.addAll(java.util.Arrays.asList(args)); // with the nulls the permits take per call
    }

    private Decision toDecision(List<Object> reply, long permits) {
        boolean allowed = true;
        boolean never = false;
        long remaining = Long.MAX_VALUE;
        long retry = 0;
        long reset = 0;
        for (int i = 0; i < reply.size(); i += 4) {
            boolean grants = ((Long) reply.get(i)) == 1L;
            remaining = Math.min(remaining, (Long) reply.get(i + 1));
            reset = Math.max(reset, (Long) reply.get(i + 3));
            if (!grants) {
                allowed = false;
                long r = (Long) reply.get(i + 2);
                if (r < 0) {
                    never = true;
                } else {
                    retry = Math.max(retry, r);
                }
            }
        }
        long resetNanos = nanos(reset);
        if (allowed) {
            return Decision.allowed(permits, remaining, resetNanos, max);
        }
        if (never) {
            return Decision.exceeding(permits, remaining, resetNanos, max);
        }
        return Decision.denied(permits, remaining, Math.max(1, nanos(retry)), resetNanos, max);
    }

    private long nanos(long units) {
        long unit = clock.unitNanos();
        return units <= Long.MAX_VALUE / unit ? units * unit : Long.MAX_VALUE;
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
        long now = now();
        Decision known = knownDecision(key, permits, now);
        return known != null ? known : decideInterruptibly(key, permits, now);
    }

    private Decision decideInterruptibly(String key, long permits, long now) throws InterruptedException {
        String[] keys = keys(key);
        long epoch = refusals == null ? 0 : refusals.epoch();
        List<Object> reply;
        try {
            String[] argv = argvAt(permits, now);
            reply = coalescer == null ? caller.callSync(SHA, BODY, keys, argv) : coalescer.decideSync(key, keys, argv);
        } catch (RedisRateLimiterException failed) {
            return onFailure(key, permits, failed, false);
        }
        remember(key, permits, reply, now, epoch);
        return toDecision(reply, permits);
    }

    /**
     * As {@link #decide}; a request for more permits than some limit can ever grant makes no round
     * trip, nor one Redis is known to refuse (see {@link RedisRateLimiters.Builder#refusalCache(int)}).
     */
    @Override
    public boolean tryAcquire(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        if (permits > max) {
            return false; // never grantable: no round trip
        }
        long now = now();
        if (refusals != null && refusals.refuses(key, permits, now)) {
            return false;
        }
        try {
            return decideInterruptibly(key, permits, now).isAllowed();
        } catch (InterruptedException e) {
            throw ScriptCaller.interrupted(e); // not a Redis failure: the policy does not answer it
        }
    }

    /** As {@link #decideAsync}; a request for more permits than some limit can ever grant makes no round trip. */
    @Override
    public CompletionStage<Boolean> tryAcquireAsync(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        if (permits > max) {
            return CompletableFuture.completedFuture(false); // never grantable: no round trip
        }
        long now;
        try {
            now = now();
        } catch (IllegalStateException outOfRange) {
            return CompletableFuture.failedFuture(outOfRange);
        }
        if (refusals != null && refusals.refuses(key, permits, now)) {
            return CompletableFuture.completedFuture(false);
        }
        return decideAsync(keys(key), key, permits, now).thenApply(Decision::isAllowed);
    }

    /**
     * Waits, polling, until every limit grants {@code permits} together, or the timeout. A
     * leaky-bucket queue in a composite is waited for like a meter: by polling, not by a place in
     * its queue.
     */
    @Override
    public boolean tryAcquire(String key, long permits, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        Objects.requireNonNull(timeout, "timeout");
        if (permits > max) {
            return false; // never grantable: no round trip, no wait
        }
        return Polling.acquire(() -> decideInterruptibly(key, permits), Checks.timeoutNanos(timeout),
                clock.deadlineTicker(), sleeper);
    }

    /** @return the script's arguments for one operation: {@link #argv} with the operation after the time */
    private String[] argv(long permits, String mode) {
        String[] decision = argv(permits);
        String[] argv = new String[decision.length + 2];
        argv[0] = decision[0];
        argv[1] = "mode";
        argv[2] = mode;
        System.arraycopy(decision, 1, argv, 3, decision.length - 1);
        return argv;
    }

    private List<Object> operation(String[] keys, String[] argv) {
        try {
            return caller.callSync(SHA, BODY, keys, argv);
        } catch (InterruptedException e) {
            throw ScriptCaller.interrupted(e); // not a Redis failure: the policy does not answer it
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>One read-only script call: every limit is read, nothing is written. If Redis cannot
     * answer, the failure policy answers as for a decision, the local fallback peeked at, not
     * consumed from.
     */
    @Override
    public Decision peek(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        try {
            return toDecision(operation(keys(key), argv(permits, "peek")), permits);
        } catch (RedisRateLimiterException failed) {
            return onFailure(key, permits, failed, true);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The smallest of the limits' available permits, in one read-only script call. If Redis
     * cannot answer, the smallest of what the failure policy answers for each limit.
     */
    @Override
    public long availablePermits(String key) {
        Objects.requireNonNull(key, "key");
        List<Object> reply;
        try {
            // Above the smallest maximum: refused, so every limit reports its state unchanged.
            reply = operation(keys(key), argv(max + 1, "peek"));
        } catch (RedisRateLimiterException failed) {
            String group = groupOf.apply(key);
            long least = Long.MAX_VALUE;
            for (int i = 0; i < keyFailures.size() + groupFailures.size(); i++) {
                boolean perKey = i < keyFailures.size();
                FailureHandler handler = perKey ? keyFailures.get(i) : groupFailures.get(i - keyFailures.size());
                least = Math.min(least, handler.onAvailableFailure(perKey ? key : group, failed));
            }
            return Math.min(least, max);
        }
        return toDecision(reply, max + 1).remaining();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Deletes every Redis key {@code key}'s decisions read ({@link #redisKeys}), the group's
     * shared limits included: a key is full again only if its group is, so resetting a key of a
     * group resets the group for every key in it. If Redis cannot do it: under the local
     * fallback the fallbacks are reset; under fail open it is dropped and logged; otherwise the
     * {@link RedisRateLimiterException} is thrown.
     */
    @Override
    public void reset(String key) {
        Objects.requireNonNull(key, "key");
        try {
            operation(keys(key), argv(1, "reset"));
        } catch (RedisRateLimiterException failed) {
            eachFallback(key, "reset", failed, (local, k) -> {
                local.reset(k);
                return 0;
            });
        } finally {
            forgetRefusals();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Every limit (the group's included, which the grant consumed too) is refunded by its own
     * rule, in one script call. Failures as for {@link #reset}.
     */
    @Override
    public void refund(String key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        try {
            operation(keys(key), argv(Math.min(permits, LimitArgs.MAX_EXACT), "refund"));
        } catch (RedisRateLimiterException failed) {
            eachFallback(key, "refund", failed, (local, k) -> {
                local.refund(k, permits);
                return 0;
            });
        } finally {
            forgetRefusals();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>One script call: the smallest of the limits' available permits is taken from every
     * limit, as one grant. If Redis cannot do it: under the local fallback the fallbacks are
     * drained each by the smallest of their available permits; under fail open nothing is taken
     * (0, logged); otherwise the {@link RedisRateLimiterException} is thrown.
     */
    @Override
    public long drain(String key) {
        Objects.requireNonNull(key, "key");
        List<Object> reply;
        try {
            reply = operation(keys(key), argv(1, "drain"));
        } catch (RedisRateLimiterException failed) {
            long[] least = {Long.MAX_VALUE};
            eachFallback(key, "drain", failed, (local, k) -> {
                least[0] = Math.min(least[0], local.availablePermits(k));
                return 0;
            });
            if (least[0] == 0 || least[0] == Long.MAX_VALUE) {
                return 0;
            }
            // Every fallback holds at least least[0]: one grant of it each.
            eachFallback(key, "drain", failed, (local, k) -> local.decide(k, least[0]).isAllowed() ? 1 : 0);
            return least[0];
        }
        return (Long) reply.get(0);
    }

    /**
     * Refused: a composite's limits are fixed (a limit's index is its place in the list, and
     * changing the limits means giving the composite a new name).
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void reconfigure(Limit limit) {
        throw new UnsupportedOperationException("a composite's limits are fixed: build a composite with a new "
                + "name instead of reconfiguring " + this);
    }

    /** Applies a failed operation to each limit's failure handler, the key's then the group's. */
    private void eachFallback(String key, String op, RedisRateLimiterException failed,
                              java.util.function.BiFunction<dev.ratelimiter.local.LocalKeyedRateLimiter<String>, String,
                                      Integer> action) {
        String group = groupOf.apply(key);
        for (int i = 0; i < keyFailures.size() + groupFailures.size(); i++) {
            boolean perKey = i < keyFailures.size();
            FailureHandler handler = perKey ? keyFailures.get(i) : groupFailures.get(i - keyFailures.size());
            String k = perKey ? key : group;
            handler.onWriteFailure(k, op, failed, local -> action.apply(local, k));
        }
    }

    /** @return the first limit given (a group limit if any): a composite has several, see {@link #groupLimits()} */
    @Override
    public Limit limit() {
        return groupLimits.isEmpty() ? keyLimits.get(0) : groupLimits.get(0);
    }

    /** @return the limits shared by all keys of a group (every limit, for a per-key composite) */
    public List<Limit> groupLimits() {
        return groupLimits;
    }

    /** @return the limits held per key */
    public List<Limit> keyLimits() {
        return keyLimits;
    }

    @Override
    public String toString() {
        return "CompositeLimiter{name=" + name + ", groupLimits=" + groupLimits + ", keyLimits=" + keyLimits + '}';
    }

    /** @return the coalescer, or {@code null} when decisions are not coalesced; for tests */
    Coalescer coalescer() {
        return coalescer;
    }
}

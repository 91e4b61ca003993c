package dev.ratelimiter.redis;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.async.RedisServerAsyncCommands;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Entry point to the Redis limiters: the algorithms of the local module as Lua scripts, one
 * round trip ({@code EVALSHA}) per decision, shared by every process using the same Redis.
 * Thread-safe; the limiters it makes are too, and many threads pipeline over one connection.
 *
 * <pre>{@code
 * RedisClient client = RedisClient.create("redis://localhost:6379");
 * StatefulRedisConnection<String, String> connection = client.connect();
 * RedisRateLimiters redis = RedisRateLimiters.builder(connection.async()).build();
 * KeyedRateLimiter<String> perUser = redis.keyed("api", TokenBucket.of(20, 20, Duration.ofMinutes(1)));
 * if (!perUser.tryAcquire(userId)) {
 *     return tooManyRequests();
 * }
 * }</pre>
 * A cluster connection's {@code async()} works the same way: every decision touches one key.
 *
 * <h2>Keys</h2>
 * Limiter key {@code k} of the limiter named {@code name} is stored at the Redis key
 * {@code <prefix>{<name>:<k>}} (prefix {@code "rl:"} by default). The braces are the Redis
 * Cluster hash tag. In {@code k}, the characters {@code %}, <code>{</code> and <code>}</code>
 * are written {@code %25}, {@code %7B} and {@code %7D}, so a user's braces cannot end the tag
 * early and choose the slot. A name identifies one limit: two limiters with the same prefix and name but
 * different limits would share (and misread) their state. Every key written gets a
 * {@code PEXPIRE} of the time until its state is full again, rounded up to a whole millisecond
 * (plus the grace, in client-time mode), so idle keys vanish; a key is deleted as soon as its
 * state is full.
 *
 * <h2>Time</h2>
 * By default the scripts read Redis {@code TIME} (microseconds), so clients whose clocks
 * disagree still agree on decisions. {@link Builder#clientTime} passes the caller's clock
 * instead, for Redis services that refuse {@code TIME} in scripts and for tests. That clock must
 * be a wall clock shared by all processes: {@link System#nanoTime()} has a per-process origin
 * and is not usable across processes. In client-time mode a key's TTL is its time until full
 * measured by the client clock, read as real time, plus {@link Builder#ttlGrace grace}: the
 * grace covers clients whose clocks lag and clocks that do not run at real speed (a fake clock).
 *
 * <h2>Failures</h2>
 * Every decision waits at most {@link Builder#timeout timeout} for Redis: a synchronous one on
 * its own thread, with no timer; an asynchronous one is timed out by a single daemon thread
 * shared by all limiters, which answers it at most 10 ms after its timeout (plus the thread's
 * scheduling delay) and runs the stages chained onto it then. A decision Redis cannot
 * take (no answer in time, connection down, a Redis error) is answered by the
 * {@link Builder#failurePolicy failure policy}: by default a local limiter decides
 * ({@link FailurePolicy#fallbackToLocal()}); fail open, fail closed and propagating the
 * {@link RedisRateLimiterException} are the alternatives. An error reply that says Redis is set
 * up wrong rather than unavailable ({@code NOPERM}: an ACL user without {@code evalsha}/{@code eval};
 * {@code READONLY}: a limiter pointed at a replica; {@code NOAUTH}/{@code WRONGPASS}; unknown
 * scripting commands) is a {@link RedisMisconfigurationException} and is <em>not</em> answered by
 * the policy: it reaches the listener, is logged at {@code ERROR} once per factory
 * ({@link System.Logger} {@code dev.ratelimiter.redis}) and is thrown (or fails the stage)
 * whatever the policy, so that a broken deployment is loud instead of silently running on local
 * limits for ever. {@code OOM} is a {@link RedisOutOfMemoryException}: answered by the policy,
 * like an outage, but of its own type for the listener and logged at {@code WARNING} once per
 * factory. A blocking {@code tryAcquire(key, permits, timeout)} applies the policy to each of its polls, so it returns
 * within its own timeout plus at most one decision's timeout. A call that timed out is never retried
 * (it may have counted); its pending Lettuce command is cancelled, so it is not sent later either.
 * Recovery needs no restart: Lettuce reconnects by itself, and a restarted Redis that lost the
 * scripts answers {@code NOSCRIPT}, upon which the script is sent once with {@code EVAL}.
 * Recommended Lettuce settings for a standalone limiter connection (for Redis Cluster, see
 * below):
 * <pre>{@code
 * Duration timeout = Duration.ofMillis(200);        // the limiters' timeout too
 * client.setOptions(ClientOptions.builder()
 *         // While disconnected, fail at once (the policy answers at once) instead of queueing
 *         // commands that could run after the reconnect, long after their callers gave up.
 *         .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
 *         // Do not replay a decision that was sent before the connection dropped: it may
 *         // have counted already.
 *         .replayFilter(command -> command.getType() == CommandType.EVALSHA
 *                 || command.getType() == CommandType.EVAL)
 *         // Lettuce's own bound on each command, so none lingers in its queues.
 *         .timeoutOptions(TimeoutOptions.enabled(timeout))
 *         .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).keepAlive(true).build())
 *         .build());
 * RedisRateLimiters redis = RedisRateLimiters.builder(connection.async()).timeout(timeout).build();
 * }</pre>
 * With Lettuce's defaults the limiters still answer within their timeout (they never wait on
 * Lettuce unboundedly), but calls made while disconnected are buffered by Lettuce until the
 * timeout and unanswered commands in flight when the connection dropped are replayed after the
 * reconnect if their call has not timed out yet. Lettuce's reconnect backoff (exponential up to
 * 30 s by default, {@code ClientResources.builder().reconnectDelay(...)}) bounds how soon Redis
 * decides again after it comes back.
 *
 * <h2>Redis Cluster</h2>
 * A decision touches keys of one hash slot, so it runs on one master; Lettuce follows
 * {@code MOVED} and {@code ASK} by itself. While a slot migrates (resharding), a composite whose
 * keys are split between the two nodes is answered {@code TRYAGAIN}, which proves nothing ran:
 * the call is sent again after a short backoff (2 ms doubling up to 64 ms), for as long as its
 * timeout lasts, and answered by the failure policy if the timeout would pass first. No other
 * error, and never a call that timed out, is sent again. Recommended cluster client options:
 * <pre>{@code
 * Duration timeout = Duration.ofMillis(200);        // the limiters' timeout too
 * clusterClient.setOptions(ClusterClientOptions.builder()
 *         // Learn of failovers and resharding from MOVED/ASK and reconnects, and every 30 s.
 *         .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
 *                 .enableAllAdaptiveRefreshTriggers()
 *                 .enablePeriodicRefresh(Duration.ofSeconds(30))
 *                 .build())
 *         // Not REJECT_COMMANDS: Lettuce opens each node's connection on its first command,
 *         // which REJECT_COMMANDS would fail ("Currently not connected"). Accepted commands are
 *         // bounded by the timeout options and by the limiters' timeout, which cancels them.
 *         .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
 *         .timeoutOptions(TimeoutOptions.enabled(timeout))
 *         .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).keepAlive(true).build())
 *         .build());
 * }</pre>
 *
 * <h2>Eviction</h2>
 * Building a factory sends one {@code CONFIG GET maxmemory-policy} and does not wait for it. If
 * the policy is anything but {@code noeviction}, the {@link Builder#failureListener listener} is
 * handed a {@link RedisMisconfigurationException} of reason
 * {@link RedisMisconfigurationException.Reason#EVICTION_POLICY EVICTION_POLICY} (never thrown) and
 * it is logged at {@code WARNING}, once: an evicted limiter key is a limit silently reset, which
 * over-admits. {@code allkeys-*} policies may evict the hottest limiter keys; {@code volatile-*}
 * policies choose among keys with a TTL, and every limiter key has one, so they are warned about
 * too, even on an instance dedicated to the limiters. Use {@code noeviction}, ideally on a Redis
 * (or a cluster) dedicated to the limiters: when it is full, decisions fail with {@code OOM}
 * ({@link RedisOutOfMemoryException}) and the failure policy answers them, which is seen, rather
 * than keys vanishing, which is not. If {@code CONFIG} is refused ({@code NOPERM}, or renamed on a
 * managed Redis), does not answer within the timeout, or the connection is down, the check is
 * skipped silently; on a cluster connection one node is asked.
 *
 * <h2>Exactness</h2>
 * Lua numbers are doubles, exact for integers below 2^53. Limits whose numbers, in the time
 * unit of the decisions, exceed 2^52 (capacity, window limit, reduced rate terms, window length,
 * time to refill from empty) are refused at creation with an {@link IllegalArgumentException}.
 * In microseconds that still allows refill times up to 142 years; in nanoseconds, 52 days.
 */
public final class RedisRateLimiters {

    private final ScriptCaller caller;
    private final Diagnostics diagnostics;
    private final String prefix;
    private final Clock clock;
    private final Sleeper sleeper;
    private final long graceMs;
    private final FailurePolicy failurePolicy;
    private final Consumer<? super RedisRateLimiterException> failureListener;
    /** The slots of each keyed limiter's refusal cache, a power of two, or 0 for none. */
    private final int refusalSlots;
    /** The longest a refusal is remembered, in nanoseconds. */
    private final long refusalMaxAgeNanos;
    private final boolean coalescing;

    private RedisRateLimiters(Builder b) {
        this.refusalSlots = b.refusalSlots;
        this.refusalMaxAgeNanos = b.refusalMaxAge.toNanos();
        this.coalescing = b.coalescing;
        this.failurePolicy = b.failurePolicy;
        this.failureListener = b.failureListener;
        this.diagnostics = new Diagnostics();
        this.caller = new ScriptCaller(b.commands, b.timeout, diagnostics);
        this.prefix = b.prefix;
        this.clock = b.clock;
        this.sleeper = b.sleeper;
        this.graceMs = b.clock.redisTime() ? 0 : millisCeil(b.ttlGrace);
        checkEvictionPolicy(b.commands, b.timeout);
    }

    /**
     * Asks Redis for its {@code maxmemory-policy}, without waiting for the answer, and warns (the
     * listener and the log, once) if it may evict the limiters' keys. Never blocks and never
     * fails: a refused {@code CONFIG GET} (NOPERM, or renamed on a managed Redis), a timeout or a
     * connection that is down skip the check silently; a cluster connection asks one node.
     */
    private void checkEvictionPolicy(RedisScriptingAsyncCommands<String, String> commands, Duration timeout) {
        if (!(commands instanceof RedisServerAsyncCommands<?, ?>)) {
            return;
        }
        @SuppressWarnings("unchecked")
        RedisServerAsyncCommands<String, String> server = (RedisServerAsyncCommands<String, String>) commands;
        CompletableFuture<Map<String, String>> config;
        try {
            config = server.configGet(MAXMEMORY_POLICY).toCompletableFuture();
        } catch (RuntimeException refused) {
            return; // Lettuce refused the command at once (disconnected): skip
        }
        config.copy().orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).whenComplete((reply, failure) -> {
            if (failure != null) {
                config.cancel(false); // no answer in time, or refused: skip silently
                return;
            }
            String policy = reply == null ? null : reply.get(MAXMEMORY_POLICY);
            if (policy == null || !evicts(policy)) {
                return;
            }
            RedisMisconfigurationException warning = new RedisMisconfigurationException(
                    RedisMisconfigurationException.Reason.EVICTION_POLICY, "Redis maxmemory-policy is " + policy
                    + ": under memory pressure Redis may evict the rate limiters' keys (all of which have a TTL), "
                    + "which silently resets their limits and over-admits; use maxmemory-policy noeviction (decisions "
                    + "then fail with OOM, which the failure policy answers) on the limiters' Redis, ideally one "
                    + "dedicated to them", null);
            diagnostics.logOnce(warning);
            try {
                failureListener.accept(warning);
            } catch (RuntimeException ignored) {
                // A listener is for logs and metrics.
            }
        });
    }

    private static final String MAXMEMORY_POLICY = "maxmemory-policy";

    /** @return whether {@code policy} may evict the limiters' keys: anything but {@code noeviction} */
    static boolean evicts(String policy) {
        return !policy.equalsIgnoreCase("noeviction");
    }

    /**
     * @param commands the async commands of a standalone or cluster connection
     *                 ({@code connection.async()})
     * @return a builder with the defaults: prefix {@code "rl:"}, timeout 1 s, Redis time,
     *     failure policy {@link FailurePolicy#fallbackToLocal()}
     * @throws NullPointerException if {@code commands} is {@code null}
     */
    public static Builder builder(RedisScriptingAsyncCommands<String, String> commands) {
        return new Builder(Objects.requireNonNull(commands, "commands"));
    }

    /**
     * A limiter per key, all held to {@code limit}.
     *
     * @param name  the limiter's name, part of every Redis key; no braces
     * @param limit the limit
     * @return the keyed limiter, also an {@link AsyncKeyedRateLimiter}
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} has braces, the limit does not fit the
     *                                  scripts' exact arithmetic, or the
     *                                  {@link FailurePolicy#fallbackToLocal(int) local fallback}
     *                                  cannot divide it among the expected instances
     */
    public KeyedLimiter keyed(String name, Limit limit) {
        return keyed(name, limit, null);
    }

    /** {@link #keyed(String, Limit)}, its failures also told to {@code events} unless {@code null}. */
    KeyedLimiter keyed(String name, Limit limit, FailureHandler.Events events) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(limit, "limit");
        RedisKeys.checkName(name);
        LimitArgs args = LimitArgs.of(limit, clock.unitNanos());
        FailureHandler failures = FailureHandler.of(failurePolicy, limit, clock.deadlineTicker(), failureListener);
        ScriptCaller calls = caller;
        if (events != null) {
            failures = failures.withEvents(events);
            calls = caller.observed(events);
        }
        return new KeyedLimiter(new RedisKeyedLimiter(calls, prefix, name, args, clock, sleeper, graceMs, failures,
                refusalSlots, refusalMaxAgeNanos, coalescing));
    }

    /**
     * One limiter shared under {@code name}: the keyed limiter's key {@code ""}.
     *
     * @param name  the limiter's name
     * @param limit the limit
     * @return the limiter
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException as {@link #keyed}
     */
    public RateLimiter create(String name, Limit limit) {
        KeyedLimiter keyed = keyed(name, limit);
        RateLimiter view = keyed.forKey("");
        return new RateLimiter() {
            @Override
            public boolean tryAcquire(long permits) {
                return view.tryAcquire(permits);
            }

            @Override
            public dev.ratelimiter.Decision decide(long permits) {
                return view.decide(permits);
            }

            @Override
            public boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
                return view.tryAcquire(permits, timeout);
            }

            @Override
            public Limit limit() {
                return keyed.limit();
            }

            @Override
            public dev.ratelimiter.Decision peek(long permits) {
                return keyed.peek("", permits);
            }

            @Override
            public long availablePermits() {
                return keyed.availablePermits("");
            }

            @Override
            public void reset() {
                keyed.reset("");
            }

            @Override
            public void refund(long permits) {
                keyed.refund("", permits);
            }

            @Override
            public long drain() {
                return keyed.drain("");
            }

            /** The single limiter owns its keyed limiter: reconfiguring it reconfigures that. */
            @Override
            public void reconfigure(Limit next) {
                keyed.reconfigure(next);
            }

            @Override
            public String toString() {
                return "RateLimiter{" + keyed + '}';
            }
        };
    }

    /**
     * Several limits per key, decided atomically: a request is granted only if every limit
     * grants it, and refused it consumes nothing from any (for example 10 per second and 1000
     * per hour per user). All its keys share the key's hash tag; see {@link CompositeLimiter}.
     *
     * @param name   the limiter's name, part of every Redis key; no braces
     * @param limits the limits, at least one
     * @return the composite limiter
     * @throws NullPointerException     if an argument or a limit is {@code null}
     * @throws IllegalArgumentException if {@code name} has braces, there is no limit, or a limit
     *                                  does not fit the scripts' exact arithmetic
     */
    public CompositeLimiter composite(String name, Limit... limits) {
        Objects.requireNonNull(limits, "limits");
        return composite(name, key -> key, java.util.Arrays.asList(limits), java.util.List.of());
    }

    /**
     * Limits shared by a group of keys and limits per key, decided atomically (for example a
     * limit per tenant and one per user of the tenant, with keys {@code "tenant/user"} and
     * {@code groupOf = k -> k.substring(0, k.indexOf('/'))}). A request is granted only if the
     * group's limits and the key's limits all grant it. The group is the hash tag of all the
     * keys of a decision; see {@link CompositeLimiter}.
     *
     * @param name        the limiter's name, part of every Redis key; no braces
     * @param groupOf     the group of a key; a pure function, never returning {@code null}
     * @param groupLimits the limits shared by all keys of one group
     * @param keyLimits   the limits of each key
     * @return the composite limiter
     * @throws NullPointerException     if an argument or a limit is {@code null}
     * @throws IllegalArgumentException if {@code name} has braces, both lists are empty, or a
     *                                  limit does not fit the scripts' exact arithmetic
     */
    public CompositeLimiter composite(String name, java.util.function.Function<? super String, String> groupOf,
                                      java.util.List<Limit> groupLimits, java.util.List<Limit> keyLimits) {
        return composite(name, groupOf, groupLimits, keyLimits, null);
    }

    /** The composite, its failures and calls told to {@code events} unless {@code null}. */
    private CompositeLimiter composite(String name, java.util.function.Function<? super String, String> groupOf,
                                       java.util.List<Limit> groupLimits, java.util.List<Limit> keyLimits,
                                       FailureHandler.Events events) {
        return new CompositeLimiter(events == null ? caller : caller.observed(events), prefix, name, groupOf,
                groupLimits, keyLimits, clock, sleeper, graceMs, limit -> {
                    FailureHandler h = FailureHandler.of(failurePolicy, limit, clock.deadlineTicker(), failureListener);
                    return events == null ? h : h.withEvents(events);
                }, refusalSlots, refusalMaxAgeNanos, coalescing);
    }

    /**
     * {@link #composite(String, Limit...)}, reporting to {@code listener} as the limiters of
     * {@code factory().withListener(listener)} do: its decisions (synchronous and asynchronous),
     * the failure policy's answers, misconfigurations and the round trip of every call.
     *
     * @param name     the limiter's name
     * @param listener told of the composite's events
     * @param limits   the limits, at least one
     * @return the composite, also an {@link AsyncKeyedRateLimiter}
     * @throws NullPointerException     if an argument or a limit is {@code null}
     * @throws IllegalArgumentException as {@link #composite(String, Limit...)}
     */
    public KeyedRateLimiter<String> listenedComposite(String name, dev.ratelimiter.RateLimiterListener listener,
                                                      Limit... limits) {
        Objects.requireNonNull(limits, "limits");
        return listenedComposite(name, listener, key -> key, java.util.Arrays.asList(limits), java.util.List.of());
    }

    /**
     * {@link #composite(String, java.util.function.Function, java.util.List, java.util.List)}, reporting to {@code listener} as
     * {@link #listenedComposite(String, dev.ratelimiter.RateLimiterListener, Limit...)} does.
     *
     * @param name        the limiter's name
     * @param listener    told of the composite's events
     * @param groupOf     the group of a key
     * @param groupLimits the limits shared by all keys of one group
     * @param keyLimits   the limits of each key
     * @return the composite, also an {@link AsyncKeyedRateLimiter}
     * @throws NullPointerException     if an argument or a limit is {@code null}
     * @throws IllegalArgumentException as {@link #composite(String, java.util.function.Function, java.util.List, java.util.List)}
     */
    public KeyedRateLimiter<String> listenedComposite(String name, dev.ratelimiter.RateLimiterListener listener,
                                                      java.util.function.Function<? super String, String> groupOf,
                                                      java.util.List<Limit> groupLimits, java.util.List<Limit> keyLimits) {
        dev.ratelimiter.internal.Listeners.name(name);
        Objects.requireNonNull(listener, "listener");
        CompositeLimiter composite = composite(name, groupOf, groupLimits, keyLimits,
                ListenedRedisFactory.events(listener, name, false));
        return new ListenedRedisKeyedLimiter<>(name, composite, listener, clock.deadlineTicker());
    }

    /**
     * A keyed Redis limiter, synchronous and asynchronous. Thread-safe.
     */
    public static final class KeyedLimiter implements KeyedRateLimiter<String>, AsyncKeyedRateLimiter<String> {
        private final RedisKeyedLimiter delegate;

        KeyedLimiter(RedisKeyedLimiter delegate) {
            this.delegate = delegate;
        }

        /** @return the limiter this view delegates to; for tests */
        RedisKeyedLimiter delegate() {
            return delegate;
        }

        @Override
        public boolean tryAcquire(String key, long permits) {
            return delegate.tryAcquire(key, permits);
        }

        @Override
        public dev.ratelimiter.Decision decide(String key, long permits) {
            return delegate.decide(key, permits);
        }

        @Override
        public boolean tryAcquire(String key, long permits, Duration timeout) throws InterruptedException {
            return delegate.tryAcquire(key, permits, timeout);
        }

        @Override
        public java.util.concurrent.CompletionStage<dev.ratelimiter.Decision> decideAsync(String key, long permits) {
            return delegate.decideAsync(key, permits);
        }

        @Override
        public java.util.concurrent.CompletionStage<Boolean> tryAcquireAsync(String key, long permits) {
            return delegate.tryAcquireAsync(key, permits);
        }

        @Override
        public Limit limit() {
            return delegate.limit();
        }

        /**
         * {@inheritDoc}
         *
         * <p>One read-only script call: nothing is written, no key is created and no TTL is
         * touched. If Redis cannot answer, the failure policy answers as it would the decision
         * (the local fallback is peeked at, not consumed from).
         */
        @Override
        public dev.ratelimiter.Decision peek(String key, long permits) {
            return delegate.peek(key, permits);
        }

        /**
         * Like {@link #peek(String, long)}, without blocking: the stage completes with the
         * decision {@code decideAsync(key, permits)} would complete with now, nothing written;
         * if Redis cannot answer, with the failure policy's answer (or exceptionally, as
         * {@link #decideAsync} would).
         *
         * @param key     the key
         * @param permits the number of permits, {@code > 0}
         * @return the decision, when known
         * @throws NullPointerException     if {@code key} is {@code null}
         * @throws IllegalArgumentException if {@code permits <= 0}
         */
        public java.util.concurrent.CompletionStage<dev.ratelimiter.Decision> peekAsync(String key, long permits) {
            return delegate.peekAsync(key, permits);
        }

        /**
         * {@inheritDoc}
         *
         * <p>One read-only script call. If Redis cannot answer: the limit's largest request
         * under fail open, 0 under fail closed, the local fallback's own count under the fallback.
         */
        @Override
        public long availablePermits(String key) {
            return delegate.availablePermits(key);
        }

        /**
         * {@inheritDoc}
         *
         * <p>Deletes the key's Redis key: every process sharing it sees the reset. If Redis cannot
         * do it: under the local fallback the fallback's key is reset; under fail open it is
         * dropped and logged; under fail closed and propagate the {@link RedisRateLimiterException}
         * is thrown.
         */
        @Override
        public void reset(String key) {
            delegate.reset(key);
        }

        /**
         * {@inheritDoc}
         *
         * <p>One script call; a refund of more than 2^52 permits gives back 2^52. If Redis cannot
         * do it: under the local fallback the refund goes to the fallback; under fail open it is
         * dropped and logged; under fail closed and propagate the
         * {@link RedisRateLimiterException} is thrown.
         */
        @Override
        public void refund(String key, long permits) {
            delegate.refund(key, permits);
        }

        /**
         * {@inheritDoc}
         *
         * <p>One script call. If Redis cannot do it: under the local fallback the fallback is
         * drained; under fail open nothing is taken (0, logged); under fail closed and propagate
         * the {@link RedisRateLimiterException} is thrown.
         */
        @Override
        public long drain(String key) {
            return delegate.drain(key);
        }

        /**
         * {@inheritDoc}
         *
         * <p>Applies to the decisions of this process only; nothing is written to Redis. Other
         * processes sharing the keys keep deciding with their own limit on the same stored state:
         * a token or leaky bucket's state (the instant it is full again) means the same under any
         * rate and capacity; a sliding window log is read by each process in its own window (a
         * process with a longer window than the keys were kept for counts only what they still
         * hold); a counter's counts are weighed against each process's own limit. The local
         * fallback of the failure policy is reconfigured to the new limit's share too. A log whose
         * window grows reads the Redis time once (in Redis-time mode) to remember the old window's
         * horizon; if Redis cannot answer, the longer window may count grants the old one had
         * forgotten (fewer permits, never more).
         */
        @Override
        public void reconfigure(Limit limit) {
            delegate.reconfigure(limit);
        }

        /**
         * @param key a limiter key
         * @return the Redis key holding its state
         * @throws NullPointerException if {@code key} is {@code null}
         */
        public String redisKey(String key) {
            return delegate.redisKey(Objects.requireNonNull(key, "key"));
        }

        @Override
        public String toString() {
            return delegate.toString();
        }
    }

    /** Where decisions take their time from. Immutable. */
    static final class Clock {
        /** The largest magnitude of a time a script computes with: 2^53. */
        private static final long EXACT = 1L << 53;

        private final Ticker ticker;
        private final long unitNanos;
        private final long epochNanos;

        /** @param ticker the client clock, or {@code null} for Redis {@code TIME} */
        Clock(Ticker ticker, long unitNanos, long epochNanos) {
            this.ticker = ticker;
            this.unitNanos = unitNanos;
            this.epochNanos = epochNanos;
        }

        boolean redisTime() {
            return ticker == null;
        }

        long unitNanos() {
            return unitNanos;
        }

        /** @return the clock deadlines of blocking acquires are measured with */
        Ticker deadlineTicker() {
            return ticker == null ? Ticker.system() : ticker;
        }

        /**
         * @param span the longest time the limit's state stays not full, in units
         * @return the client reading in units since the epoch
         * @throws IllegalStateException if it is outside the range the scripts compute exactly in
         */
        long now(long span) {
            long now = Math.floorDiv(ticker.read() - epochNanos, unitNanos);
            if (now < -(EXACT >> 1) || now > EXACT - 1 - span) {
                throw new IllegalStateException("the client clock reading must lie between -2^52 and 2^53 - "
                        + span + " " + LimitArgs.unitName(unitNanos) + " from the epoch for exact arithmetic in Redis: "
                        + "reading=" + now);
            }
            return now;
        }
    }

    /**
     * Configures a {@link RedisRateLimiters}. Not thread-safe; each setter validates at once.
     */
    public static final class Builder {
        /** The longest {@link #timeout(Duration)} accepted: one day (a decision waits at most that). */
        public static final Duration MAX_TIMEOUT = Duration.ofDays(1);
        /** The longest {@link #ttlGrace(Duration)} accepted: 30 days, the longest window. */
        public static final Duration MAX_TTL_GRACE = Duration.ofDays(30);

        private final RedisScriptingAsyncCommands<String, String> commands;
        private String prefix = "rl:";
        private Duration timeout = Duration.ofSeconds(1);
        private Clock clock = new Clock(null, 1000, 0);
        private Duration ttlGrace = Duration.ofSeconds(1);
        private Sleeper sleeper = Sleeper.system();
        private FailurePolicy failurePolicy = FailurePolicy.fallbackToLocal();
        private Consumer<? super RedisRateLimiterException> failureListener = failure -> { };
        private int refusalSlots = DEFAULT_REFUSAL_CACHE;
        private Duration refusalMaxAge = DEFAULT_REFUSAL_MAX_AGE;
        private boolean coalescing = true;

        private Builder(RedisScriptingAsyncCommands<String, String> commands) {
            this.commands = commands;
        }

        /**
         * @param prefix the start of every Redis key (default {@code "rl:"}); no braces
         * @return this
         * @throws NullPointerException     if {@code prefix} is {@code null}
         * @throws IllegalArgumentException if it has braces or an unpaired UTF-16 surrogate
         */
        public Builder prefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            RedisKeys.checkNoBraces("prefix", prefix);
            this.prefix = prefix;
            return this;
        }

        /**
         * @param timeout the longest a decision waits for Redis (default 1 s); a call that times
         *                out is answered by the {@link #failurePolicy failure policy} and is not
         *                retried
         * @return this
         * @throws NullPointerException     if {@code timeout} is {@code null}
         * @throws IllegalArgumentException if it is not positive or longer than {@link #MAX_TIMEOUT}
         */
        public Builder timeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be > 0: timeout=" + timeout);
            }
            if (timeout.compareTo(MAX_TIMEOUT) > 0) {
                throw new IllegalArgumentException("timeout must be <= " + MAX_TIMEOUT + ": timeout=" + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * Decides with the caller's clock instead of Redis {@code TIME}.
         *
         * @param wallClock  a clock in nanoseconds shared by every process deciding on the same
         *                   keys (a wall clock; not {@link System#nanoTime()}, whose origin is
         *                   per process)
         * @param unit       the unit passed to the scripts: {@link TimeUnit#MICROSECONDS} or
         *                   {@link TimeUnit#NANOSECONDS}; readings are floored to it
         * @param epochNanos the reading that is time zero for the scripts; readings must stay
         *                   within 2^52 units of it (142 years in microseconds, 52 days in
         *                   nanoseconds)
         * @return this
         * @throws NullPointerException     if an argument is {@code null}
         * @throws IllegalArgumentException if {@code unit} is neither
         */
        public Builder clientTime(Ticker wallClock, TimeUnit unit, long epochNanos) {
            Objects.requireNonNull(wallClock, "wallClock");
            Objects.requireNonNull(unit, "unit");
            if (unit != TimeUnit.MICROSECONDS && unit != TimeUnit.NANOSECONDS) {
                throw new IllegalArgumentException("unit must be MICROSECONDS or NANOSECONDS: unit=" + unit);
            }
            this.clock = new Clock(wallClock, unit.toNanos(1), epochNanos);
            return this;
        }

        /**
         * @param grace added to every TTL in client-time mode (default 1 s): clients whose clocks
         *              lag still find the state until they too see it full
         * @return this
         * @throws NullPointerException     if {@code grace} is {@code null}
         * @throws IllegalArgumentException if it is negative or longer than {@link #MAX_TTL_GRACE}
         */
        public Builder ttlGrace(Duration grace) {
            Objects.requireNonNull(grace, "grace");
            if (grace.isNegative()) {
                throw new IllegalArgumentException("grace must be >= 0: grace=" + grace);
            }
            if (grace.compareTo(MAX_TTL_GRACE) > 0) {
                throw new IllegalArgumentException("grace must be <= " + MAX_TTL_GRACE + ": grace=" + grace);
            }
            this.ttlGrace = grace;
            return this;
        }

        /**
         * @param sleeper how blocking acquires wait between polls (default real sleeping)
         * @return this
         * @throws NullPointerException if {@code sleeper} is {@code null}
         */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * @param policy what a decision answers when Redis cannot take it: timed out, connection
         *               down, or a Redis error (default {@link FailurePolicy#fallbackToLocal()},
         *               for the reasons given in {@link FailurePolicy}); never a
         *               {@link RedisMisconfigurationException}, which is always thrown
         * @return this
         * @throws NullPointerException if {@code policy} is {@code null}
         */
        public Builder failurePolicy(FailurePolicy policy) {
            this.failurePolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * @param listener told of every decision Redis could not take, before the failure policy
         *                 answers it (default: nothing); the type tells the kinds apart: a
         *                 {@link RedisMisconfigurationException} (thrown whatever the policy, or,
         *                 for {@link RedisMisconfigurationException.Reason#EVICTION_POLICY},
         *                 only reported, once, after the factory is built), a
         *                 {@link RedisOutOfMemoryException}, or a plain
         *                 {@link RedisRateLimiterException} for an outage or timeout; called on the thread that sees the failure
         *                 (a caller, Lettuce's event loop or the timeout scheduler), so it must be
         *                 quick and must not block. What it throws is ignored.
         * @return this
         * @throws NullPointerException if {@code listener} is {@code null}
         */
        public Builder failureListener(Consumer<? super RedisRateLimiterException> listener) {
            this.failureListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The refusal cache's default size: 1,024 entries per limiter. */
        public static final int DEFAULT_REFUSAL_CACHE = 1024;
        /** The largest refusal cache accepted: 2^20 entries per limiter. */
        public static final int MAX_REFUSAL_CACHE = 1 << 20;
        /** The longest a refusal is remembered by default: one second. */
        public static final Duration DEFAULT_REFUSAL_MAX_AGE = Duration.ofSeconds(1);

        /**
         * How many refusals each keyed limiter (and single limiter) remembers, so that
         * {@code tryAcquire} and {@code tryAcquireAsync} refuse without a round trip what Redis is
         * known to refuse: after Redis refused {@code n} permits on a key with retry-after
         * {@code r}, a request of this limiter for at least {@code n} permits on that key is
         * refused at once until {@code r} has passed (counted from when the refused call was sent,
         * so never past Redis's own retry-after), but at most {@link #DEFAULT_REFUSAL_MAX_AGE one
         * second} (see {@link #refusalCache(int, Duration)}). Every other decision, from any
         * process, only consumes, so Redis would refuse it too: the cache never admits anything
         * and never refuses what Redis would grant, except after a write that gives permits back
         * in another process (a {@code reset}, a {@code refund}, a larger limit), which it sees at
         * most the smaller of {@code r} and the maximum age late. A {@code reset} or {@code refund} through this limiter, and a
         * {@code reconfigure}, forget every remembered refusal. {@code decide} and
         * {@code decideAsync} of one permit are answered from a remembered refusal of one permit
         * that left nothing remaining (until its retry-after nothing can remain, and the
         * retry-after and reset count down with the clock: the decision Redis would give); other
         * decisions, {@code peek} and blocking reservations ask Redis; every decision (not
         * {@code peek}, not a reservation) remembers the refusals it is given, and a grant forgets
         * its key's. Under Redis time the cache counts on the local monotonic clock, so it assumes
         * Redis's clock keeps pace with it: a Redis clock stepped forward (an NTP step, a failover
         * to a primary whose clock is ahead) may see a refusal answered from memory up to the
         * maximum age after Redis would grant. While Redis is down, a remembered refusal still
         * refuses: it is known, whatever the failure policy would answer.
         *
         * <p>Memory is bounded: a table of {@code entries} slots (rounded up to a power of two),
         * a new refusal replacing the one its key's hash shares a slot with; about 40 bytes per
         * refusal held. Composites remember theirs the same way, per key.
         *
         * @param entries the slots per limiter, 0 to turn the cache off (default
         *                {@value #DEFAULT_REFUSAL_CACHE})
         * @return this
         * @throws IllegalArgumentException if {@code entries} is negative or above
         *                                  {@value #MAX_REFUSAL_CACHE}
         */
        public Builder refusalCache(int entries) {
            if (entries < 0 || entries > MAX_REFUSAL_CACHE) {
                throw new IllegalArgumentException("refusalCache entries must be between 0 (off) and "
                        + MAX_REFUSAL_CACHE + ": entries=" + entries);
            }
            this.refusalSlots = entries <= 1 ? entries : Integer.highestOneBit(entries - 1) << 1;
            return this;
        }

        /**
         * {@link #refusalCache(int)}, with the longest a refusal is remembered: a refusal is
         * forgotten after the smaller of its retry-after and {@code maxAge}, which bounds how long
         * a {@code reset} or {@code refund} made by another process can go unseen here, at the cost
         * of one call per key and {@code maxAge} while the key stays refused.
         *
         * @param entries the slots per limiter, 0 to turn the cache off
         * @param maxAge  the longest a refusal is remembered, from 1 ms to {@link #MAX_TIMEOUT}
         *                (default {@link #DEFAULT_REFUSAL_MAX_AGE one second})
         * @return this
         * @throws NullPointerException     if {@code maxAge} is {@code null}
         * @throws IllegalArgumentException if {@code entries} is out of range or {@code maxAge}
         *                                  is below 1 ms or above {@link #MAX_TIMEOUT}
         */
        public Builder refusalCache(int entries, Duration maxAge) {
            Objects.requireNonNull(maxAge, "maxAge");
            if (maxAge.compareTo(Duration.ofMillis(1)) < 0 || maxAge.compareTo(MAX_TIMEOUT) > 0) {
                throw new IllegalArgumentException("refusalCache maxAge must be between 1 ms and " + MAX_TIMEOUT
                        + ": maxAge=" + maxAge);
            }
            refusalCache(entries);
            this.refusalMaxAge = maxAge;
            return this;
        }

        /**
         * Whether the concurrent decisions of this process on one key go to Redis together (on by
         * default). A decision on a key with no call in flight is sent at once, as it would be
         * without coalescing; decisions on that key arriving while its call is in flight wait for
         * it and then go as one script call (up to 128 per call), which decides them one after
         * another in their order of arrival, each on the state the ones before it left: each
         * caller gets the answer its own call would have got had they come one after another. So
         * an abusive client hammering one key from many threads costs Redis one script call per
         * round trip, not one per request. Each decision keeps its own timeout, counted from its
         * own start, and a failure of the shared call is answered by each caller's failure policy;
         * a decision interrupted or timed out while it waits is left out of the batches taken after
         * that, and counts nowhere.
         *
         * <p>Applies to {@code decide}, {@code tryAcquire} and their asynchronous forms on every
         * algorithm (the token bucket, the leaky buckets, the sliding window counter and log) and
         * on composites (coalesced per key: a batch decides each request on all the limits, all or
         * nothing, as a lone call would); {@code peek}, the other operations and the reservations
         * of blocking acquires send each call alone.
         *
         * @param coalescing {@code false} to send every decision as its own call
         * @return this
         */
        public Builder coalescing(boolean coalescing) {
            this.coalescing = coalescing;
            return this;
        }

        /** @return the configured factory */
        public RedisRateLimiters build() {
            return new RedisRateLimiters(this);
        }
    }

    /**
     * This factory as a backend-neutral {@link dev.ratelimiter.RateLimiterFactory}, for a
     * {@link dev.ratelimiter.RateLimiterRegistry} or a framework integration. Without a listener
     * it makes what {@link #create} and {@link #keyed} make; {@code withListener(listener)} gives
     * one whose limiters report their decisions (a keyed one, synchronous and asynchronous: it is
     * an {@link AsyncKeyedRateLimiter} too). This factory's failure policy and
     * {@link Builder#failureListener failure listener} apply to all of them; the
     * eviction-policy warning, sent when this factory is built, reaches only the failure
     * listener.
     *
     * @return the factory, without a listener
     */
    public dev.ratelimiter.RateLimiterFactory factory() {
        return new ListenedRedisFactory(this, null);
    }

    /** @return the clock the time waited by blocking acquires is measured with */
    Ticker ticker() {
        return clock.deadlineTicker();
    }

    private static long millisCeil(Duration d) {
        long ms = d.toMillis();
        return d.minusMillis(ms).isZero() ? ms : ms + 1;
    }
}

package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-process {@link KeyedRateLimiter}: one independent lock-free limiter per key, with
 * bounded memory.
 *
 * <pre>{@code
 * LocalKeyedRateLimiter<String> perTenant = LocalKeyedRateLimiter.builder(TokenBucket.of(100, 100, Duration.ofMinutes(1)))
 *         .maxKeys(50_000)
 *         .build();
 * if (!perTenant.tryAcquire(tenantId)) {
 *     return tooManyRequests();
 * }
 * }</pre>
 *
 * <h2>Thread safety and progress</h2>
 * Thread-safe. A decision for a key already held is a {@link ConcurrentHashMap#get} plus the
 * key's own lock-free decision: no lock, no allocation for the zero-allocation algorithms. The
 * first decision for a key allocates its limiter.
 *
 * <h2>Memory: which keys are dropped, and when</h2>
 * A key whose limiter is back to its full state is indistinguishable from a key never seen, so
 * it may be dropped. Dropping never loses a decision: the sweeper first moves the key's limiter,
 * by a CAS on the same state word decisions use, from "full" to a terminal "retired" state, and
 * only then removes it from the map; a decision that meets a retired limiter consumed nothing and
 * simply looks the key up again (getting a fresh, full limiter). So an active key, one that is
 * not full, is never dropped and never loses its state.
 *
 * <p>Sweeps walk the map without a global lock (decisions never wait for them; at most one
 * sweep runs at a time, others skip) and are incremental: a cursor over the map is kept between
 * calls, and no decision examines more than {@value #CAPACITY_STEP} held keys, so no request
 * pays for the whole map (as Caffeine amortizes its maintenance). They run: on
 * {@link #cleanUp()}, which sweeps the whole map in the calling thread; on every new key, which
 * examines the next {@value #GROWTH_STEP} held keys (so the cursor passes over the whole map
 * every {@code size / }{@value #GROWTH_STEP} new keys); and when the bound is reached, where a
 * request for a new key examines up to {@value #CAPACITY_STEP} more, stopping at the first key
 * it can drop.
 *
 * <h2>When {@code maxKeys} keys are held</h2>
 * The bound is strict: at most {@code maxKeys} keys are held at any moment. When it is reached,
 * a request for a <em>new</em> key first sweeps as above; it is refused (fail closed) only when
 * that sweep freed no slot: the {@value #CAPACITY_STEP} keys it examined (all of them, in a
 * smaller map) were still active, or another thread's sweep was running.
 * {@code tryAcquire} then returns {@code false}, and {@code decide} returns a denied decision
 * whose retry-after is the time one key needs to refill completely (by then every key idle since
 * the refusal can be dropped). Keys already held keep working normally. Since successive refused
 * requests examine successive parts of the map, a droppable key is found within
 * {@code size / }{@value #CAPACITY_STEP} such requests. Size the bound for your number of
 * concurrently active keys.
 *
 * @param <K> the key type; keys must have consistent {@code equals} and {@code hashCode}
 */
public final class LocalKeyedRateLimiter<K> implements KeyedRateLimiter<K> {

    /** The default bound on the number of keys held at once. */
    public static final long DEFAULT_MAX_KEYS = 1_000_000L;

    /** Held keys a new key's insertion examines for dropping. */
    static final int GROWTH_STEP = 8;
    /** The most held keys one request for a new key examines when the bound is reached. */
    static final int CAPACITY_STEP = 1024;

    /** The limit of every key; changed only by {@link #reconfigure}, holding the sweep flag. */
    private volatile Limit limit;
    private final Ticker ticker;
    private final Sleeper sleeper;
    private final long maxKeys;
    /** Time for an empty limiter to become full again: the retry-after of a refused new key. */
    private volatile long fillNanos;
    private final ConcurrentHashMap<K, LocalLimiter> limiters = new ConcurrentHashMap<>();
    /** Keys held, maintained exactly: reserved before an insert, released by the one who removes. */
    private final AtomicLong keyCount = new AtomicLong();
    /** Held by the one thread sweeping; guards {@link #cursor} (its CAS and reset order the accesses). */
    private final AtomicBoolean sweeping = new AtomicBoolean();
    /** Where the incremental sweep goes on; used only by the thread holding {@link #sweeping}. */
    private Iterator<Map.Entry<K, LocalLimiter>> cursor;
    /** Held keys examined by sweeps, in total: lets tests check the work one call does. */
    private final AtomicLong examined = new AtomicLong();
    /** Keys dropped by sweeps, in total (for tests). */
    private final AtomicLong droppedTotal = new AtomicLong();
    /**
     * The latest ticker reading a sweep retired keys at. Written before the retirements (by the
     * one running sweep), read by whoever re-creates a dropped key after finding it absent.
     */
    private volatile long sweepMark;
    /** Told of every key a sweep drops, or {@code null} (unlistened: no cost). Set by a listened factory. */
    private final dev.ratelimiter.RateLimiterListener dropListener;
    /** The name {@link #dropListener} is told, or {@code null}. */
    private final String name;

    private LocalKeyedRateLimiter(Builder b) {
        this.dropListener = b.dropListener;
        this.name = b.name;
        this.limit = b.limit;
        this.ticker = b.ticker;
        this.sleeper = b.sleeper;
        this.maxKeys = b.maxKeys;
        this.fillNanos = Math.max(1, fillNanos(b.limit));
        this.sweepMark = ticker.read();
    }

    /**
     * @param limit the limit every key is held to
     * @return a builder, with {@value #DEFAULT_MAX_KEYS} keys at most, the system clock and sleeper
     * @throws NullPointerException if {@code limit} is {@code null}
     */
    public static Builder builder(Limit limit) {
        return new Builder(limit);
    }

    @Override
    public boolean tryAcquire(K key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        long now = ticker.read();
        while (true) {
            LocalLimiter limiter = limiters.get(key);
            if (limiter == null) {
                LocalLimiter fresh = reserveNewKey(now);
                if (fresh == null) {
                    return false;
                }
                // Decide before publishing: a published fresh limiter is full, and a sweep could
                // retire it before its first decision.
                int result = fresh.tryAcquireAt(permits, now);
                limiter = publish(key, fresh, now);
                if (limiter == null) {
                    return result == LocalLimiter.ALLOWED;
                }
            }
            int result = limiter.tryAcquireAt(permits, now);
            if (result != LocalLimiter.RETIRED) {
                return result == LocalLimiter.ALLOWED;
            }
            followRetired(key, limiter);
        }
    }

    @Override
    public Decision decide(K key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        long now = ticker.read();
        while (true) {
            LocalLimiter limiter = limiters.get(key);
            if (limiter == null) {
                LocalLimiter fresh = reserveNewKey(now);
                if (fresh == null) {
                    return refusedNewKey(permits);
                }
                Decision decision = fresh.decideAt(permits, now);
                limiter = publish(key, fresh, now);
                if (limiter == null) {
                    return decision;
                }
            }
            Decision decision = limiter.decideAt(permits, now);
            if (decision != LocalLimiter.RETIRED_DECISION) {
                return decision;
            }
            followRetired(key, limiter);
        }
    }

    @Override
    public boolean tryAcquire(K key, long permits, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        long timeoutNanos = Checks.timeoutNanos(timeout);
        if (permits > limit.maxPermits()) {
            // Never grantable, so never waited for. Deciding it on a fresh key would also loop:
            // the key, full, could be swept (retired) as soon as it is published, again and again.
            return false;
        }
        long start = ticker.read();
        long now = start;
        while (true) {
            LocalLimiter limiter = limiters.get(key);
            if (limiter == null) {
                LocalLimiter fresh = reserveNewKey(now);
                if (fresh == null) {
                    return false;
                }
                boolean granted = fresh.tryAcquireAt(permits, now) == LocalLimiter.ALLOWED;
                LocalLimiter raced = publish(key, fresh, now);
                if (raced == null && granted) {
                    return true;
                }
                // Not granted at once (the request exceeds the limit, or the clock is behind the
                // last sweep): wait on the published limiter like on any other.
                limiter = raced == null ? fresh : raced;
            }
            long left = timeoutNanos - Math.max(0, now - start);
            int result = limiter.acquireBlocking(permits, Math.max(0, left));
            if (result != LocalLimiter.RETIRED) {
                return result == LocalLimiter.ALLOWED;
            }
            followRetired(key, limiter);
            now = ticker.read();
        }
    }

    @Override
    public Limit limit() {
        return limit;
    }

    /** @return the number of keys currently held; never more than {@code maxKeys} */
    public long size() {
        return keyCount.get();
    }

    /** @return the most keys held at once */
    public long maxKeys() {
        return maxKeys;
    }

    /**
     * Drops every key whose limiter is back to its full state now. Runs in the calling thread;
     * returns at once if another sweep is running.
     */
    public void cleanUp() {
        sweep(ticker.read(), Long.MAX_VALUE, false, true);
    }

    /** @return the held keys examined by sweeps so far (for tests of the work one call does) */
    long examinedBySweeps() {
        return examined.get();
    }

    /** @return the keys dropped by sweeps so far, whoever ran them (for tests) */
    long droppedBySweeps() {
        return droppedTotal.get();
    }

    /**
     * Reserves a slot for a new key and makes its limiter, not yet published. The limiter is full
     * at every reading, as a fresh one is, unless a sweep read a later time than {@code now} (the
     * clock went back since): it then starts full at that sweep's reading, so that a key the
     * sweep dropped does not come back fuller than it was.
     *
     * @return the fresh limiter, or {@code null} if the bound is reached and no slot could be freed
     */
    private LocalLimiter reserveNewKey(long now) {
        while (true) {
            long count = keyCount.get();
            if (count >= maxKeys) {
                if (!sweepAtCapacity(now, count)) {
                    return null;
                }
                continue;
            }
            if (keyCount.compareAndSet(count, count + 1)) {
                return freshAt(now);
            }
        }
    }

    /**
     * A fresh, unpublished limiter for a key created at {@code now}: full only from the last
     * sweep's reading on when {@code now} is behind it, so a key does not come back fuller than
     * it was dropped.
     */
    private LocalLimiter freshAt(long now) {
        Limit current = limit;
        long mark = sweepMark;
        if (now - mark < 0) {
            LocalLimiter fresh = LocalRateLimiters.newLimiter(current, ticker, sleeper, mark);
            fresh.fullOnlyFromOrigin();
            return fresh;
        }
        return LocalRateLimiters.newLimiter(current, ticker, sleeper, now);
    }

    /**
     * After a decision found {@code retired} retired: puts its successor in its place if it was
     * replaced ({@link Swaps}), else drops the key.
     *
     * @return {@code true} if the key was dropped by this call
     */
    private boolean followRetired(K key, LocalLimiter retired) {
        LocalLimiter successor = retired.successor;
        if (successor != null) {
            limiters.replace(key, retired, successor);
            return false;
        }
        return removeRetired(key, retired);
    }

    /**
     * Takes the sweep flag, waiting for a sweep in progress (sweeps are bounded): the swaps of
     * {@link #reset}, {@link #refund} and {@link #reconfigure} are serialized with each other and
     * with the sweeps, so that a limiter is retired by one of them only.
     */
    private void lockSwaps() {
        while (!sweeping.compareAndSet(false, true)) {
            Thread.yield();
        }
    }

    /** With the sweep flag held: carries {@code key}'s limiter to the current limit if it has another. */
    private void upgrade(K key, LocalLimiter limiter, long now) {
        Limit current = limit;
        if (limiter.limit() != current) {
            LocalLimiter successor = Swaps.replace(limiter, current, 0, now);
            if (successor != null) {
                limiters.replace(key, limiter, successor);
            }
        }
    }

    /**
     * {@inheritDoc} A key that holds no state is answered by a fresh limiter that is not
     * published: the key stays absent.
     */
    @Override
    public Decision peek(K key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        long now = ticker.read();
        while (true) {
            LocalLimiter limiter = limiters.get(key);
            if (limiter == null) {
                return freshAt(now).decideAt(permits, now);
            }
            Decision decision = limiter.peekAt(permits, now);
            if (decision != LocalLimiter.RETIRED_DECISION) {
                return decision;
            }
            followRetired(key, limiter);
        }
    }

    @Override
    public long availablePermits(K key) {
        Objects.requireNonNull(key, "key");
        long now = ticker.read();
        while (true) {
            LocalLimiter limiter = limiters.get(key);
            if (limiter == null) {
                return freshAt(now).availableAt(now);
            }
            long available = limiter.availableAt(now);
            if (available >= 0) {
                return available;
            }
            followRetired(key, limiter);
        }
    }

    @Override
    public long drain(K key) {
        Objects.requireNonNull(key, "key");
        long now = ticker.read();
        while (true) {
            LocalLimiter limiter = limiters.get(key);
            if (limiter == null) {
                LocalLimiter fresh = reserveNewKey(now);
                if (fresh == null) {
                    return 0;
                }
                long taken = fresh.drainAt(now);
                limiter = publish(key, fresh, now);
                if (limiter == null) {
                    return taken;
                }
            }
            long taken = limiter.drainAt(now);
            if (taken >= 0) {
                return taken;
            }
            followRetired(key, limiter);
        }
    }

    /** {@inheritDoc} The key's state is dropped: its next decision finds it fresh. */
    @Override
    public void reset(K key) {
        Objects.requireNonNull(key, "key");
        lockSwaps();
        try {
            long now = ticker.read();
            LocalLimiter limiter = limiters.get(key);
            if (limiter != null) {
                Swaps.retire(limiter, now);
                removeRetired(key, limiter);
            }
        } finally {
            sweeping.set(false);
        }
    }

    @Override
    public void refund(K key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        lockSwaps();
        try {
            long now = ticker.read();
            LocalLimiter limiter = limiters.get(key);
            if (limiter != null) { // an absent key is full: nothing to give back
                LocalLimiter successor = Swaps.replace(limiter, limiter.limit(), permits, now);
                if (successor != null) {
                    limiters.replace(key, limiter, successor);
                }
            }
        } finally {
            sweeping.set(false);
        }
    }

    /**
     * {@inheritDoc} Every key present is carried to the new limit at once; a key created under
     * the old limit while this runs is carried when it is published.
     */
    @Override
    public void reconfigure(Limit limit) {
        lockSwaps();
        try {
            Checks.reconfiguration(this.limit, limit);
            this.limit = limit;
            this.fillNanos = Math.max(1, fillNanos(limit));
            long now = ticker.read();
            limiters.forEach((key, limiter) -> upgrade(key, limiter, now));
        } finally {
            sweeping.set(false);
        }
    }

    /**
     * Publishes {@code fresh} for {@code key}, whose slot {@link #reserveNewKey} reserved.
     *
     * @return {@code null} if published; else the limiter another caller published first (then
     *     {@code fresh} and whatever was decided on it are discarded and its slot released)
     */
    private LocalLimiter publish(K key, LocalLimiter fresh, long now) {
        LocalLimiter raced = limiters.putIfAbsent(key, fresh);
        if (raced != null) {
            keyCount.decrementAndGet();
            return raced;
        }
        sweep(now, GROWTH_STEP, false, false);
        if (fresh.limit() != limit) {
            // Created under a limit that a reconfiguration replaced meanwhile, which may have
            // gone over the map before this key was in it: carry it to the current limit.
            lockSwaps();
            try {
                upgrade(key, fresh, ticker.read());
            } finally {
                sweeping.set(false);
            }
        }
        return null;
    }

    /** @return {@code true} if a sweep ran and freed at least one slot */
    private boolean sweepAtCapacity(long now, long count) {
        return sweep(now, CAPACITY_STEP, true, false) > 0;
    }

    /**
     * Examines up to {@code maxEntries} held keys from the cursor (wrapping around once at most)
     * and drops those that are full.
     *
     * @param stopAtFirstDrop stop as soon as one key is dropped
     * @param wholeMap        start from the beginning and go over the whole map once
     * @return the number of keys dropped, or 0 if another sweep was running
     */
    private long sweep(long now, long maxEntries, boolean stopAtFirstDrop, boolean wholeMap) {
        if (!sweeping.compareAndSet(false, true)) {
            return 0;
        }
        try {
            if (now - sweepMark > 0) {
                sweepMark = now; // before any retirement, so a re-created key starts no earlier
            }
            Iterator<Map.Entry<K, LocalLimiter>> it = wholeMap ? null : cursor;
            boolean restarted = false;
            long dropped = 0;
            long seen = 0;
            while (seen < maxEntries) {
                if (it == null || !it.hasNext()) {
                    if (restarted || (wholeMap && it != null)) {
                        break; // once around the map is enough for one call
                    }
                    it = limiters.entrySet().iterator();
                    restarted = true;
                    if (!it.hasNext()) {
                        break;
                    }
                }
                Map.Entry<K, LocalLimiter> e = it.next();
                seen++;
                LocalLimiter limiter = e.getValue();
                if (limiter.retireIfFull(now) && followRetired(e.getKey(), limiter)) {
                    dropped++;
                    if (dropListener != null) {
                        // Only full keys are dropped; at the bound, to make room for a new key.
                        dev.ratelimiter.internal.Listeners.keyDropped(dropListener, name, e.getKey(), stopAtFirstDrop
                                ? dev.ratelimiter.RateLimiterListener.DropCause.BOUND
                                : dev.ratelimiter.RateLimiterListener.DropCause.IDLE);
                    }
                    if (stopAtFirstDrop) {
                        break;
                    }
                }
            }
            cursor = it;
            examined.addAndGet(seen);
            droppedTotal.addAndGet(dropped);
            return dropped;
        } finally {
            sweeping.set(false);
        }
    }

    /** Removes a retired limiter if it is still mapped; exactly one remover releases its slot. */
    private boolean removeRetired(K key, LocalLimiter retired) {
        if (limiters.remove(key, retired)) {
            keyCount.decrementAndGet();
            return true;
        }
        return false;
    }

    private Decision refusedNewKey(long permits) {
        if (permits > limit.maxPermits()) {
            return Decision.exceeding(permits, 0, 0, limit.maxPermits());
        }
        return Decision.denied(permits, 0, fillNanos, fillNanos, limit.maxPermits());
    }

    /** The time an empty limiter of {@code limit} needs to become full, saturated. */
    static long fillNanos(Limit limit) {
        if (limit instanceof TokenBucket tb) {
            return Math128.ceilMulDiv(tb.capacity(), tb.refillPeriodNanos(), tb.refillPermits());
        }
        if (limit instanceof LeakyBucket lb) {
            return Math128.ceilMulDiv(lb.capacity(), lb.periodNanos(), lb.permits());
        }
        SlidingWindow sw = (SlidingWindow) limit;
        return sw.mode() == SlidingWindow.Mode.LOG ? sw.windowNanos() : 2 * sw.windowNanos();
    }

    @Override
    public String toString() {
        return "LocalKeyedRateLimiter{" + limit + ", keys=" + keyCount.get() + '/' + maxKeys + '}';
    }

    /** Builds a {@link LocalKeyedRateLimiter}. Not thread-safe. */
    public static final class Builder {
        private final Limit limit;
        private long maxKeys = DEFAULT_MAX_KEYS;
        private Ticker ticker = Ticker.system();
        private Sleeper sleeper = Sleeper.system();
        private dev.ratelimiter.RateLimiterListener dropListener;
        private String name;

        private Builder(Limit limit) {
            this.limit = Objects.requireNonNull(limit, "limit");
        }

        /**
         * @param maxKeys the most keys held at once, {@code > 0}
         * @return this builder
         * @throws IllegalArgumentException if {@code maxKeys <= 0}
         */
        public Builder maxKeys(long maxKeys) {
            if (maxKeys <= 0) {
                throw new IllegalArgumentException("maxKeys must be > 0: maxKeys=" + maxKeys);
            }
            this.maxKeys = maxKeys;
            return this;
        }

        /**
         * @param ticker the clock shared by every key
         * @return this builder
         * @throws NullPointerException if {@code ticker} is {@code null}
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * @param sleeper how blocking acquires wait
         * @return this builder
         * @throws NullPointerException if {@code sleeper} is {@code null}
         */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * Sets who is told of the keys sweeps drop (for a listened factory; the listener is
         * called, guarded, by the sweeping thread, which holds the sweep meanwhile).
         *
         * @param name     the limiter's name, for the events
         * @param listener the listener
         * @return this builder
         */
        Builder dropListener(String name, dev.ratelimiter.RateLimiterListener listener) {
            this.name = Objects.requireNonNull(name, "name");
            this.dropListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Builds the keyed limiter, its key type taken from the assignment's target
         * ({@code LocalKeyedRateLimiter<String> l = builder(limit).build();}). With {@code var},
         * which has no target type, use {@link #build(Class)}.
         *
         * @param <K> the key type
         * @return the keyed limiter
         */
        public <K> LocalKeyedRateLimiter<K> build() {
            return new LocalKeyedRateLimiter<>(this);
        }

        /**
         * Builds the keyed limiter for keys of the given type:
         * {@code var perUser = builder(limit).build(String.class);}.
         *
         * @param keyType the key type, for type inference only
         * @param <K>     the key type
         * @return the keyed limiter
         * @throws NullPointerException if {@code keyType} is {@code null}
         */
        public <K> LocalKeyedRateLimiter<K> build(Class<K> keyType) {
            Objects.requireNonNull(keyType, "keyType");
            return new LocalKeyedRateLimiter<>(this);
        }
    }
}

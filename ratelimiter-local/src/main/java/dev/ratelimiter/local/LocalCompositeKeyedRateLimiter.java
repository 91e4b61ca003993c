package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/*
 * Limits per group and limits per key decided as one, in process, with the shape of the Redis
 * composite (RedisRateLimiters.composite(name, groupOf, groupLimits, keyLimits)).
 *
 * State. One CompositeCell per key (its key limits) and one per group (the group limits), each
 * in a bounded CompositeCells map. Within one cell every operation is one CAS of an immutable
 * snapshot (see CompositeCell): all-or-nothing over that cell's limits.
 *
 * The protocol across the two cells of a decision (key k of group g, request n, one reading rel):
 *   1. Read both snapshots Sk, Sg. If n exceeds the smallest capacity, or some limit of either
 *      refuses on them, answer the refusal: nothing is written (linearized at the read of the
 *      refusing cell).
 *   2. Charge the key: CAS Sk -> Sk' (Sk' = Sk with n granted at rel). On failure start again.
 *   3. Charge the group: CAS Sg -> Sg'. On a failed CAS, re-read the group (Sg) and decide the
 *      group alone again on it: if it still grants, CAS again; this is the linearization point of
 *      the grant.
 *   4. If the group now refuses, undo the key's charge by CAS Sk' -> Sk: conditional on the key
 *      still being exactly the state the charge wrote, so the undo restores exactly the state the
 *      key would have had without it. If the key changed meanwhile (another request of the same
 *      key was charged on top of Sk'), the charge is forfeited instead: later charges were
 *      computed on top of it (one may have clamped the bucket at its own reading), so subtracting
 *      it could create permits. Answer the refusal.
 *
 * Bound (proof sketch). Every limit's state changes only by charges that passed that limit's exact
 * test against the snapshot they replaced (steps 2 and 3), by the exact undo of step 4 (which
 * restores a snapshot that was the state before, hence passes every test that state passed), and by
 * reset/refund. A group limit is charged only in step 3, i.e. only by requests that are granted;
 * a key limit is charged by every granted request, plus forfeited charges of refused ones. So each
 * limit sees at least the grants of the composite that concern it, each passing its exact test:
 * for buckets, by GcraLimiter's proof, over any interval of length t the grants of one key total
 * at most min over the key's and its group's buckets of C_i + t * R_i / P_i, and the grants of a
 * group's keys at most min over its group buckets of the same (a counter keeps its own guarantee
 * likewise). No over-admission, ever.
 *
 * Exactness. With one caller at a time per key, step 4 always undoes exactly (nothing else writes
 * the key between 2 and 4), so the keyed composite decides as the sequential specification does:
 * granted iff every key limit and every group limit grants. Under concurrency on one key, two
 * departures from it, both towards refusing: between steps 2 and 4 another request of the same key
 * sees the tentative charge (and may be refused for it), and a forfeited charge stays consumed.
 * Concurrency across keys of one group has neither: the group is charged only for grants.
 *
 * Memory: keys and groups are dropped when full, as LocalKeyedRateLimiter drops its keys (see
 * CompositeCells); the key bound applies to each map. At the bound a request for a new key or group
 * for which no room can be made is refused (fail closed) with the longest fill time as retry-after.
 */
/**
 * An in-process keyed composite limiter: per key, limits shared by the key's group (for example
 * per tenant) and limits held per key (for example per user of the tenant), decided as one. Made
 * by {@link LocalRateLimiters#composite(Function, List, List)} or {@link #builder}.
 *
 * <p>A request is granted only if every group limit and every key limit grants it, and then all
 * of them consume it; refused, nothing stays consumed (see the class comment for the one exception
 * under concurrent requests of one key, which only ever refuses more). The {@link Decision}
 * reports the smallest remaining, the largest retry-after of the refusing limits, the largest
 * reset, and as limit the smallest capacity, as the Redis composite does.
 *
 * <p>Thread-safe; decisions are lock-free: one clock read, a map lookup per cell, and for a grant
 * one CAS on the key's state and one on the group's (each allocating one small snapshot). Holds
 * token buckets, leaky buckets and sliding window counters. Memory is bounded: keys and groups
 * back to full are dropped, and at most {@code maxKeys} of each are held.
 *
 * <pre>{@code
 * LocalCompositeKeyedRateLimiter<String, String> api = LocalRateLimiters.composite(
 *         user -> tenantOf(user),
 *         List.of(TokenBucket.of(1000, 1000, Duration.ofMinutes(1))),  // per tenant
 *         List.of(TokenBucket.of(10, 10, Duration.ofSeconds(1))));     // per user
 * if (!api.tryAcquire(userId)) {
 *     return tooManyRequests();
 * }
 * }</pre>
 *
 * @param <K> the key type; keys must have consistent {@code equals} and {@code hashCode}
 * @param <G> the group type; groups must have consistent {@code equals} and {@code hashCode}
 */
public final class LocalCompositeKeyedRateLimiter<K, G> implements KeyedRateLimiter<K> {

    /** The default bound on the number of keys (and, separately, groups) held at once. */
    public static final long DEFAULT_MAX_KEYS = LocalKeyedRateLimiter.DEFAULT_MAX_KEYS;

    private final Function<? super K, ? extends G> groupOf;
    private final List<Limit> groupLimits;
    private final List<Limit> keyLimits;
    /** {@code null} when there are no limits of that kind. */
    private final CompositeCells<G> groups;
    private final CompositeCells<K> keys;
    private final Ticker ticker;
    private final Sleeper sleeper;
    private final long origin;
    /** The smallest capacity of all the limits. */
    private final long max;
    /** The longest fill time: the retry-after of a request refused for want of room in a map. */
    private final long fillNanos;

    private LocalCompositeKeyedRateLimiter(Builder<K, G> b) {
        this.groupOf = b.groupOf;
        this.groupLimits = LocalCompositeLimiter.copy(b.groupLimits, "groupLimits");
        this.keyLimits = LocalCompositeLimiter.copy(b.keyLimits, "keyLimits");
        if (groupLimits.isEmpty() && keyLimits.isEmpty()) {
            throw new IllegalArgumentException("a composite needs at least one limit: groupLimits=[], keyLimits=[]");
        }
        this.groups = groupLimits.isEmpty() ? null
                : new CompositeCells<>(LocalCompositeLimiter.shape(groupLimits, "groupLimits"), b.maxKeys);
        this.keys = keyLimits.isEmpty() ? null
                : new CompositeCells<>(LocalCompositeLimiter.shape(keyLimits, "keyLimits"), b.maxKeys);
        this.ticker = b.ticker;
        this.sleeper = b.sleeper;
        this.origin = ticker.read();
        long m = Long.MAX_VALUE;
        long fill = 0;
        for (CompositeCells<?> cells : new CompositeCells<?>[] {groups, keys}) {
            if (cells != null) {
                m = Math.min(m, cells.shape().max);
                fill = Math.max(fill, cells.shape().fillNanos);
            }
        }
        this.max = m;
        this.fillNanos = fill;
    }

    /**
     * A builder of a keyed composite on the system clock with the default bound.
     *
     * @param groupOf     the group of a key; must not return {@code null}
     * @param groupLimits the limits shared by the keys of a group (may be empty)
     * @param keyLimits   the limits of each key (may be empty, not both)
     * @param <K>         the key type
     * @param <G>         the group type
     * @return the builder
     * @throws NullPointerException if an argument or a limit is {@code null}
     */
    public static <K, G> Builder<K, G> builder(Function<? super K, ? extends G> groupOf, List<Limit> groupLimits,
                                               List<Limit> keyLimits) {
        return new Builder<>(groupOf, groupLimits, keyLimits);
    }

    private G group(K key) {
        G g = groupOf.apply(key);
        if (g == null) {
            throw new NullPointerException("groupOf returned null for key " + key);
        }
        return g;
    }

    @Override
    public boolean tryAcquire(K key, long permits) {
        return decide(key, permits).isAllowed();
    }

    @Override
    public Decision decide(K key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        return decideAt(key, permits, ticker.read() - origin, true);
    }

    @Override
    public Decision peek(K key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        return decideAt(key, permits, ticker.read() - origin, false);
    }

    private static final long[] ABSENT = new long[0];

    /** @return the cell's state, the initial one if it holds no cell ({@code peek} creates none) */
    private static <T> long[] stateOf(CompositeCells<T> cells, CompositeCell cell) {
        return cell == null ? cells.shape().initial : cell.read();
    }

    private Decision decideAt(K key, long n, long rel, boolean consume) {
        G group = group(key);
        while (true) {
            CompositeCell kc = null;
            CompositeCell gc = null;
            if (keys != null) {
                kc = consume ? keys.cell(key, rel) : keys.existing(key);
                if (kc == null && consume) {
                    return refusedNewKey(n);
                }
            }
            if (groups != null) {
                gc = consume ? groups.cell(group, rel) : groups.existing(group);
                if (gc == null && consume) {
                    return refusedNewKey(n);
                }
            }
            long[] ks = keys == null ? ABSENT : stateOf(keys, kc);
            long[] gs = groups == null ? ABSENT : stateOf(groups, gc);
            if (ks == CompositeCell.RETIRED) {
                keys.removeRetired(key, kc);
                continue;
            }
            if (gs == CompositeCell.RETIRED) {
                groups.removeRetired(group, gc);
                continue;
            }
            if (n > max) {
                return Decision.exceeding(n, remaining(ks, gs, rel), reset(ks, gs, rel), max);
            }
            if (!fits(keys, ks, n, rel) || !fits(groups, gs, n, rel)) {
                return denied(ks, gs, n, rel);
            }
            long[] kn = keys == null ? ABSENT : keys.shape().charged(ks, n, rel);
            if (!consume) {
                long[] gn = groups == null ? ABSENT : groups.shape().charged(gs, n, rel);
                return Decision.allowed(n, remaining(kn, gn, rel), reset(kn, gn, rel), max);
            }
            if (kc != null && !kc.cas(ks, kn)) {
                Backoff.spin();
                continue;
            }
            // The key is charged (tentatively if there are group limits): now the group.
            while (true) {
                if (gc == null) {
                    return Decision.allowed(n, remaining(kn, gs, rel), reset(kn, gs, rel), max);
                }
                if (!groups.shape().fitsAll(gs, n, rel)) {
                    undo(kc, kn, ks);
                    return denied(ks, gs, n, rel);
                }
                long[] gn = groups.shape().charged(gs, n, rel);
                if (gc.cas(gs, gn)) {
                    return Decision.allowed(n, remaining(kn, gn, rel), reset(kn, gn, rel), max);
                }
                Backoff.spin();
                gs = gc.read();
                while (gs == CompositeCell.RETIRED) {
                    // Dropped while full: decide on the group's fresh cell.
                    groups.removeRetired(group, gc);
                    gc = groups.cell(group, rel);
                    if (gc == null) {
                        undo(kc, kn, ks);
                        return refusedNewKey(n);
                    }
                    gs = gc.read();
                }
            }
        }
    }

    /** Undoes a key's charge if nothing was written after it; else forfeits it (see the class comment). */
    private static void undo(CompositeCell kc, long[] written, long[] replaced) {
        if (kc != null) {
            kc.cas(written, replaced);
        }
    }

    private static boolean fits(CompositeCells<?> cells, long[] s, long n, long rel) {
        return cells == null || cells.shape().fitsAll(s, n, rel);
    }

    private Decision denied(long[] ks, long[] gs, long n, long rel) {
        long retry = 0;
        if (keys != null) {
            retry = keys.shape().retryAfter(ks, n, rel);
        }
        if (groups != null) {
            retry = Math.max(retry, groups.shape().retryAfter(gs, n, rel));
        }
        return Decision.denied(n, remaining(ks, gs, rel), Math.max(1, retry), reset(ks, gs, rel), max);
    }

    private long remaining(long[] ks, long[] gs, long rel) {
        long m = Long.MAX_VALUE;
        if (keys != null) {
            m = keys.shape().remaining(ks, rel);
        }
        if (groups != null) {
            m = Math.min(m, groups.shape().remaining(gs, rel));
        }
        return m;
    }

    private long reset(long[] ks, long[] gs, long rel) {
        long m = 0;
        if (keys != null) {
            m = keys.shape().reset(ks, rel);
        }
        if (groups != null) {
            m = Math.max(m, groups.shape().reset(gs, rel));
        }
        return m;
    }

    private Decision refusedNewKey(long n) {
        long retry = Math.max(1, fillNanos);
        return n > max ? Decision.exceeding(n, 0, fillNanos, max) : Decision.denied(n, 0, retry, fillNanos, max);
    }

    /** Polls: sleeps the retry-after of the latest refusing limit and decides again; reserves nothing. */
    @Override
    public boolean tryAcquire(K key, long permits, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        long timeoutNanos = Checks.timeoutNanos(timeout);
        if (permits > max) {
            return false;
        }
        long start = ticker.read();
        long now = start;
        while (true) {
            Decision d = decideAt(key, permits, now - origin, true);
            if (d.isAllowed()) {
                return true;
            }
            long left = timeoutNanos - Math.max(0, now - start);
            if (d.retryAfterNanos() > left) {
                return false;
            }
            sleeper.sleepNanos(d.retryAfterNanos());
            now = ticker.read();
        }
    }

    @Override
    public long availablePermits(K key) {
        Objects.requireNonNull(key, "key");
        return availableAt(key, ticker.read() - origin);
    }

    private long availableAt(K key, long rel) {
        G group = group(key);
        long[] ks = keys == null ? ABSENT : stateOf(keys, keys.existing(key));
        long[] gs = groups == null ? ABSENT : stateOf(groups, groups.existing(group));
        if (ks == CompositeCell.RETIRED) {
            ks = keys.shape().initial;
        }
        if (gs == CompositeCell.RETIRED) {
            gs = groups.shape().initial;
        }
        return remaining(ks, gs, rel);
    }

    /** Takes, in one all-or-nothing grant, the permits available now to {@code key} (key and group). */
    @Override
    public long drain(K key) {
        Objects.requireNonNull(key, "key");
        while (true) {
            long rel = ticker.read() - origin;
            long n = availableAt(key, rel);
            if (n == 0) {
                return 0;
            }
            if (decideAt(key, n, rel, true).isAllowed()) {
                return n;
            }
        }
    }

    /** Puts the key's own limits back to full; its group's limits are untouched (see {@link #resetGroup}). */
    @Override
    public void reset(K key) {
        Objects.requireNonNull(key, "key");
        if (keys != null) {
            CompositeCell c = keys.existing(key);
            if (c != null) {
                c.restore(); // a retired cell is full already
            }
        }
    }

    /**
     * Puts a group's shared limits back to full; its keys' own limits are untouched.
     *
     * @param group the group
     * @throws NullPointerException if {@code group} is {@code null}
     */
    public void resetGroup(G group) {
        Objects.requireNonNull(group, "group");
        if (groups != null) {
            CompositeCell c = groups.existing(group);
            if (c != null) {
                c.restore();
            }
        }
    }

    /** Gives the permits back to the key's limits and to its group's, never beyond full. */
    @Override
    public void refund(K key, long permits) {
        Objects.requireNonNull(key, "key");
        Checks.requested(permits);
        long rel = ticker.read() - origin;
        if (keys != null) {
            refund(keys.existing(key), keys.shape(), permits, rel);
        }
        if (groups != null) {
            refund(groups.existing(group(key)), groups.shape(), permits, rel);
        }
    }

    private static void refund(CompositeCell c, CompositeCell.Shape shape, long n, long rel) {
        if (c == null) {
            return; // absent: full already
        }
        while (true) {
            long[] s = c.read();
            if (s == CompositeCell.RETIRED || c.cas(s, shape.refunded(s, n, rel))) {
                return;
            }
            Backoff.spin();
        }
    }

    /**
     * Not supported: a composite has several limits; build a new composite instead.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void reconfigure(Limit limit) {
        throw new UnsupportedOperationException("a local composite cannot be reconfigured (groupLimits="
                + groupLimits + ", keyLimits=" + keyLimits + "): build a new composite with the new limits");
    }

    /** @return the first limit given (a group limit if any): a composite has several */
    @Override
    public Limit limit() {
        return groupLimits.isEmpty() ? keyLimits.get(0) : groupLimits.get(0);
    }

    /** @return the limits shared by the keys of a group, in the order given */
    public List<Limit> groupLimits() {
        return groupLimits;
    }

    /** @return the limits of each key, in the order given */
    public List<Limit> keyLimits() {
        return keyLimits;
    }

    /** @return the number of keys whose state is held (not full, or not yet dropped) */
    public long size() {
        return keys == null ? 0 : keys.size();
    }

    /** Drops, in the calling thread, every key and group whose limits are all full. */
    public void cleanUp() {
        long rel = ticker.read() - origin;
        if (keys != null) {
            keys.cleanUp(rel);
        }
        if (groups != null) {
            groups.cleanUp(rel);
        }
    }

    @Override
    public String toString() {
        return "LocalCompositeKeyedRateLimiter{groupLimits=" + groupLimits + ", keyLimits=" + keyLimits + '}';
    }

    /**
     * Builds a {@link LocalCompositeKeyedRateLimiter}; setters validate at once. Not thread-safe.
     *
     * @param <K> the key type
     * @param <G> the group type
     */
    public static final class Builder<K, G> {
        private final Function<? super K, ? extends G> groupOf;
        private final List<Limit> groupLimits;
        private final List<Limit> keyLimits;
        private long maxKeys = DEFAULT_MAX_KEYS;
        private Ticker ticker = Ticker.system();
        private Sleeper sleeper = Sleeper.system();

        private Builder(Function<? super K, ? extends G> groupOf, List<Limit> groupLimits, List<Limit> keyLimits) {
            this.groupOf = Objects.requireNonNull(groupOf, "groupOf");
            this.groupLimits = LocalCompositeLimiter.copy(groupLimits, "groupLimits");
            this.keyLimits = LocalCompositeLimiter.copy(keyLimits, "keyLimits");
        }

        /**
         * @param maxKeys the most keys (and, separately, groups) held at once, {@code > 0}
         * @return this builder
         * @throws IllegalArgumentException if {@code maxKeys <= 0}
         */
        public Builder<K, G> maxKeys(long maxKeys) {
            if (maxKeys <= 0) {
                throw new IllegalArgumentException("maxKeys must be > 0: maxKeys=" + maxKeys);
            }
            this.maxKeys = maxKeys;
            return this;
        }

        /**
         * @param ticker the clock
         * @return this builder
         * @throws NullPointerException if {@code ticker} is {@code null}
         */
        public Builder<K, G> ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * @param sleeper how blocking acquires wait
         * @return this builder
         * @throws NullPointerException if {@code sleeper} is {@code null}
         */
        public Builder<K, G> sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * @return the keyed composite, every key and group starting full
         * @throws IllegalArgumentException if both lists are empty, or a limit is a sliding window log
         */
        public LocalCompositeKeyedRateLimiter<K, G> build() {
            return new LocalCompositeKeyedRateLimiter<>(this);
        }
    }
}

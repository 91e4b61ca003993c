package dev.ratelimiter.redis;

import java.util.concurrent.atomic.AtomicReferenceArray;

/*
 * Refusals Redis gave, remembered so that a tryAcquire whose answer is already known costs no
 * round trip.
 *
 * Why a remembered refusal is exact. Redis refused n permits on a key at the script's clock
 * reading t, with retry-after r: the request conforms at t + r and not before, on the state the
 * script saw. Until then, the state can only move further from granting n (or more) permits:
 * time passing is what r already accounts for, and every other decision, from any process, only
 * consumes. So for m >= n permits, at any reading in [t, t + r), Redis would refuse again. Only
 * writes that give permits back break this: a reset, a refund, a reconfiguration to a larger
 * limit. Those made through this limiter drop every remembered refusal (the epoch below); those
 * made by another process are not seen here, so a refusal is remembered for the smaller of r and
 * a maximum age (one second by default): the effect of another process's refund or reset on this
 * one is delayed by at most that. Nothing is ever granted from memory: the cache only refuses, so
 * it cannot over-admit.
 *
 * The reading the entry is dated with: with client time, the very reading sent with the call, in
 * the scripts' units, so the cache refuses exactly when the script would; with Redis time, the
 * local monotonic clock read before the call was sent, which is no later than the script's
 * reading: the remembered refusal ends no later than Redis's own, as long as Redis's clock keeps
 * pace with the local one (a Redis clock stepped forward is not seen: at most the maximum age).
 *
 * Bounded memory: a fixed table of `size` slots (a power of two), the key's hash picking the slot;
 * a new refusal replaces whatever the slot held. Expired entries are left in place: they refuse
 * nothing and are overwritten by the next refusal hashed there. Entries are immutable and
 * published by a volatile array write, so a reader sees a whole entry or the previous one.
 *
 * Races. A refusal given before a reset of this limiter but stored after it would outlive the
 * reset; the epoch prevents it: each entry carries the epoch read before its call was sent, and
 * an entry of an older epoch refuses nothing. A reset or refund increments the epoch (atomically)
 * once its own call is over, answered or not, so every call that overlapped it is dated with an
 * older epoch, and a call dated with the new one was sent after the write had run in Redis.
 */
/** The refusals of one limiter's keys, remembered until their retry-after; see above. Thread-safe. */
final class RefusalCache {

    /** One remembered refusal. Immutable. */
    static final class Entry {
        final String key;
        final long permits;
        /**
         * The first reading (units with client time, nanoseconds with Redis time) at which it is
         * no longer used: the refusal's retry-after, or its maximum age if sooner.
         */
        final long until;
        /** The reading at which the refused permits conform: the call's reading plus its retry-after. */
        final long retryAt;
        /** The reading at which the limit is full again, as the refusal reported it. */
        final long resetAt;
        /** The permits the refusal reported remaining. */
        final long remaining;
        final long epoch;

        Entry(String key, long permits, long until, long retryAt, long resetAt, long remaining, long epoch) {
            this.key = key;
            this.permits = permits;
            this.until = until;
            this.retryAt = retryAt;
            this.resetAt = resetAt;
            this.remaining = remaining;
            this.epoch = epoch;
        }
    }

    private final AtomicReferenceArray<Entry> slots;
    private final int mask;
    /** Incremented by every reset and refund of this limiter: older entries refuse nothing. */
    private volatile long epoch;

    /** @param size the number of slots, a power of two */
    RefusalCache(int size) {
        if (size <= 0 || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("size must be a positive power of two: size=" + size);
        }
        this.slots = new AtomicReferenceArray<>(size);
        this.mask = size - 1;
    }

    private int slot(String key) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & mask;
    }

    /** @return the epoch to date a call's refusal with; read before the call is sent */
    long epoch() {
        return epoch;
    }

    /**
     * @param key     the key
     * @param permits the permits asked for
     * @param now     the current reading, on the clock the entries are dated with
     * @return whether Redis is known to refuse them now
     */
    boolean refuses(String key, long permits, long now) {
        Entry e = slots.get(slot(key));
        return e != null && permits >= e.permits && now - e.until < 0 && e.epoch == epoch && e.key.equals(key);
    }

    /**
     * @return the refusal of exactly one permit on {@code key} with nothing remaining, still in
     *     force at {@code now}, or {@code null}: one whose figures are known at any later reading
     *     before its retry-after (nothing remains until then; retry-after and reset count down)
     */
    Entry singlePermitRefusal(String key, long now) {
        Entry e = slots.get(slot(key));
        return e != null && e.permits == 1 && e.remaining == 0 && now - e.until < 0 && e.epoch == epoch
                && e.key.equals(key) ? e : null;
    }

    /**
     * Remembers a refusal.
     *
     * @param key     the key
     * @param permits the permits refused
     * @param until     the reading the call was dated with plus the retry-after, or its maximum age
     * @param retryAt   the reading the call was dated with plus the retry-after
     * @param resetAt   the reading the call was dated with plus the reset it reported
     * @param remaining the permits it reported remaining
     * @param epoch     {@link #epoch()} read before the call was sent
     */
    void refused(String key, long permits, long until, long retryAt, long resetAt, long remaining, long epoch) {
        slots.set(slot(key), new Entry(key, permits, until, retryAt, resetAt, remaining, epoch));
    }

    /**
     * Forgets the refusal remembered for {@code key}, if any: this limiter was just granted
     * permits on it (by a clock that stepped back behind the refusal's retry-after), so the
     * refusal's figures no longer describe the key.
     *
     * @param key the key
     */
    void granted(String key) {
        int i = slot(key);
        Entry e = slots.get(i);
        if (e != null && e.key.equals(key)) {
            slots.compareAndSet(i, e, null);
        }
    }

    /** Forgets every refusal: permits may have been given back. Called once the write's call is over. */
    void invalidate() {
        synchronized (this) {
            epoch++;
        }
    }

    /** @return the number of slots */
    int size() {
        return mask + 1;
    }
}

package dev.ratelimiter.local;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/*
 * A bounded map of CompositeCells (the keys, or the groups, of a keyed composite), dropping cells
 * whose limits are all full, as LocalKeyedRateLimiter does for its limiters (see there):
 *   - a cell is dropped only after a CAS moved it from a full state to RETIRED, so no decision is
 *     lost: a decision that meets RETIRED consumed nothing and looks the key up again;
 *   - sweeps are incremental (a cursor kept between calls), one at a time (others skip), never
 *     under a lock decisions wait for: each new key examines GROWTH_STEP held keys, a new key at
 *     the bound up to CAPACITY_STEP, cleanUp() the whole map;
 *   - the bound is strict: at the bound, a new key that the sweep found no room for is refused
 *     (fail closed) and the caller reports it.
 * Clock readings racing a sweep: a sweep retires a cell as full at its own reading; a decision
 * whose reading is earlier might have seen debt there. So a cell created after a sweep is full
 * only from the latest swept reading on (sweepMark), and a reading before that counts as the clock
 * having gone back: a key never comes back fuller than it was dropped.
 */
/** The bounded map of cells of a keyed composite; see the comment above. Thread-safe, lock-free for decisions. */
final class CompositeCells<T> {

    /** Held keys a new key's insertion examines for dropping. */
    static final int GROWTH_STEP = 8;
    /** The most held keys one request for a new key examines when the bound is reached. */
    static final int CAPACITY_STEP = 1024;

    private final CompositeCell.Shape shape;
    private final long maxKeys;
    private final ConcurrentHashMap<T, CompositeCell> cells = new ConcurrentHashMap<>();
    private final AtomicLong count = new AtomicLong();
    private final AtomicBoolean sweeping = new AtomicBoolean();
    /** Guarded by {@link #sweeping}. */
    private Iterator<Map.Entry<T, CompositeCell>> cursor;
    /** The latest relative reading a sweep retired cells at, or {@link CompositePart#FULL_F}. */
    private volatile long sweepMark = CompositePart.FULL_F;

    CompositeCells(CompositeCell.Shape shape, long maxKeys) {
        this.shape = shape;
        this.maxKeys = maxKeys;
    }

    CompositeCell.Shape shape() {
        return shape;
    }

    /** @return the cell held for {@code key}, or {@code null} */
    CompositeCell existing(T key) {
        return cells.get(key);
    }

    /**
     * @return the cell of {@code key}, created if absent; {@code null} if the bound is reached
     *     and no room could be made
     */
    CompositeCell cell(T key, long rel) {
        CompositeCell c = cells.get(key);
        if (c != null) {
            return c;
        }
        long n = count.incrementAndGet();
        if (n > maxKeys) {
            if (!sweep(rel, CAPACITY_STEP, true, false)) {
                count.decrementAndGet();
                c = cells.get(key); // another thread may have created it meanwhile
                return c;
            }
        } else {
            sweep(rel, GROWTH_STEP, false, false);
        }
        CompositeCell fresh = fresh();
        CompositeCell won = cells.putIfAbsent(key, fresh);
        if (won != null) {
            count.decrementAndGet();
            return won;
        }
        return fresh;
    }

    private CompositeCell fresh() {
        long mark = sweepMark;
        CompositeCell c = new CompositeCell(shape);
        if (mark != CompositePart.FULL_F) {
            long[] s = shape.initial.clone();
            for (CompositePart p : shape.parts) {
                p.initFullFrom(s, mark); // full only from the mark on
            }
            c.cas(shape.initial, s); // not yet published: cannot fail
        }
        return c;
    }

    /** Removes the cell of {@code key} if it is still {@code retired}. */
    void removeRetired(T key, CompositeCell retired) {
        if (cells.remove(key, retired)) {
            count.decrementAndGet();
        }
    }

    /** @return the number of keys held */
    long size() {
        return cells.size();
    }

    /** Sweeps the whole map in the calling thread (skipped if another sweep runs). */
    void cleanUp(long rel) {
        sweep(rel, Long.MAX_VALUE, false, true);
    }

    /**
     * Examines up to {@code maxEntries} held keys from the cursor, dropping those whose cell is full.
     *
     * @return whether at least one key was dropped
     */
    private boolean sweep(long rel, long maxEntries, boolean stopAtFirstDrop, boolean wholeMap) {
        if (!sweeping.compareAndSet(false, true)) {
            return false;
        }
        boolean dropped = false;
        try {
            if (sweepMark == CompositePart.FULL_F || rel - sweepMark > 0) {
                sweepMark = rel;
            }
            if (wholeMap || cursor == null) {
                cursor = cells.entrySet().iterator();
            }
            for (long i = 0; i < maxEntries; i++) {
                if (!cursor.hasNext()) {
                    if (wholeMap) {
                        break;
                    }
                    cursor = cells.entrySet().iterator();
                    if (!cursor.hasNext()) {
                        break;
                    }
                }
                Map.Entry<T, CompositeCell> e = cursor.next();
                CompositeCell c = e.getValue();
                if (c.retireIfFull(rel)) {
                    removeRetired(e.getKey(), c);
                    dropped = true;
                    if (stopAtFirstDrop) {
                        break;
                    }
                }
            }
        } finally {
            sweeping.set(false);
        }
        return dropped;
    }
}

package dev.ratelimiter.local;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/*
 * The state of several limits behind one reference, replaced only by CAS: the building block of
 * the local composites.
 *
 * State. One volatile reference to a long[] holding every part's words (one or two per part, at
 * the part's offset). An array, once published, is never written again: a decision reads
 * the reference once and decides every part on the same array, so it sees one consistent state
 * of all the limits. A grant builds a new array (the next state, a pure function of the array it
 * read, the relative time and the request) and publishes it with one compareAndSet; a refusal
 * writes nothing. Hence a grant is decided and applied by all the parts at one linearization
 * point, the successful CAS, and a refusal at its read of the reference: all-or-nothing,
 * linearizable, and exact (no permit held back or handed out by the protocol itself).
 *
 * Sentinel: RETIRED, compared by identity, terminal, set by retireIfFull only from a full state
 * (a keyed owner then drops the cell; a decision that meets it consumed nothing and looks again).
 *
 * Memory ordering and progress. The reference is read with volatile semantics and written by
 * VarHandle.compareAndSet; the array's elements are written before the CAS that publishes it, so
 * every reader that reads the reference sees them. A CAS fails only because another one
 * succeeded: lock-free, no livelock; a failed CAS spins briefly (Backoff) before re-reading, as
 * the single limiters do. Cost: a grant allocates one array of 16 + 8 bytes per word (32 bytes
 * for two buckets whose permits cost whole nanoseconds); a refusal allocates nothing.
 */
/**
 * Several limits' state behind one CAS; see the comment above. Thread-safe, lock-free. Extended
 * by {@link LocalCompositeLimiter}, which is its own cell (one dependent load less per decision),
 * except for two one-word buckets, whose state it keeps in a {@link PairEpoch}.
 */
class CompositeCell {

    /** The state of a retired cell; compared by identity. */
    static final long[] RETIRED = new long[0];

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CompositeCell.class, "state", long[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The shape shared by every cell of one kind: the parts and their sizes. */
    static final class Shape {
        final CompositePart[] parts;
        final int words;
        /** The most permits one request can be granted: the smallest capacity. */
        final long max;
        /** The longest time from empty to full among the parts, ns. */
        final long fillNanos;
        /** The state every fresh cell starts in (shared: never written). */
        final long[] initial;

        Shape(List<CompositePart> parts) {
            this.parts = parts.toArray(new CompositePart[0]);
            int w = 0;
            for (CompositePart p : this.parts) {
                w += p.words;
            }
            this.words = w;
            long m = Long.MAX_VALUE;
            long fill = 0;
            for (CompositePart p : this.parts) {
                m = Math.min(m, p.capacity);
                fill = Math.max(fill, p.fillNanos);
            }
            this.max = m;
            this.fillNanos = fill;
            this.initial = new long[words];
            for (CompositePart p : this.parts) {
                p.init(initial);
            }
        }

        /** Whether every part grants {@code n <= max} permits at {@code rel} on {@code s}. */
        boolean fitsAll(long[] s, long n, long rel) {
            for (CompositePart p : parts) {
                if (!p.fits(s, n, rel)) {
                    return false;
                }
            }
            return true;
        }

        /** The state after granting {@code n} at {@code rel} on {@code s}, a new array. */
        long[] charged(long[] s, long n, long rel) {
            long[] next = new long[words];
            for (CompositePart p : parts) {
                p.charge(s, next, n, rel);
            }
            return next;
        }

        /** The state after giving back {@code n} at {@code rel} on {@code s}, a new array. */
        long[] refunded(long[] s, long n, long rel) {
            long[] next = new long[words];
            for (CompositePart p : parts) {
                p.refund(s, next, n, rel);
            }
            return next;
        }

        /** The smallest remaining of the parts. */
        long remaining(long[] s, long rel) {
            long m = Long.MAX_VALUE;
            for (CompositePart p : parts) {
                m = Math.min(m, p.remaining(s, rel));
            }
            return m;
        }

        /** The largest reset of the parts. */
        long reset(long[] s, long rel) {
            long m = 0;
            for (CompositePart p : parts) {
                m = Math.max(m, p.reset(s, rel));
            }
            return m;
        }

        /** The largest retry-after of the parts refusing {@code n <= max}; 0 if none refuses. */
        long retryAfter(long[] s, long n, long rel) {
            long m = 0;
            for (CompositePart p : parts) {
                if (!p.fits(s, n, rel)) {
                    m = Math.max(m, p.retryAfter(s, n, rel));
                }
            }
            return m;
        }

        /** Whether every part is full. */
        boolean isFull(long[] s, long rel) {
            for (CompositePart p : parts) {
                if (!p.isFull(s, rel)) {
                    return false;
                }
            }
            return true;
        }
    }

    final Shape shape;
    private volatile long[] state;

    CompositeCell(Shape shape) {
        this.shape = shape;
        this.state = shape.initial;
    }

    /** @return the current state, or {@link #RETIRED} */
    final long[] read() {
        return state;
    }

    /** Replaces {@code expected} by {@code next}; {@code true} if it was still the state. */
    final boolean cas(long[] expected, long[] next) {
        return STATE.compareAndSet(this, expected, next);
    }

    /**
     * Puts the cell back in its initial state unless it is retired.
     *
     * @return {@code false} if the cell was retired (nothing written)
     */
    final boolean restore() {
        while (true) {
            long[] s = state;
            if (s == RETIRED) {
                return false;
            }
            if (s == shape.initial || cas(s, shape.initial)) {
                return true;
            }
        }
    }

    /**
     * Moves the cell to {@link #RETIRED} if every part is full at {@code rel}.
     *
     * @return {@code true} if retired by this call or before
     */
    final boolean retireIfFull(long rel) {
        while (true) {
            long[] s = state;
            if (s == RETIRED) {
                return true;
            }
            if (!shape.isFull(s, rel)) {
                return false;
            }
            if (cas(s, RETIRED)) {
                return true;
            }
        }
    }
}

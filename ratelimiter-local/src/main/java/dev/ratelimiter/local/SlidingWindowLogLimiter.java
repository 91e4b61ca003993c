package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.Ticker;
import java.util.Objects;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The exact sliding window log: never more than {@code L} permits granted in any half-open
 * interval {@code (t - W, t]}. Lock-free.
 *
 * <h2>Data structure</h2>
 * A singly linked, append-only FIFO of immutable entries {@code {final time, final cumulative,
 * volatile next}}, one per granted request, where {@code cumulative} is the total of permits
 * granted up to and including that entry. {@code head} is the newest entry known to have left
 * the window (initially a sentinel): its {@code cumulative} counts everything expired, so the
 * permits in the window are {@code last.cumulative - head.cumulative}, whatever the number of
 * entries. {@code tail} is a hint to the last entry that may lag (as in the Michael-Scott
 * queue); the real last entry is found by following {@code next} to {@code null}.
 *
 * <h2>A decision at time {@code now}</h2>
 * <ol>
 *   <li>Read {@code head} ({@code h}), then find the last entry {@code t}.
 *   <li>The effective time is {@code now' = max(now, t.time, h.time + W)}: no decision is taken
 *       at a time earlier than one already acted on, so a clock that steps back (or a thread
 *       whose reading is older than another's) never sees expired permits come back.
 *   <li>Find {@code x}, the last entry with {@code time <= now' - W} at or after {@code h}
 *       (never past {@code t}): a read only.
 *   <li>{@code live = t.cumulative - x.cumulative}. Grant iff {@code live + n <= L}, by CAS of
 *       {@code t.next} from {@code null} to a new entry {@code {now', t.cumulative + n}}; on
 *       failure start again. Then point {@code tail} at it and CAS {@code head} from {@code h} to
 *       {@code x} (forward only; losing the race is harmless). A refusal, an oversized request
 *       included, writes nothing at all: it cannot move the time a later, earlier reading is
 *       judged at.
 * </ol>
 *
 * <p><b>Invariant</b>: entry times never decrease along the list, and every entry at or before
 * {@code head} has {@code time + W <=} the time of every entry appended later. Hence the permits
 * of a new entry's window {@code (now' - W, now']} are all after the head its appender used, and
 * number at most {@code live + n <= L}: no interval of length {@code W} ever holds more than
 * {@code L} (by induction over appends, since the heaviest interval ends at an entry's time).
 * With a clock that does not go back, {@code now' = now} and the log is exact: a request is
 * refused only if granting it would put more than {@code L} permits in {@code (now - W, now]}.
 *
 * <p><b>Clock going backwards</b>: the log remembers the times it granted at (entry times, and
 * through {@code head} the expiries those grants applied), never a bare reading: a refusal
 * leaves no trace. So a reading behind the log's times is judged at those times and sees no permit
 * come back; a reading behind an earlier reading that changed nothing is judged at its own time.
 *
 * <p><b>Linearization points</b>: a grant at its successful CAS of {@code t.next}; a refusal at
 * its read of {@code t.next == null} while finding {@code t} (later appends only add permits, and
 * {@code head} only removes permits that had expired by a time the refusal also used); a
 * retirement at its CAS of {@code t.next} to the {@code RETIRED} sentinel.
 *
 * <p><b>Memory ordering</b>: an entry's {@code time} and {@code cumulative} are final and it is
 * published by a volatile CAS of its predecessor's {@code next}, so every reader that reaches it
 * sees them. {@code head} and {@code tail} are volatile. {@code head} only moves forward along
 * {@code next} (by CAS). {@code tail} is only a hint, written with a release store and no CAS
 * (one atomic instruction less per grant): two racing stores may leave it on an earlier entry,
 * from which the end is still reachable, so a stale {@code tail} only lengthens the next walk
 * (which swings it forward again). A stale {@code head} only makes
 * a decision count entries that have expired (a refusal that is conservative, never a wrong
 * grant), and the reader advances it itself. A failed append CAS is followed by a short spin
 * ({@link Backoff}) that lets the winning thread keep the cache lines of the tail.
 *
 * <p><b>Memory and allocation</b>: one entry (two {@code long}s and a reference, 32 bytes with
 * compressed references) per granted request, reachable only while it is in the window or
 * between a lagging {@code tail} hint and the end; at most {@code L} entries are in the window,
 * and in practice as many as the requests granted in the last {@code W}. Refusals allocate
 * nothing but the {@link Decision} of {@link #decide}.
 *
 * <p><b>Retirement</b> (keyed owners only): when nothing is in the window, {@code t.next} is
 * CASed from {@code null} to the shared {@code RETIRED} sentinel; no entry can be appended after
 * it, and every decision that reaches it answers {@link LocalLimiter#RETIRED}.
 *
 * <p><b>Cumulative wrap-around</b>: {@code cumulative} grows forever and may wrap after
 * {@code 2^63} permits (possible with {@code L} near {@code Long.MAX_VALUE / 2}); only
 * differences of entries in or near the window are used, and those are at most {@code 2L}, so
 * two's-complement differences stay exact.
 */
final class SlidingWindowLogLimiter extends SlidingWindowLimiter {

    private static final VarHandle HEAD;
    private static final VarHandle TAIL;
    private static final VarHandle NEXT;

    /** Appended in place of an entry by {@link #retireIfFull}; compared by identity. */
    private static final Node RETIRED_NODE = new Node(Long.MAX_VALUE, 0);

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(SlidingWindowLogLimiter.class, "head", Node.class);
            TAIL = lookup.findVarHandle(SlidingWindowLogLimiter.class, "tail", Node.class);
            NEXT = lookup.findVarHandle(Node.class, "next", Node.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One granted request. */
    static final class Node {
        /** When it was granted, in nanoseconds since construction; never decreases along the list. */
        final long time;
        /** The permits granted up to and including this request (wrapping). */
        final long cumulative;
        /** The next granted request; set once, from {@code null}. */
        volatile Node next;

        Node(long time, long cumulative) {
            this.time = time;
            this.cumulative = cumulative;
        }
    }

    /** The newest entry known to be out of the window; only moves forward. */
    private volatile Node head;
    /** A hint to the last entry; may lag; only moves forward. */
    private volatile Node tail;
    /**
     * Where a walk over expired entries may start: an entry at or after {@code head} known to be
     * out of the window at time {@code hint.time}. Refusals, which do not move {@code head}, leave
     * it after a long walk, so that repeated refusals do not walk the same expired entries again.
     * Only a hint: it changes no decision (a decision uses it only if its own effective time is at
     * least {@code hint.time}, where the entry is expired for it too), and races are benign.
     */
    private volatile ScanHint hint;

    /** An entry known to have left the window at {@code time}. */
    private static final class ScanHint {
        final Node node;
        final long time;

        ScanHint(Node node, long time) {
            this.node = node;
            this.time = time;
        }
    }

    /** Entries a walk passes before it leaves a {@link ScanHint}. */
    private static final int HINT_AFTER = 64;

    SlidingWindowLogLimiter(SlidingWindow limit, Ticker ticker, Sleeper sleeper) {
        this(limit, ticker, sleeper, Objects.requireNonNull(ticker, "ticker").read());
    }

    /** A limiter whose time starts at ticker reading {@code origin}. */
    SlidingWindowLogLimiter(SlidingWindow limit, Ticker ticker, Sleeper sleeper, long origin) {
        super(limit, ticker, sleeper, origin);
        Node sentinel = new Node(Long.MIN_VALUE, 0);
        this.head = sentinel;
        this.tail = sentinel;
    }

    @Override
    int tryAcquireAt(long permits, long now) {
        if (permits > max) {
            return last() == RETIRED_NODE ? RETIRED : DENIED;
        }
        long time = elapsed(now);
        while (true) {
            Node h = head;
            Node t = last();
            if (t == RETIRED_NODE) {
                return RETIRED;
            }
            long effective = effectiveTime(time, h, t);
            Node expired = expiredUpTo(h, t, effective);
            long live = t.cumulative - expired.cumulative;
            if (live + permits > max) {
                return DENIED;
            }
            Node entry = new Node(effective, t.cumulative + permits);
            if (NEXT.compareAndSet(t, (Node) null, entry)) {
                TAIL.setRelease(this, entry);
                moveHead(h, expired);
                return ALLOWED;
            }
            Backoff.spin();
        }
    }

    @Override
    Decision decideAt(long permits, long now) {
        long time = elapsed(now);
        while (true) {
            Node h = head;
            Node t = last();
            if (t == RETIRED_NODE) {
                return RETIRED_DECISION;
            }
            long effective = effectiveTime(time, h, t);
            Node expired = expiredUpTo(h, t, effective);
            long live = t.cumulative - expired.cumulative;
            long reset = live == 0 ? 0 : untilExpiry(t, time);
            if (permits > max) {
                return Decision.exceeding(permits, Math.max(0, max - live), reset, max);
            }
            if (live + permits > max) {
                return Decision.denied(permits, Math.max(0, max - live),
                        retryAfterNanos(expired, live, permits, time), reset, max);
            }
            Node entry = new Node(effective, t.cumulative + permits);
            if (NEXT.compareAndSet(t, (Node) null, entry)) {
                TAIL.setRelease(this, entry);
                moveHead(h, expired);
                return Decision.allowed(permits, max - (live + permits), untilExpiry(entry, time), max);
            }
            Backoff.spin();
        }
    }

    @Override
    boolean retireIfFull(long now) {
        long time = elapsed(now);
        while (true) {
            Node h = head;
            Node t = last();
            if (t == RETIRED_NODE) {
                return true;
            }
            h = expiredUpTo(h, t, effectiveTime(time, h, t));
            if (t.cumulative != h.cumulative) {
                return false;
            }
            if (NEXT.compareAndSet(t, (Node) null, RETIRED_NODE)) {
                return true;
            }
            // Someone appended (or retired) meanwhile: look again.
        }
    }

    /** A consistent view: the newest expired entry, the last entry, the effective time. */
    private static final class Snapshot {
        final Node expired;
        final Node last;
        final long effective;

        Snapshot(Node expired, Node last, long effective) {
            this.expired = expired;
            this.last = last;
            this.effective = effective;
        }
    }

    @Override
    Object snapshot(long now) {
        Node h = head;
        Node t = last();
        if (t == RETIRED_NODE) {
            return null;
        }
        long effective = effectiveTime(elapsed(now), h, t);
        return new Snapshot(expiredUpTo(h, t, effective), t, effective);
    }

    /** Retires by the CAS of the last entry's {@code next} a grant would make: the log is then frozen. */
    @Override
    boolean retireFrom(Object snapshot) {
        return NEXT.compareAndSet(((Snapshot) snapshot).last, (Node) null, RETIRED_NODE);
    }

    /**
     * A log holding the grants of the snapshot still in its window (those after
     * {@code expired}, up to {@code last}), less the newest {@code refund} permits; its head is
     * an entry at the old head's time (at most the effective time less the new window), so that
     * it takes no decision earlier than this one did.
     */
    @Override
    LocalLimiter successorFrom(Object snapshot, dev.ratelimiter.Limit next, long refund, long now) {
        Snapshot snap = (Snapshot) snapshot;
        SlidingWindow window = (SlidingWindow) next;
        SlidingWindowLogLimiter copy = new SlidingWindowLogLimiter(window, ticker, sleeper, origin);
        Node x = snap.expired;
        long keep = Math.max(0, (snap.last.cumulative - x.cumulative) - refund);
        long headTime = Math.min(x.time, Math128.saturatedSubtract(snap.effective, window.windowNanos()));
        Node sentinel = new Node(headTime, x.cumulative);
        Node tail = sentinel;
        Node p = x;
        while (p != snap.last) {
            p = p.next;
            long upTo = p.cumulative - x.cumulative;
            Node entry = new Node(p.time, x.cumulative + Math.min(upTo, keep));
            if (entry.cumulative != tail.cumulative) {
                tail.next = entry;
                tail = entry;
            }
            if (upTo >= keep) {
                break;
            }
        }
        copy.head = sentinel;
        copy.tail = tail;
        return copy;
    }

    /** @return {@code max(time, t.time, h.time + W)}: never earlier than a time already acted on */
    private long effectiveTime(long time, Node h, Node t) {
        return Math.max(Math.max(time, t.time), Math128.saturatedAdd(h.time, windowNanos));
    }

    /**
     * Finds the last entry by following {@code next} from the {@code tail} hint, and swings the
     * hint forward.
     *
     * @return the last entry, or {@code RETIRED_NODE} if the limiter is retired
     */
    private Node last() {
        Node hint = tail;
        Node p = hint;
        while (true) {
            Node q = p.next;
            if (q == null) {
                break;
            }
            if (q == RETIRED_NODE) {
                return RETIRED_NODE;
            }
            p = q;
        }
        if (p != hint) {
            TAIL.setRelease(this, p);
        }
        return p;
    }

    /**
     * Finds the last entry that has left the window at {@code effective}, stopping at {@code t};
     * a read only.
     *
     * @param h         the head as read, before {@code t} was found (so {@code t} follows it)
     * @param t         the last entry
     * @param effective the effective time of the decision
     * @return the newest entry out of the window, {@code h} if none past it is
     */
    private Node expiredUpTo(Node h, Node t, long effective) {
        long horizon = Math128.saturatedSubtract(effective, windowNanos);
        Node p = h;
        ScanHint known = hint;
        // The hint's entry lies after h and at or before t (cumulative counts increase along the
        // list; their differences are exact) and left the window no later than this decision's
        // horizon: start there.
        if (known != null && effective - known.time >= 0 && known.node.cumulative - h.cumulative > 0
                && known.node.cumulative - t.cumulative <= 0) {
            p = known.node;
        }
        int walked = 0;
        while (p != t) {
            Node q = p.next;
            if (q.time > horizon) {
                break;
            }
            p = q;
            walked++;
        }
        if (walked >= HINT_AFTER) {
            hint = new ScanHint(p, effective);
        }
        return p;
    }

    /**
     * After a grant: CASes {@code head} forward from {@code h} to {@code expired}. Only grants
     * move it (a refusal writes nothing, so it cannot move the time a later, earlier reading is
     * judged at); losing this race is harmless, since the winner moved it forward from {@code h}
     * as well.
     */
    private void moveHead(Node h, Node expired) {
        if (expired != h) {
            HEAD.compareAndSet(this, h, expired);
        }
    }

    /** @return nanoseconds from {@code time} until {@code entry} leaves the window, {@code >= 1} */
    private long untilExpiry(Node entry, long time) {
        return Math.max(1, Math128.saturatedSubtract(Math128.saturatedAdd(entry.time, windowNanos), time));
    }

    /**
     * The time until enough of the oldest permits expire for {@code permits} more to fit: the
     * first entry whose expiry brings the live count down to {@code L - permits} must leave the
     * window.
     */
    private long retryAfterNanos(Node h, long live, long permits, long time) {
        long mustExpire = live + permits - max; // > 0 since refused
        Node p = h;
        while (true) {
            Node q = p.next;
            // live counts entries up to t, so the walk stops at or before t; q is never null here.
            if (q.cumulative - h.cumulative >= mustExpire) {
                return untilExpiry(q, time);
            }
            p = q;
        }
    }
}

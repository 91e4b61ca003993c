package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/*
 * Several limits decided as one, in process: one CompositeCell holding every limit's state, so
 * that a decision is one volatile read, the arithmetic of each limit on that one snapshot, and,
 * for a grant, one CAS publishing the next snapshot of all of them.
 *
 * All-or-nothing and exact. Every operation that writes (grant, drain, refund, reset) replaces
 * the whole snapshot by CAS from the snapshot it computed on; a refusal writes nothing. So the
 * limiter's history is a sequence of snapshots, each the result of one operation applied to the
 * previous one by the sequential specification: the limiter is linearizable to "a request is
 * granted iff every limit grants it at that instant, and then every limit consumes it". Nothing
 * is ever consumed and given back, so no permit is lost or created by the protocol. Each limit
 * sees exactly the grants of the composite, each passing that limit's exact test against the
 * state it replaced, so each limit keeps the guarantee of its single limiter: for a bucket
 * (GcraLimiter's proof) at most C_i + t * R_i / P_i permits over any interval of length t, so the
 * composite grants at most the smallest of those; for a counter, SlidingWindowCounterLimiter's.
 * And a request is refused only when some limit's own test fails on the current snapshot: when one
 * bucket dominates (the smallest capacity and the slowest rate), a saturating demand, single
 * threaded or concurrent, is granted exactly that bucket's bound (CompositeStressTest).
 *
 * Time going backwards: each limit's test is its single limiter's, which never creates permits
 * at an earlier reading (more debt for a bucket, the start of the window for a counter).
 *
 * The decision reports what the Redis composite (composite.lua) reports: granted, the smallest
 * remaining and the largest reset after the grant; refused, the smallest remaining and the largest
 * reset of the unchanged state and the largest retry-after of the refusing limits; a request above
 * the smallest capacity is refused as exceeding the limit, with the same figures.
 *
 * The one-permit tryAcquire on two limits that are both one-word GCRA parts (r == 1 once the rate is
 * reduced: "10 per second", "1000 per hour") skips the parts' general arithmetic: each part's
 * test is "not saturated and debt <= (C - 1) * p" (0 for a queue) and its charge
 * "max(f, rel) + p", the very figures CompositeGcraPart computes for n == 1 with q == 0. It is
 * taken for two parts (the common burst + sustained pair), unrolled, their figures in fields.
 * The same read, the same CAS: the proof above holds unchanged.
 *
 * Blocking acquires poll, as the Redis composite does: decide; if refused, sleep for the
 * retry-after (the latest among the refusing limits) and decide again, until granted or the
 * timeout cannot be met. Nothing is reserved while waiting, so an interrupt has nothing to give back.
 */
/**
 * An in-process composite limiter: several limits on one key, decided as one. Made by
 * {@link LocalRateLimiters#composite(Limit...)}. A request is granted only if every limit grants
 * it, and then every limit consumes it; refused, nothing is consumed anywhere.
 *
 * <p>Thread-safe and lock-free: one clock read, one volatile read and, for a grant, one CAS of an
 * immutable snapshot of every limit's state (one small array allocated per grant; a refused
 * {@code tryAcquire} allocates nothing). Holds token buckets, leaky buckets and sliding window
 * counters, not sliding window logs; a leaky bucket queue is waited for by polling, as in the
 * Redis composite.
 *
 * <pre>{@code
 * RateLimiter api = LocalRateLimiters.composite(
 *         TokenBucket.of(10, 10, Duration.ofSeconds(1)),
 *         TokenBucket.of(1000, 1000, Duration.ofHours(1)));
 * if (!api.tryAcquire()) {
 *     return tooManyRequests();
 * }
 * }</pre>
 */
final class LocalCompositeLimiter extends CompositeCell implements RateLimiter {

    private final List<Limit> limits;
    private final Ticker ticker;
    private final Sleeper sleeper;
    private final long origin;
    /** Whether there are exactly two parts, both one-word GCRA parts: then their one-permit figures are these. */
    private final boolean twoWords;
    private final long cost0;
    private final long cost1;
    private final long maxDebt0;
    private final long maxDebt1;

    LocalCompositeLimiter(List<Limit> limits, Ticker ticker, Sleeper sleeper) {
        super(shape(copy(limits, "limits"), "limits"));
        List<Limit> given = new ArrayList<>(shape.parts.length);
        for (CompositePart part : shape.parts) {
            given.add(part.limit);
        }
        this.limits = List.copyOf(given);
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.origin = ticker.read();
        CompositePart[] parts = shape.parts;
        this.twoWords = parts.length == 2 && oneWord(parts[0]) && oneWord(parts[1]);
        this.cost0 = twoWords ? ((CompositeGcraPart) parts[0]).oneCost() : 0;
        this.maxDebt0 = twoWords ? ((CompositeGcraPart) parts[0]).oneMaxDebt() : 0;
        this.cost1 = twoWords ? ((CompositeGcraPart) parts[1]).oneCost() : 0;
        this.maxDebt1 = twoWords ? ((CompositeGcraPart) parts[1]).oneMaxDebt() : 0;
    }

    private static boolean oneWord(CompositePart part) {
        return part instanceof CompositeGcraPart g && g.oneWord();
    }

    /** @return an immutable copy, checked: not empty, no {@code null} */
    static List<Limit> copy(List<Limit> limits, String what) {
        Objects.requireNonNull(limits, what);
        List<Limit> copy = new ArrayList<>(limits.size());
        for (int i = 0; i < limits.size(); i++) {
            Limit l = limits.get(i);
            if (l == null) {
                throw new NullPointerException(what + "[" + i + "]");
            }
            copy.add(l);
        }
        return List.copyOf(copy);
    }

    /** @return the shape of these limits; a sliding window log is refused naming its position */
    static CompositeCell.Shape shape(List<Limit> limits, String what) {
        if (limits.isEmpty()) {
            throw new IllegalArgumentException("a composite needs at least one limit: " + what + "=[]");
        }
        List<CompositePart> parts = new ArrayList<>(limits.size());
        int offset = 0;
        for (int i = 0; i < limits.size(); i++) {
            CompositePart part = CompositePart.of(limits.get(i), what + "[" + i + "]", offset);
            parts.add(part);
            offset += part.words;
        }
        return new CompositeCell.Shape(parts);
    }

    private long rel() {
        return ticker.read() - origin;
    }

    @Override
    public boolean tryAcquire(long permits) {
        if (permits == 1 && twoWords) {
            return tryAcquireTwoWords(rel());
        }
        Checks.requested(permits);
        if (permits > shape.max) {
            return false;
        }
        long rel = rel();
        while (true) {
            long[] s = read();
            if (!shape.fitsAll(s, permits, rel)) {
                return false;
            }
            if (cas(s, shape.charged(s, permits, rel))) {
                return true;
            }
            Backoff.spin();
        }
    }

    /**
     * {@link #tryAcquire(long)} of one permit on two one-word parts: the same tests and charges
     * as the parts' ({@link CompositeGcraPart#fits} and {@code charge} for n == 1, q == 0), on their
     * figures held in fields.
     */
    private boolean tryAcquireTwoWords(long rel) {
        while (true) {
            long[] s = read();
            long f0 = s[0];
            long f1 = s[1];
            if (f0 == CompositeGcraPart.SATURATED_F || (f0 > rel && Math128.saturatedSubtract(f0, rel) > maxDebt0)
                    || f1 == CompositeGcraPart.SATURATED_F || (f1 > rel && Math128.saturatedSubtract(f1, rel) > maxDebt1)) {
                return false;
            }
            long[] next = new long[2];
            next[0] = Math128.saturatedAdd(Math.max(f0, rel), cost0);
            next[1] = Math128.saturatedAdd(Math.max(f1, rel), cost1);
            if (cas(s, next)) {
                return true;
            }
            Backoff.spin();
        }
    }

    @Override
    public Decision decide(long permits) {
        Checks.requested(permits);
        return decideAt(permits, rel(), true);
    }

    @Override
    public Decision peek(long permits) {
        Checks.requested(permits);
        return decideAt(permits, rel(), false);
    }

    private Decision decideAt(long n, long rel, boolean consume) {
        while (true) {
            long[] s = read();
            if (n > shape.max) {
                return Decision.exceeding(n, shape.remaining(s, rel), shape.reset(s, rel), shape.max);
            }
            if (!shape.fitsAll(s, n, rel)) {
                return Decision.denied(n, shape.remaining(s, rel), Math.max(1, shape.retryAfter(s, n, rel)),
                        shape.reset(s, rel), shape.max);
            }
            long[] next = shape.charged(s, n, rel);
            if (!consume) {
                return Decision.allowed(n, shape.remaining(next, rel), shape.reset(next, rel), shape.max);
            }
            if (cas(s, next)) {
                return Decision.allowed(n, shape.remaining(next, rel), shape.reset(next, rel), shape.max);
            }
            Backoff.spin();
        }
    }

    /** Polls: sleeps the retry-after of the latest refusing limit and decides again; reserves nothing. */
    @Override
    public boolean tryAcquire(long permits, Duration timeout) throws InterruptedException {
        Checks.requested(permits);
        long timeoutNanos = Checks.timeoutNanos(timeout);
        if (permits > shape.max) {
            return false;
        }
        long start = ticker.read();
        long now = start;
        while (true) {
            Decision d = decideAt(permits, now - origin, true);
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
    public long availablePermits() {
        return shape.remaining(read(), rel());
    }

    @Override
    public long drain() {
        long rel = rel();
        while (true) {
            long[] s = read();
            long n = shape.remaining(s, rel);
            if (n == 0) {
                return 0;
            }
            if (cas(s, shape.charged(s, n, rel))) {
                return n;
            }
            Backoff.spin();
        }
    }

    @Override
    public void reset() {
        restore();
    }

    /** Gives the permits back to every limit at once (each as {@link RateLimiter#refund} says for its family). */
    @Override
    public void refund(long permits) {
        Checks.requested(permits);
        long rel = rel();
        while (true) {
            long[] s = read();
            if (cas(s, shape.refunded(s, permits, rel))) {
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
        throw new UnsupportedOperationException("a local composite cannot be reconfigured (it holds " + limits.size()
                + " limits, " + limits + "): build a new composite with the new limits");
    }

    /** @return the first limit given: a composite has several, see {@link #limits()} */
    @Override
    public Limit limit() {
        return limits.get(0);
    }

    /** @return every limit of this composite, in the order given */
    List<Limit> limits() {
        return limits;
    }

    @Override
    public String toString() {
        return "LocalCompositeLimiter{limits=" + limits + '}';
    }
}

package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.Checks;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
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
 * Two one-word GCRA parts (r == 1 once each rate is reduced: "10 per second and 1000 per hour",
 * the common burst + sustained pair) keep their state in a PairEpoch instead of the cell's array,
 * so that a grant allocates nothing while the two full-at times stay near the epoch's bases. The
 * logical state at any instant is decode(E, E.word) for the current epoch E (the field `pair`).
 *   - A live word read from E at t means E was current at t: E is replaced only after its word is
 *     frozen, and a frozen word stays frozen. So a decision on a live word decides on the state
 *     at its read, and a CAS of E's word (from that word, to the encoding of the next state) is
 *     the linearization point of the grant. Unlike an array's, this CAS compares values, so the
 *     word may have changed and changed back in between (a grant, then a refund): harmless, as
 *     the next state is a pure function of the state's values, which are those decided on.
 *   - A next state that does not fit E: the writer first freezes E's word by CAS (from the word it
 *     decided on: the state does not change) and then replaces E, by CAS of `pair`, by a new epoch
 *     holding the next state; that CAS is the grant's linearization point. Anyone who reads a frozen
 *     word may do the same from the frozen state, since no write to E can follow: so a frozen
 *     epoch never blocks anyone, and a CAS of `pair` fails only because another succeeded.
 *     Lock-free: a CAS of a word (a write or a freeze) fails only because another CAS of that
 *     word succeeded; every writer that reads a frozen word tries the CAS of `pair` from it, so
 *     each freeze is followed by at most one successful CAS of `pair` (an epoch is never
 *     installed twice: no ABA on the reference), which completes an operation, and a failed CAS
 *     of `pair` or a failed value check (below) means another write succeeded.
 *   - A decision on a frozen word read at t2 from E read at t1: E was current at t1 and stayed so
 *     until it was replaced, after the freeze at tf; the state was the frozen one at
 *     max(t1, tf), within [t1, t2]. So refusals and peeks linearize there.
 * The general operations (decide, peek, drain, refund, n > 1) decode the state into an array, run
 * the parts' arithmetic, and write the next state only if the current state still holds the same
 * two values (the next state is a pure function of the values, so an intervening change back to
 * them is harmless). Hence the same sequence of states as with the array, the proof above
 * unchanged. The one-permit tryAcquire is unrolled: each part's test is "not saturated and
 * debt <= (C - 1) * p" (0 for a queue) and its charge "max(f, rel) + p", the figures
 * CompositeGcraPart computes for n == 1 with q == 0, held in fields. Offsets have 31 and 32 bits
 * (2.1 and 4.3 s), the part whose permit costs more taking the 32-bit one: while both full-at
 * times stay within those of the bases a grant is one CAS of a long, and past that one epoch (40
 * bytes) is made. A full-at time moves by the clock (a busy pair: an epoch about every 2 s) and
 * by the cost of each grant in debt (a permit of "1000 per hour", 3.6 s, fits once: an epoch
 * every grant or two while that bucket is in debt, at most the 10 per second the pair grants).
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
 * {@code tryAcquire} allocates nothing). Two token or leaky buckets whose rates reduce to one permit
 * per whole number of nanoseconds (as "10 per second and 1000 per hour") keep both states in one
 * word of an epoch object instead (two dependent volatile reads): a {@code tryAcquire} then
 * allocates nothing, except a new epoch about once per two seconds of clock time under a high
 * request rate, or every grant or two while a bucket whose permit costs seconds is in debt;
 * {@code decide}, {@code peek} and {@code availablePermits} decode the word into a small array.
 * Holds token buckets, leaky buckets and sliding window
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
    /** With {@link #twoWords}: the parts, and the current epoch of their state (the array of the cell is unused). */
    private final CompositeGcraPart part0;
    private final CompositeGcraPart part1;
    private volatile PairEpoch pair;

    private static final VarHandle PAIR;

    static {
        try {
            PAIR = MethodHandles.lookup().findVarHandle(LocalCompositeLimiter.class, "pair", PairEpoch.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    LocalCompositeLimiter(List<Limit> limits, Ticker ticker, Sleeper sleeper) {
        this(limits, ticker, sleeper, true);
    }

    /**
     * @param pairWord whether two one-word GCRA parts keep their state in a {@link PairEpoch}
     *                 ({@code false}: in the cell's array, as every other shape; for tests that
     *                 compare the two)
     */
    LocalCompositeLimiter(List<Limit> limits, Ticker ticker, Sleeper sleeper, boolean pairWord) {
        super(costlierLast(shape(copy(limits, "limits"), "limits")));
        this.limits = copy(limits, "limits");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.origin = ticker.read();
        CompositePart[] parts = shape.parts;
        this.twoWords = pairWord && parts.length == 2 && oneWord(parts[0]) && oneWord(parts[1]);
        this.cost0 = twoWords ? ((CompositeGcraPart) parts[0]).oneCost() : 0;
        this.maxDebt0 = twoWords ? ((CompositeGcraPart) parts[0]).oneMaxDebt() : 0;
        this.cost1 = twoWords ? ((CompositeGcraPart) parts[1]).oneCost() : 0;
        this.maxDebt1 = twoWords ? ((CompositeGcraPart) parts[1]).oneMaxDebt() : 0;
        this.part0 = twoWords ? (CompositeGcraPart) parts[0] : null;
        this.part1 = twoWords ? (CompositeGcraPart) parts[1] : null;
        this.pair = twoWords ? new PairEpoch(shape.initial[0], shape.initial[1]) : null;
    }

    private static boolean oneWord(CompositePart part) {
        return part instanceof CompositeGcraPart g && g.oneWord();
    }

    /**
     * For two one-word parts: the shape with the part whose permit costs more second, so that it
     * has the epoch's 32-bit offset (a permit of "1000 per hour", 3.6 s, fits it once; not the
     * 31-bit one). The figures a composite reports do not depend on the order of its parts.
     */
    private static CompositeCell.Shape costlierLast(CompositeCell.Shape shape) {
        CompositePart[] parts = shape.parts;
        if (parts.length == 2 && oneWord(parts[0]) && oneWord(parts[1])
                && ((CompositeGcraPart) parts[0]).oneCost() > ((CompositeGcraPart) parts[1]).oneCost()) {
            return shape(List.of(parts[1].limit, parts[0].limit), "limits");
        }
        return shape;
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
        if (twoWords) {
            return tryAcquirePair(permits, rel);
        }
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
            PairEpoch e = pair;
            long w = e.word();
            long f0 = e.f0(w);
            long f1 = e.f1(w);
            if (f0 == CompositeGcraPart.SATURATED_F || (f0 > rel && Math128.saturatedSubtract(f0, rel) > maxDebt0)
                    || f1 == CompositeGcraPart.SATURATED_F || (f1 > rel && Math128.saturatedSubtract(f1, rel) > maxDebt1)) {
                return false;
            }
            if (writePair(e, w, Math128.saturatedAdd(Math.max(f0, rel), cost0),
                    Math128.saturatedAdd(Math.max(f1, rel), cost1))) {
                return true;
            }
            Backoff.spin();
        }
    }

    /** {@link #tryAcquire(long)} of {@code 1 < n <= max} permits on two one-word parts: their arithmetic on the decoded words. */
    private boolean tryAcquirePair(long n, long rel) {
        while (true) {
            PairEpoch e = pair;
            long w = e.word();
            long f0 = e.f0(w);
            long f1 = e.f1(w);
            if (!part0.fitsWord(f0, n, rel) || !part1.fitsWord(f1, n, rel)) {
                return false;
            }
            if (writePair(e, w, part0.chargedWord(f0, n, rel), part1.chargedWord(f1, n, rel))) {
                return true;
            }
            Backoff.spin();
        }
    }

    /**
     * Replaces the pair's state, read as word {@code w} of epoch {@code e}, by {@code (n0, n1)}: in
     * the word if they fit, else by freezing the word and installing a new epoch.
     *
     * @return {@code false} if the state had changed (nothing written by this call but, perhaps, the freeze)
     */
    private boolean writePair(PairEpoch e, long w, long n0, long n1) {
        if (w >= 0) {
            long next = e.encode(n0, n1);
            if (next >= 0) {
                return e.cas(w, next);
            }
            if (!e.cas(w, w | PairEpoch.FROZEN)) {
                return false;
            }
        }
        return PAIR.compareAndSet(this, e, new PairEpoch(n0, n1));
    }

    /** The state the general operations decide on: the cell's array, or the pair's two words decoded into a new one. */
    private long[] view() {
        if (!twoWords) {
            return read();
        }
        PairEpoch e = pair;
        long w = e.word();
        return new long[] {e.f0(w), e.f1(w)};
    }

    /** @return a copy of the state, every part's words in the order of the parts (for tests) */
    long[] state() {
        return view().clone();
    }

    /** Publishes {@code next} if the state is still the one {@code s} shows (for the pair: the same two values). */
    private boolean commit(long[] s, long[] next) {
        if (!twoWords) {
            return cas(s, next);
        }
        PairEpoch e = pair;
        long w = e.word();
        return e.f0(w) == s[0] && e.f1(w) == s[1] && writePair(e, w, next[0], next[1]);
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
            long[] s = view();
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
            if (commit(s, next)) {
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
        return shape.remaining(view(), rel());
    }

    @Override
    public long drain() {
        long rel = rel();
        while (true) {
            long[] s = view();
            long n = shape.remaining(s, rel);
            if (n == 0) {
                return 0;
            }
            if (commit(s, shape.charged(s, n, rel))) {
                return n;
            }
            Backoff.spin();
        }
    }

    @Override
    public void reset() {
        long[] initial = shape.initial;
        while (true) {
            long[] s = view();
            if (Arrays.equals(s, initial) || commit(s, initial)) {
                return;
            }
        }
    }

    /** Gives the permits back to every limit at once (each as {@link RateLimiter#refund} says for its family). */
    @Override
    public void refund(long permits) {
        Checks.requested(permits);
        long rel = rel();
        while (true) {
            long[] s = view();
            if (commit(s, shape.refunded(s, permits, rel))) {
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

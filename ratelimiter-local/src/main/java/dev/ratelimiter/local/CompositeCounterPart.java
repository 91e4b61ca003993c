package dev.ratelimiter.local;

import dev.ratelimiter.SlidingWindow;

/*
 * A sliding window counter in a composite: SlidingWindowCounterLimiter's rule and arithmetic (see
 * there for the rule, its exactness and its worst-case error), over three words of the composite's
 * state: the fixed window index w of the counts, the count of window w - 1 (previous) and of w
 * (current). Fixed windows are cut from the composite's origin.
 *
 * At relative time t, window k = floorDiv(t, W): if k > w the counts are those a rotation would
 * give (previous = current if k == w + 1, else 0; current = 0), and only a grant writes them; if
 * k <= w (the clock went back, or a stale reading) the decision is taken at the start of window w
 * (e = 0), where the previous count weighs most: no permit is created. A grant of n is
 * current + n <= L - ceil(previous * (W - e) / W), exact.
 */
/** One sliding window counter of a composite: pure functions over its three words. */
final class CompositeCounterPart extends CompositePart {

    private final long max;
    private final long window;

    CompositeCounterPart(SlidingWindow limit, int offset) {
        super(limit, limit.limit(), offset, 3, Math128.saturatedMultiply(2, limit.windowNanos()));
        this.max = limit.limit();
        this.window = limit.windowNanos();
    }

    @Override
    void init(long[] s) {
        s[offset] = 0;
        s[offset + 1] = 0;
        s[offset + 2] = 0;
    }

    @Override
    void initFullFrom(long[] s, long mark) {
        init(s); // the windows are cut from the origin: empty counts are full at every reading
    }

    /** The window index decided in at {@code t}: {@code max(k, w)}. */
    private long windowAt(long[] s, long k) {
        return Math.max(k, s[offset]);
    }

    private long previousAt(long[] s, long k) {
        long w = s[offset];
        return k <= w ? s[offset + 1] : k == w + 1 ? s[offset + 2] : 0;
    }

    private long currentAt(long[] s, long k) {
        return k <= s[offset] ? s[offset + 2] : 0;
    }

    private long k(long t) {
        return Math.floorDiv(t, window);
    }

    /** The time elapsed in the window decided in: 0 when the reading is before it. */
    private long elapsed(long t, long k, long win) {
        return k == win ? t - k * window : 0;
    }

    /** {@code L - ceil(previous * (W - e) / W)}. */
    private long budget(long previous, long e) {
        return max - Math128.ceilMulDivSmallDivisor(previous, window - e, window);
    }

    /** Where the window decided in starts, relative to {@code t}. */
    private long offsetOf(long win, long t) {
        return Math128.saturatedSubtract(Math128.saturatedMultiply(win, window), t);
    }

    @Override
    boolean isFull(long[] s, long t) {
        long k = k(t);
        return currentAt(s, k) == 0 && previousAt(s, k) == 0;
    }

    @Override
    boolean fits(long[] s, long n, long t) {
        long k = k(t);
        long win = windowAt(s, k);
        return currentAt(s, k) + n <= budget(previousAt(s, k), elapsed(t, k, win));
    }

    @Override
    void charge(long[] src, long[] dst, long n, long t) {
        long k = k(t);
        dst[offset] = windowAt(src, k);
        dst[offset + 1] = previousAt(src, k);
        dst[offset + 2] = currentAt(src, k) + n;
    }

    /** The current window's count goes down first, then the previous one's, neither below zero. */
    @Override
    void refund(long[] src, long[] dst, long n, long t) {
        long k = k(t);
        long current = currentAt(src, k);
        long previous = previousAt(src, k);
        long fromCurrent = Math.min(current, n);
        dst[offset] = windowAt(src, k);
        dst[offset + 1] = previous - Math.min(previous, n - fromCurrent);
        dst[offset + 2] = current - fromCurrent;
    }

    @Override
    long remaining(long[] s, long t) {
        long k = k(t);
        long win = windowAt(s, k);
        return Math.max(0, budget(previousAt(s, k), elapsed(t, k, win)) - currentAt(s, k));
    }

    @Override
    long reset(long[] s, long t) {
        long k = k(t);
        long win = windowAt(s, k);
        long off = offsetOf(win, t);
        long end;
        if (currentAt(s, k) > 0) {
            end = Math128.saturatedAdd(off, 2 * window);
        } else if (previousAt(s, k) > 0) {
            end = Math128.saturatedAdd(off, window);
        } else {
            return 0;
        }
        return Math.max(0, end);
    }

    @Override
    long retryAfter(long[] s, long n, long t) {
        long k = k(t);
        long win = windowAt(s, k);
        long previous = previousAt(s, k);
        long current = currentAt(s, k);
        long e = elapsed(t, k, win);
        long off = offsetOf(win, t);
        long w = window;
        // This window: need ceil(previous * (W - e') / W) <= s, i.e. W - e' <= floor(s * W / previous).
        long room = max - current - n;
        if (room >= 0 && previous > room) {
            long ePrime = Math.max(e + 1, w - Math128.floorMulDiv(room, w, previous));
            if (ePrime < w) {
                return Math.max(1, Math128.saturatedAdd(off, ePrime));
            }
        }
        // Next window: previous' = current, current' = 0; need ceil(current * (W - e'') / W) <= L - n.
        long room2 = max - n;
        long eNext = current <= room2 ? 0 : w - Math128.floorMulDiv(room2, w, current);
        return Math.max(1, Math128.saturatedAdd(off, w + eNext));
    }
}

package dev.ratelimiter.local;

import dev.ratelimiter.Limit;

/*
 * The retire protocol that replaces a limiter by another built from its state (reconfigure,
 * refund, reset), with decisions staying lock-free.
 *
 * A swap of limiter A: (1) take a snapshot s of A's state (volatile reads); (2) build B, not yet
 * published, from s; (3) write A.successor = B (volatile); (4) CAS A's state word from s to its
 * retired state. If the CAS fails, A's state changed (a decision committed), so go back to (1);
 * the next attempt overwrites A.successor before its own CAS. Swaps are serialized among
 * themselves (the front synchronizes; a keyed owner holds its sweep flag), and nothing else
 * retires a front's limiter, so the successor written before the successful CAS is the last one.
 *
 * Why no decision mixes limits and none is lost. Every decision on A commits by a CAS on the same
 * word as (4), from a state it read, or reads a state and writes nothing (a refusal). A decision
 * whose CAS precedes (4) changed the word, so (4) would fail unless s was taken after it: s, and
 * so B, includes it. A decision whose CAS would follow (4) fails (the word is retired) and, on
 * re-reading, finds A retired; it then reads A.successor, which it sees as B because the write
 * (3) happens before the CAS (4) it observed, and decides again wholly on B with the same clock
 * reading. A refusal on A linearizes at its read, before (4). So each decision is decided on
 * exactly one limit, and B's state equals A's at the instant of (4), carried by the documented
 * rules: the bound holds across the swap, since the carried state is the limiter's own.
 *
 * Progress. A decision that finds A retired moves to A.successor at once, never waits for the
 * swapper (which may be descheduled after (4)). Swaps themselves retry only when a decision
 * committed, so a swap is lock-free with respect to decisions too.
 */

/** Replaces a local limiter by one built from its state; see the protocol in the source. */
final class Swaps {

    private Swaps() {
    }

    /**
     * Retires {@code old} in favour of a limiter enforcing {@code limit} with {@code old}'s state
     * carried over, {@code refund} permits given back.
     *
     * @return the successor, or {@code null} if {@code old} was retired already
     */
    static LocalLimiter replace(LocalLimiter old, Limit limit, long refund, long now) {
        while (true) {
            Object state = old.snapshot(now);
            if (state == null) {
                return null;
            }
            LocalLimiter next = old.successorFrom(state, limit, refund, now);
            old.successor = next;
            if (old.retireFrom(state)) {
                return next;
            }
        }
    }

    /**
     * Retires {@code old} in favour of a fresh limiter of {@code limit} created at {@code now}.
     *
     * @return the successor, or {@code null} if {@code old} was retired already
     */
    static LocalLimiter replaceFresh(LocalLimiter old, Limit limit, long now) {
        LocalLimiter next = LocalRateLimiters.newLimiter(limit, old.ticker, old.sleeper, now);
        old.successor = next;
        while (true) {
            Object state = old.snapshot(now);
            if (state == null) {
                return null;
            }
            if (old.retireFrom(state)) {
                return next;
            }
        }
    }

    /**
     * Retires {@code old} with no successor (a keyed owner then drops its key).
     *
     * @return {@code true} if this call retired it
     */
    static boolean retire(LocalLimiter old, long now) {
        while (true) {
            Object state = old.snapshot(now);
            if (state == null) {
                return false;
            }
            if (old.retireFrom(state)) {
                return true;
            }
        }
    }
}

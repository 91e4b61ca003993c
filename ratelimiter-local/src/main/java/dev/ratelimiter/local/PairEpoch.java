package dev.ratelimiter.local;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * The state of a composite of two one-word GCRA parts (two full-at times f0, f1, relative ns, see
 * CompositeGcraPart) as one epoch: two bases fixed when the epoch is made and one word that holds
 * both offsets from them, so that a grant which stays near the bases is one CAS of a long and
 * allocates nothing.
 *
 * Encoding. The word's bits 32..62 hold d0 = f0 - base0 and bits 0..31 hold d1 = f1 - base1, each
 * taken as an unsigned number (0 <= d0 < 2^31, 0 <= d1 < 2^32); bit 63 is the FROZEN flag. Decoding
 * is base + d in wrapping arithmetic and encoding d = f - base in wrapping arithmetic, so every
 * pair that encodes decodes to itself, whatever the values (the sentinels FULL_F and SATURATED_F
 * included): the epoch is an exact store of the two longs, never a rounding of them. A pair
 * "fits" the epoch when both differences are in range; any pair fits a new epoch whose bases are
 * that pair (the word 0).
 *
 * Life of an epoch. Live (FROZEN clear): its word may be replaced by CAS by any pair that fits.
 * Frozen (set by CAS on a live word, never cleared): the word never changes again, and the epoch
 * is replaced as the holder's current epoch, by CAS of the holder's reference, by an epoch made
 * from the next state. The holder (LocalCompositeLimiter) replaces its epoch only from a frozen
 * one; see the proof there.
 */
/** Two full-at times as two fixed bases and one word of offsets, see the comment above. Thread-safe. */
final class PairEpoch {

    /** The word's flag of an epoch that no longer changes. */
    static final long FROZEN = Long.MIN_VALUE;

    private static final int SHIFT = 32;
    private static final long LOW = 0xFFFF_FFFFL;

    private static final VarHandle WORD;

    static {
        try {
            WORD = MethodHandles.lookup().findVarHandle(PairEpoch.class, "word", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long base0;
    private final long base1;
    /** The offsets from the bases and the FROZEN flag; 0 when made: the state (base0, base1). */
    private volatile long word;

    /** A live epoch holding the state {@code (f0, f1)}. */
    PairEpoch(long f0, long f1) {
        this.base0 = f0;
        this.base1 = f1;
    }

    /** @return the word: offsets and the FROZEN flag */
    long word() {
        return word;
    }

    /** @return the first full-at time in {@code w} (frozen or not) */
    long f0(long w) {
        return base0 + ((w & ~FROZEN) >>> SHIFT);
    }

    /** @return the second full-at time in {@code w} (frozen or not) */
    long f1(long w) {
        return base1 + (w & LOW);
    }

    /** @return the live word holding {@code (f0, f1)}, or {@code -1} if they do not fit this epoch */
    long encode(long f0, long f1) {
        long d0 = f0 - base0;
        long d1 = f1 - base1;
        if ((d0 >>> (SHIFT - 1)) != 0 || (d1 >>> SHIFT) != 0) {
            return -1;
        }
        return (d0 << SHIFT) | d1;
    }

    /** Replaces the word {@code expected} by {@code next}; {@code true} if it was still the word. */
    boolean cas(long expected, long next) {
        return WORD.compareAndSet(this, expected, next);
    }
}

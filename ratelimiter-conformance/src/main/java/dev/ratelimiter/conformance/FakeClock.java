package dev.ratelimiter.conformance;

import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A controllable clock for tests: a {@link Ticker} that only moves when told to, and a
 * {@link Sleeper} whose "sleep" advances the clock instead of waiting. Thread-safe.
 *
 * <p>It starts at an arbitrary origin (not zero) so that limiters cannot rely on the clock
 * starting at zero.
 */
public final class FakeClock implements Ticker, Sleeper {

    /** The default first reading. */
    public static final long DEFAULT_START = 1_234_567_890_123L;

    private final AtomicLong nanos;

    /** A clock reading {@link #DEFAULT_START}. */
    public FakeClock() {
        this(DEFAULT_START);
    }

    /**
     * @param startNanos the first reading
     */
    public FakeClock(long startNanos) {
        this.nanos = new AtomicLong(startNanos);
    }

    @Override
    public long read() {
        return nanos.get();
    }

    /**
     * Advances the clock (a negative amount moves it backwards).
     *
     * @param deltaNanos nanoseconds to add
     * @return the new reading
     */
    public long advance(long deltaNanos) {
        return nanos.addAndGet(deltaNanos);
    }

    /**
     * @param delta how much to advance
     * @return the new reading
     */
    public long advance(Duration delta) {
        return advance(delta.toNanos());
    }

    /**
     * @param readingNanos the new reading
     */
    public void set(long readingNanos) {
        nanos.set(readingNanos);
    }

    /** Advances the clock by {@code nanos} (when positive) instead of sleeping. */
    @Override
    public void sleepNanos(long sleepNanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (sleepNanos > 0) {
            advance(sleepNanos);
        }
    }
}

package dev.ratelimiter;

import java.util.concurrent.TimeUnit;

/**
 * Parks the calling thread for a while; used by blocking acquires. Injected next to the
 * {@link Ticker} so that tests can make a "sleep" advance a fake clock instead of waiting.
 *
 * <p>Implementations must be thread-safe and must respond to interruption by throwing
 * {@link InterruptedException}.
 */
@FunctionalInterface
public interface Sleeper {

    /**
     * Sleeps for about {@code nanos} nanoseconds. Returning early is allowed (callers re-check
     * their deadline); returning much later only delays the caller.
     *
     * @param nanos how long to sleep, in nanoseconds; zero or negative returns at once
     * @throws InterruptedException if the thread is interrupted before or while sleeping
     */
    void sleepNanos(long nanos) throws InterruptedException;

    /**
     * Returns the sleeper backed by {@link TimeUnit#sleep(long)}.
     *
     * @return the system sleeper; never {@code null}
     */
    static Sleeper system() {
        return SystemSleeper.INSTANCE;
    }
}

/** Real sleeping, via {@link TimeUnit#NANOSECONDS}. */
enum SystemSleeper implements Sleeper {
    INSTANCE;

    @Override
    public void sleepNanos(long nanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        TimeUnit.NANOSECONDS.sleep(nanos);
    }
}

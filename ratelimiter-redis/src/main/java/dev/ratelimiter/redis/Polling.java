package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;

/**
 * The blocking acquire of the limits that reserve nothing (the sliding windows, composites, and
 * a GCRA whose reservation Redis could not take): decide, sleep the retry-after, decide again,
 * within the timeout. Shared by every Redis limiter.
 */
final class Polling {

    /** One decision that may be interrupted while waiting for Redis. */
    @FunctionalInterface
    interface Decider {
        Decision decide() throws InterruptedException;
    }

    private Polling() {
    }

    /**
     * Polls until granted, refused for good, or the next retry-after would pass the deadline.
     *
     * @param decider      one decision
     * @param timeoutNanos the longest wait, {@code >= 0}
     * @param ticker       the clock the deadline is measured on
     * @param sleeper      how to wait
     * @return whether the permits were granted
     * @throws InterruptedException if interrupted while waiting, for Redis or for a retry
     */
    static boolean acquire(Decider decider, long timeoutNanos, Ticker ticker, Sleeper sleeper)
            throws InterruptedException {
        long start = ticker.read();
        while (true) {
            Decision d = decider.decide();
            if (d.isAllowed()) {
                return true;
            }
            if (d.exceedsLimit()) {
                return false;
            }
            // A clock that steps back counts as no time waited; the subtraction cannot overflow.
            long left = timeoutNanos - Math.max(0, ticker.read() - start);
            if (d.retryAfterNanos() > left) {
                return false;
            }
            sleeper.sleepNanos(d.retryAfterNanos());
        }
    }
}

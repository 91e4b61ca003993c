package dev.ratelimiter;

/**
 * A source of monotonic time in nanoseconds, injected into every limiter so that tests can
 * drive time with a fake clock and algorithms never call {@link System#nanoTime()} themselves.
 *
 * <p>Only differences between two readings are meaningful. A reading may be any {@code long};
 * limiters tolerate a ticker that goes backwards (a skewed clock, a fake clock) and never
 * create permits when it does.
 *
 * <p>Implementations must be thread-safe and should be cheap: a limiter reads its ticker once
 * per decision. The interface returns a primitive so the hot path never boxes.
 *
 * <pre>{@code
 * RateLimiter limiter = LocalRateLimiters.create(limit, Ticker.system());
 * }</pre>
 */
@FunctionalInterface
public interface Ticker {

    /**
     * Returns the current time in nanoseconds, relative to an arbitrary fixed origin.
     *
     * @return the current reading, in nanoseconds
     */
    long read();

    /**
     * Returns the ticker backed by {@link System#nanoTime()}.
     *
     * @return the system ticker; never {@code null}
     */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }
}

/** The {@link System#nanoTime()} ticker, a singleton so that the JIT sees one receiver type. */
enum SystemTicker implements Ticker {
    INSTANCE;

    @Override
    public long read() {
        return System.nanoTime();
    }
}

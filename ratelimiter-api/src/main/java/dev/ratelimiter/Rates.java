package dev.ratelimiter;

import dev.ratelimiter.internal.Checks;

/** Turns a {@code double} rate into whole permits per whole nanoseconds. */
final class Rates {

    private Rates() {
    }

    /**
     * @return {@code {permits, periodNanos}} within 5e-7 of {@code permitsPerSecond}
     */
    static long[] perSecond(String name, double permitsPerSecond) {
        Checks.ratePerSecond(name, permitsPerSecond);
        if (permitsPerSecond < 1000) {
            long period = Math.round(1e9 / permitsPerSecond);
            return new long[] {1, Math.min(period, Checks.MAX_PERIOD_NANOS)};
        }
        return new long[] {Math.round(permitsPerSecond * 1000), 1000L * 1_000_000_000L};
    }
}

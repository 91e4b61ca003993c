package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import java.time.Duration;
import java.util.Objects;

/**
 * STUB: to be implemented. An in-process {@link KeyedRateLimiter} with bounded memory.
 *
 * @param <K> the key type
 */
public final class LocalKeyedRateLimiter<K> implements KeyedRateLimiter<K> {

    /** The default bound on the number of keys held at once. */
    public static final long DEFAULT_MAX_KEYS = 1_000_000L;

    private final Limit limit;

    private LocalKeyedRateLimiter(Builder b) {
        this.limit = b.limit;
    }

    /**
     * @param limit the limit every key is held to
     * @return a builder
     * @throws NullPointerException if {@code limit} is {@code null}
     */
    public static Builder builder(Limit limit) {
        return new Builder(limit);
    }

    @Override
    public boolean tryAcquire(K key, long permits) {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public Decision decide(K key, long permits) {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public boolean tryAcquire(K key, long permits, Duration timeout) throws InterruptedException {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public Limit limit() {
        return limit;
    }

    /** @return the number of keys currently held */
    public long size() {
        throw new UnsupportedOperationException("not yet");
    }

    /** Drops every key whose state is full again. */
    public void cleanUp() {
        throw new UnsupportedOperationException("not yet");
    }

    /** Builds a {@link LocalKeyedRateLimiter}. Not thread-safe. */
    public static final class Builder {
        private final Limit limit;
        private long maxKeys = DEFAULT_MAX_KEYS;
        private Ticker ticker = Ticker.system();
        private Sleeper sleeper = Sleeper.system();

        private Builder(Limit limit) {
            this.limit = Objects.requireNonNull(limit, "limit");
        }

        /**
         * @param maxKeys the most keys held at once, {@code > 0}
         * @return this builder
         * @throws IllegalArgumentException if {@code maxKeys <= 0}
         */
        public Builder maxKeys(long maxKeys) {
            if (maxKeys <= 0) {
                throw new IllegalArgumentException("maxKeys must be > 0: maxKeys=" + maxKeys);
            }
            this.maxKeys = maxKeys;
            return this;
        }

        /**
         * @param ticker the clock
         * @return this builder
         * @throws NullPointerException if {@code ticker} is {@code null}
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * @param sleeper how blocking acquires wait
         * @return this builder
         * @throws NullPointerException if {@code sleeper} is {@code null}
         */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * @param <K> the key type
         * @return the keyed limiter
         */
        public <K> LocalKeyedRateLimiter<K> build() {
            return new LocalKeyedRateLimiter<>(this);
        }
    }
}

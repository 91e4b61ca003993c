package dev.ratelimiter.local;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterFactory;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import dev.ratelimiter.internal.ListenedRateLimiter;
import dev.ratelimiter.internal.Listeners;
import java.util.Objects;

/**
 * The in-process {@link RateLimiterFactory}: lock-free limiters on one clock, sleeper and bound
 * on keys, told to a listener when one is set.
 *
 * <p>Without a listener, {@link #create} and {@link #keyed} return the same bare limiters as
 * {@link LocalRateLimiters#create(Limit, Ticker, Sleeper)} and {@link LocalKeyedRateLimiter}
 * (the name is then used for nothing), so their decisions cost exactly what they cost without a
 * factory. With a listener, each limiter is wrapped in one that reports its decisions after
 * making them, allocating nothing of its own per decision (see {@link RateLimiterListener}), and
 * a keyed limiter also reports the keys it drops.
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * RateLimiterFactory factory = LocalRateLimiterFactory.builder()
 *         .maxKeys(100_000)
 *         .listener(metrics)
 *         .build();
 * KeyedRateLimiter<String> perUser = factory.keyed("per-user", TokenBucket.of(20, 20, Duration.ofMinutes(1)));
 * }</pre>
 */
public final class LocalRateLimiterFactory implements RateLimiterFactory {

    private final Ticker ticker;
    private final Sleeper sleeper;
    private final long maxKeys;
    /** The listener, or {@code null} for bare limiters. */
    private final RateLimiterListener listener;

    private LocalRateLimiterFactory(Ticker ticker, Sleeper sleeper, long maxKeys, RateLimiterListener listener) {
        this.ticker = ticker;
        this.sleeper = sleeper;
        this.maxKeys = maxKeys;
        this.listener = listener;
    }

    /**
     * @return a builder with the system clock and sleeper, {@value LocalKeyedRateLimiter#DEFAULT_MAX_KEYS}
     *     keys at most per keyed limiter, and no listener
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A new limiter, starting full.
     *
     * @param name  the limiter's name, reported with its events; not empty
     * @param limit the limit to enforce
     * @return the bare limiter, or, with a listener, it wrapped in one that reports to it
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} is empty
     */
    @Override
    public RateLimiter create(String name, Limit limit) {
        Listeners.name(name);
        RateLimiter limiter = LocalRateLimiters.create(limit, ticker, sleeper);
        return listener == null ? limiter : new ListenedRateLimiter(name, limiter, listener, ticker);
    }

    /**
     * A new keyed limiter with string keys; see {@link #keyed(String, Limit, Class)}.
     *
     * @param name  the limiter's name, reported with its events; not empty
     * @param limit the limit every key is held to
     * @return the keyed limiter
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} is empty
     */
    @Override
    public KeyedRateLimiter<String> keyed(String name, Limit limit) {
        return keyed(name, limit, String.class);
    }

    /**
     * A new keyed limiter with keys of any type (a local limiter does not need to store them as
     * strings), holding at most this factory's {@code maxKeys} keys.
     *
     * @param name    the limiter's name, reported with its events; not empty
     * @param limit   the limit every key is held to
     * @param keyType the key type, for type inference only
     * @param <K>     the key type
     * @return the bare {@link LocalKeyedRateLimiter}, or with a listener it wrapped in one that
     *     reports to it (dropped keys included)
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} is empty
     */
    public <K> KeyedRateLimiter<K> keyed(String name, Limit limit, Class<K> keyType) {
        Listeners.name(name);
        Objects.requireNonNull(limit, "limit");
        Objects.requireNonNull(keyType, "keyType");
        LocalKeyedRateLimiter.Builder b = LocalKeyedRateLimiter.builder(limit).ticker(ticker).sleeper(sleeper)
                .maxKeys(maxKeys);
        if (listener == null) {
            return b.build(keyType);
        }
        LocalKeyedRateLimiter<K> keyed = b.dropListener(name, listener).build(keyType);
        return new ListenedKeyedRateLimiter<>(name, keyed, listener, ticker);
    }

    @Override
    public LocalRateLimiterFactory withListener(RateLimiterListener listener) {
        return new LocalRateLimiterFactory(ticker, sleeper, maxKeys, Listeners.and(this.listener, listener));
    }

    @Override
    public String toString() {
        return "LocalRateLimiterFactory{maxKeys=" + maxKeys + (listener == null ? "" : ", listener=" + listener) + '}';
    }

    /** Configures a {@link LocalRateLimiterFactory}. Not thread-safe; each setter validates at once. */
    public static final class Builder {
        private Ticker ticker = Ticker.system();
        private Sleeper sleeper = Sleeper.system();
        private long maxKeys = LocalKeyedRateLimiter.DEFAULT_MAX_KEYS;
        private RateLimiterListener listener;

        private Builder() {
        }

        /**
         * @param ticker the clock of every limiter made
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
         * @param maxKeys the most keys each keyed limiter holds at once, {@code > 0}
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
         * @param listener told of the events of every limiter made (added after any set before)
         * @return this builder
         * @throws NullPointerException if {@code listener} is {@code null}
         */
        public Builder listener(RateLimiterListener listener) {
            this.listener = Listeners.and(this.listener, listener);
            return this;
        }

        /** @return the factory */
        public LocalRateLimiterFactory build() {
            return new LocalRateLimiterFactory(ticker, sleeper, maxKeys, listener);
        }
    }
}

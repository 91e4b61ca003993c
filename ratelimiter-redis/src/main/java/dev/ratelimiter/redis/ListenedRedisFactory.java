package dev.ratelimiter.redis;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterFactory;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.internal.ListenedRateLimiter;
import dev.ratelimiter.internal.Listeners;
import java.util.Objects;

/**
 * The {@link RateLimiterFactory} of a {@link RedisRateLimiters}: its limiters, bare without a
 * listener, else wrapped so that they report their decisions. A listened keyed limiter is also an
 * {@link AsyncKeyedRateLimiter}, whose decisions are reported too. Immutable and thread-safe.
 */
final class ListenedRedisFactory implements RateLimiterFactory {

    private final RedisRateLimiters redis;
    /** The listener, or {@code null} for bare limiters. */
    private final RateLimiterListener listener;

    ListenedRedisFactory(RedisRateLimiters redis, RateLimiterListener listener) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.listener = listener;
    }

    @Override
    public RateLimiter create(String name, Limit limit) {
        Listeners.name(name);
        if (listener == null) {
            return redis.create(name, limit);
        }
        return new ListenedRateLimiter(name, redis.keyed(name, limit, events(name, true)).forKey(""), listener,
                redis.ticker());
    }

    @Override
    public KeyedRateLimiter<String> keyed(String name, Limit limit) {
        Listeners.name(name);
        if (listener == null) {
            return redis.keyed(name, limit);
        }
        return new ListenedRedisKeyedLimiter<>(name, redis.keyed(name, limit, events(name, false)), listener,
                redis.ticker());
    }

    /**
     * Tells the listener how the failures of the limiter {@code name} are answered, and how long
     * its calls take.
     */
    private FailureHandler.Events events(String name, boolean single) {
        return events(listener, name, single);
    }

    /**
     * @param l      the listener
     * @param name   the limiter's name
     * @param single whether the limiter is a single one (its events name no key)
     * @return the events of the limiter {@code name}, told to {@code l}
     */
    static FailureHandler.Events events(RateLimiterListener l, String name, boolean single) {
        return new FailureHandler.Events() {
            @Override
            public void answered(String key, FailurePolicy.Kind policy, dev.ratelimiter.Decision answer,
                                 RedisRateLimiterException failure) {
                Listeners.failurePolicy(l, name, single ? null : key, policy.name(), answer, failure);
            }

            @Override
            public void misconfigured(String key, RedisMisconfigurationException failure) {
                Listeners.misconfiguration(l, name, single ? null : key, failure);
            }

            @Override
            public void called(long nanos, boolean succeeded) {
                Listeners.backendCall(l, name, nanos, succeeded);
            }
        };
    }

    @Override
    public RateLimiterFactory withListener(RateLimiterListener listener) {
        return new ListenedRedisFactory(redis, Listeners.and(this.listener, listener));
    }

    @Override
    public String toString() {
        return "RedisRateLimiterFactory{" + redis + (listener == null ? "" : ", listener=" + listener) + '}';
    }
}

package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import java.util.concurrent.CompletionStage;

/**
 * A keyed Redis limiter that reports its decisions, synchronous and asynchronous, to a
 * {@link RateLimiterListener}: what a listened Redis factory makes. An asynchronous decision is
 * reported on the thread that completes it (Lettuce's event loop, or the timeout scheduler when
 * the failure policy answers), before the stages chained on it run; one that completes
 * exceptionally is not reported (the failure policy's event, if any, was). Thread-safe.
 */
final class ListenedRedisKeyedLimiter extends ListenedKeyedRateLimiter<String>
        implements AsyncKeyedRateLimiter<String> {

    private final RedisRateLimiters.KeyedLimiter redis;

    ListenedRedisKeyedLimiter(String name, RedisRateLimiters.KeyedLimiter redis, RateLimiterListener listener,
                              Ticker ticker) {
        super(name, redis, listener, ticker);
        this.redis = redis;
    }

    @Override
    public CompletionStage<Decision> decideAsync(String key, long permits) {
        return redis.decideAsync(key, permits).thenApply(decision -> report(key, permits, decision));
    }

    @Override
    public CompletionStage<Boolean> tryAcquireAsync(String key, long permits) {
        return redis.tryAcquireAsync(key, permits).thenApply(granted -> report(key, permits, granted.booleanValue()));
    }

    /**
     * @param key a limiter key
     * @return the Redis key holding its state
     * @throws NullPointerException if {@code key} is {@code null}
     */
    String redisKey(String key) {
        return redis.redisKey(key);
    }
}

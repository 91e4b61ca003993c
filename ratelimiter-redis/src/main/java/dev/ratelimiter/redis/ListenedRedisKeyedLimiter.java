package dev.ratelimiter.redis;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import java.util.concurrent.CompletionStage;

/**
 * A keyed Redis limiter (a {@link RedisRateLimiters.KeyedLimiter} or a {@link CompositeLimiter})
 * that reports its decisions, synchronous and asynchronous, to a {@link RateLimiterListener}:
 * what a listened Redis factory and {@link RedisRateLimiters#listenedComposite} make. An
 * asynchronous decision is reported on the thread that completes it (Lettuce's event loop, or the
 * timeout scheduler when the failure policy answers), before the stages chained on it run; one
 * that completes exceptionally is not reported (the failure policy's event, if any, was).
 * Thread-safe.
 *
 * @param <L> the Redis limiter's type
 */
final class ListenedRedisKeyedLimiter<L extends KeyedRateLimiter<String> & AsyncKeyedRateLimiter<String>>
        extends ListenedKeyedRateLimiter<String> implements AsyncKeyedRateLimiter<String> {

    private final L redis;

    ListenedRedisKeyedLimiter(String name, L redis, RateLimiterListener listener, Ticker ticker) {
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

    /** @return the Redis limiter this one reports the decisions of */
    L redis() {
        return redis;
    }
}

package dev.ratelimiter.redis;

import dev.ratelimiter.CheckReturnValue;
import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import java.util.concurrent.CompletionStage;

/**
 * The non-blocking face of a keyed limiter whose decisions take a round trip: each call returns
 * at once and completes when the decision is known. Thread-safe; many callers pipeline over one
 * connection.
 *
 * <p>A stage completes exceptionally with {@link RedisRateLimiterException} when the decision
 * could not be taken (including when it did not arrive within the configured timeout); it never
 * stays incomplete longer than that timeout.
 *
 * <pre>{@code
 * limiter.decideAsync(userId, 1).thenAccept(d -> respond(d.isAllowed()));
 * }</pre>
 *
 * @param <K> the key type
 */
@CheckReturnValue
public interface AsyncKeyedRateLimiter<K> {

    /**
     * Decides on {@code permits} permits for {@code key}, reporting the whole decision.
     *
     * @param key     the key
     * @param permits the number of permits, {@code > 0}
     * @return the decision, when known
     * @throws NullPointerException     if {@code key} is {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    CompletionStage<Decision> decideAsync(K key, long permits);

    /**
     * Acquires {@code permits} permits for {@code key} if they are all available now.
     *
     * @param key     the key
     * @param permits the number of permits, {@code > 0}
     * @return whether they were granted, when known
     * @throws NullPointerException     if {@code key} is {@code null}
     * @throws IllegalArgumentException if {@code permits <= 0}
     */
    default CompletionStage<Boolean> tryAcquireAsync(K key, long permits) {
        return decideAsync(key, permits).thenApply(Decision::isAllowed);
    }

    /** @return the limit every key is held to */
    Limit limit();
}

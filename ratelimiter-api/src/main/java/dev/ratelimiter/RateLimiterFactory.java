package dev.ratelimiter;

/**
 * Makes limiters of one backend (in process, Redis) by name, so that code wiring limiters, such
 * as a {@link RateLimiterRegistry} or a framework integration, does not depend on the backend.
 *
 * <p>The name identifies the limit: in a shared backend such as Redis, limiters of the same
 * name share their state, and every event a listener is told of names its limiter. Keys of keyed
 * limiters are strings, which every backend can store.
 *
 * <p>Implementations are thread-safe and immutable: {@link #withListener} returns a new factory.
 * A factory with no listener makes bare limiters (nothing added to their decisions); a factory
 * with listeners wraps each limiter it makes in one that tells them of its events.
 *
 * <pre>{@code
 * RateLimiterFactory factory = LocalRateLimiters.factory().withListener(metrics);
 * RateLimiter api = factory.create("api", TokenBucket.of(100, 10, Duration.ofSeconds(1)));
 * KeyedRateLimiter<String> perUser = factory.keyed("per-user", SlidingWindow.log(60, Duration.ofMinutes(1)));
 * }</pre>
 */
public interface RateLimiterFactory {

    /**
     * A new limiter, starting full.
     *
     * @param name  the limiter's name, not empty (a backend may restrict it further)
     * @param limit the limit to enforce
     * @return a new limiter
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} is empty or refused by the backend, or the
     *                                  backend cannot enforce {@code limit}
     */
    RateLimiter create(String name, Limit limit);

    /**
     * A new keyed limiter, every key starting full.
     *
     * @param name  the limiter's name, not empty (a backend may restrict it further)
     * @param limit the limit every key is held to
     * @return a new keyed limiter
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} is empty or refused by the backend, or the
     *                                  backend cannot enforce {@code limit}
     */
    KeyedRateLimiter<String> keyed(String name, Limit limit);

    /**
     * A factory like this one whose limiters also tell {@code listener} of their events (after
     * the listeners this factory already has). Limiters made before are not affected.
     *
     * @param listener the listener
     * @return the new factory
     * @throws NullPointerException if {@code listener} is {@code null}
     */
    RateLimiterFactory withListener(RateLimiterListener listener);
}

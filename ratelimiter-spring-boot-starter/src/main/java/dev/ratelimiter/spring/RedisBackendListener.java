package dev.ratelimiter.spring;

import dev.ratelimiter.RateLimiterListener;

/**
 * A listener bean told of the events of the Redis limiters only: the local limiters' decisions
 * never reach it, so it costs nothing on their hot path. Every other {@link RateLimiterListener}
 * bean hears every limiter.
 */
public interface RedisBackendListener extends RateLimiterListener {
}

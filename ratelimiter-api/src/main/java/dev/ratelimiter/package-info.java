/**
 * The rate limiter API: {@link dev.ratelimiter.RateLimiter} and
 * {@link dev.ratelimiter.KeyedRateLimiter}, the {@link dev.ratelimiter.Limit} values that
 * configure them, the {@link dev.ratelimiter.Decision} they report, the injectable
 * {@link dev.ratelimiter.Ticker} and {@link dev.ratelimiter.Sleeper}, and
 * {@link dev.ratelimiter.Decorators} for wrapping calls. No runtime dependencies.
 *
 * <p>Backends: {@code dev.ratelimiter.local.LocalRateLimiters} (in process, lock-free).
 */
package dev.ratelimiter;

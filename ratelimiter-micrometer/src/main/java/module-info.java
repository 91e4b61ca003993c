/**
 * Micrometer meters from the rate limiters' events ({@code RateLimiterMetrics}, a
 * {@code RateLimiterListener}).
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.ratelimiter.micrometer {
    requires transitive dev.ratelimiter;
    requires transitive micrometer.core;

    exports dev.ratelimiter.micrometer;
}

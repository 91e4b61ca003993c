/**
 * The lock-free in-process rate limiters, single ({@code LocalRateLimiters}) and keyed
 * ({@code LocalKeyedRateLimiter}).
 */
module dev.ratelimiter.local {
    requires transitive dev.ratelimiter;

    exports dev.ratelimiter.local;
}

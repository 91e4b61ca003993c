/**
 * Distributed rate limiters as Redis Lua scripts, through Lettuce ({@code RedisRateLimiters}).
 */
// Lettuce is an automatic module (its jar names itself lettuce.core), and its types are part of
// this module's API (RedisRateLimiters.builder takes Lettuce commands): requiring it
// transitively is deliberate.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.ratelimiter.redis {
    requires transitive dev.ratelimiter;
    requires transitive lettuce.core;
    // The fallback policy uses the in-process limiters.
    requires dev.ratelimiter.local;

    exports dev.ratelimiter.redis;
}

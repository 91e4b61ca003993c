package dev.ratelimiter.spring.autoconfigure;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.Consumer;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.redis.AsyncKeyedRateLimiter;
import dev.ratelimiter.redis.FailurePolicy;
import dev.ratelimiter.redis.RedisRateLimiterException;
import dev.ratelimiter.redis.RedisRateLimiters;
import dev.ratelimiter.spring.LimiterBackend;
import dev.ratelimiter.spring.NamedLimiter;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.FailurePolicyKind;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;

/**
 * The Redis limiters, on Redis time, one {@link RedisRateLimiters} per failure policy in use,
 * all on the same connection.
 */
final class RedisLimiterBackend implements LimiterBackend {

    private final RedisScriptingAsyncCommands<String, String> commands;
    private final RateLimiterProperties.Redis settings;
    private final RateLimiterListener listener;
    private final Consumer<? super RedisRateLimiterException> failureListener;
    private final Map<FailurePolicyKind, RedisRateLimiters> byPolicy = new EnumMap<>(FailurePolicyKind.class);

    RedisLimiterBackend(RedisScriptingAsyncCommands<String, String> commands, RateLimiterProperties.Redis settings,
                        RateLimiterListener listener, Consumer<? super RedisRateLimiterException> failureListener) {
        this.commands = commands;
        this.settings = settings;
        this.listener = listener;
        this.failureListener = failureListener;
        check(settings);
    }

    /** Checks the settings with the builder's own checks, naming the property a refusal is about. */
    private void check(RateLimiterProperties.Redis s) {
        String path = RateLimiterProperties.PREFIX + ".redis.";
        RedisRateLimiters.Builder probe = RedisRateLimiters.builder(commands);
        if (s.getPrefix() == null) {
            throw new InvalidRateLimiterPropertyException(path + "prefix", null, "required (it may be empty)");
        }
        try {
            probe.prefix(s.getPrefix());
        } catch (IllegalArgumentException e) {
            throw new InvalidRateLimiterPropertyException(path + "prefix", s.getPrefix(), e.getMessage());
        }
        try {
            probe.timeout(s.getTimeout());
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new InvalidRateLimiterPropertyException(path + "timeout", s.getTimeout(),
                    "must be > 0 and <= " + RedisRateLimiters.Builder.MAX_TIMEOUT);
        }
        try {
            policy(FailurePolicyKind.FAIL_CLOSED, s);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new InvalidRateLimiterPropertyException(path + "fail-closed-retry-after", s.getFailClosedRetryAfter(),
                    String.valueOf(e.getMessage()));
        }
        try {
            policy(FailurePolicyKind.FALLBACK_TO_LOCAL, s);
        } catch (IllegalArgumentException e) {
            throw new InvalidRateLimiterPropertyException(path + "expected-instances", s.getExpectedInstances(),
                    e.getMessage());
        }
        try {
            probe.refusalCache(s.getRefusalCache());
        } catch (IllegalArgumentException e) {
            throw new InvalidRateLimiterPropertyException(path + "refusal-cache", s.getRefusalCache(), e.getMessage());
        }
        try {
            probe.refusalCache(s.getRefusalCache(), s.getRefusalCacheMaxAge());
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new InvalidRateLimiterPropertyException(path + "refusal-cache-max-age", s.getRefusalCacheMaxAge(),
                    String.valueOf(e.getMessage()));
        }
    }

    static FailurePolicy policy(FailurePolicyKind kind, RateLimiterProperties.Redis s) {
        switch (kind) {
            case FAIL_OPEN:
                return FailurePolicy.failOpen();
            case FAIL_CLOSED:
                return FailurePolicy.failClosed(s.getFailClosedRetryAfter());
            case FALLBACK_TO_LOCAL:
                return FailurePolicy.fallbackToLocal(s.getExpectedInstances());
            case PROPAGATE:
                return FailurePolicy.propagate();
            default:
                throw new AssertionError(kind);
        }
    }

    private synchronized RedisRateLimiters redis(FailurePolicyKind kind) {
        return byPolicy.computeIfAbsent(kind, k -> RedisRateLimiters.builder(commands)
                .prefix(settings.getPrefix())
                .timeout(settings.getTimeout())
                .failurePolicy(policy(k, settings))
                .refusalCache(settings.getRefusalCache(), settings.getRefusalCacheMaxAge())
                .coalescing(settings.isCoalescing())
                .failureListener(failureListener)
                .build());
    }

    @Override
    public NamedLimiter create(LimitDefinition d) {
        RedisRateLimiters redis = redis(d.failurePolicy());
        dev.ratelimiter.Limit[] limits = d.limits().toArray(new dev.ratelimiter.Limit[0]);
        KeyedRateLimiter<String> limiter;
        if (d.composite()) {
            limiter = listener == null ? redis.composite(d.name(), limits)
                    : redis.listenedComposite(d.name(), listener, limits);
        } else {
            limiter = listener == null ? redis.keyed(d.name(), limits[0])
                    : redis.factory().withListener(listener).keyed(d.name(), limits[0]);
        }
        @SuppressWarnings("unchecked") // every Redis keyed limiter is an AsyncKeyedRateLimiter<String>
        AsyncKeyedRateLimiter<String> async = (AsyncKeyedRateLimiter<String>) limiter;
        return new NamedLimiter(d, limiter, async::decideAsync, null);
    }
}

package dev.ratelimiter.spring.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code ratelimiter.*} configuration properties: the limits by name, the backend they run on,
 * the Redis backend's settings and the HTTP rules. Every value is checked when the application
 * starts; a bad one fails start-up with its property path and value.
 *
 * <pre>{@code
 * ratelimiter:
 *   limits:
 *     api:
 *       algorithm: token-bucket
 *       capacity: 100
 *       permits: 10
 *       period: 1s
 * }</pre>
 */
@ConfigurationProperties(prefix = RateLimiterProperties.PREFIX)
public class RateLimiterProperties {

    /** The prefix of every property of the starter. */
    public static final String PREFIX = "ratelimiter";

    /** Where limiters keep their state. */
    public enum Backend {
        /** In this process, lock-free; nothing is shared with other instances. */
        LOCAL,
        /** In Redis, shared by every instance using the same Redis and key prefix. */
        REDIS
    }

    /** The algorithm of a limit. */
    public enum Algorithm {
        /** A token bucket: {@code capacity} tokens, {@code permits} added every {@code period}. */
        TOKEN_BUCKET,
        /** A leaky-bucket meter (GCRA): {@code permits} per {@code period}, bursts of {@code capacity}. */
        LEAKY_BUCKET_METER,
        /** A leaky-bucket queue: {@code permits} per {@code period}, {@code capacity} waiting at most. */
        LEAKY_BUCKET_QUEUE,
        /** An exact sliding window log: {@code permits} in any {@code period}. */
        SLIDING_WINDOW_LOG,
        /** A sliding window counter (O(1), approximates the log): {@code permits} per {@code period}. */
        SLIDING_WINDOW_COUNTER
    }

    /** What a Redis limiter answers when Redis cannot decide (down, timed out, out of memory). */
    public enum FailurePolicyKind {
        /** Every request is granted. */
        FAIL_OPEN,
        /** Every request is refused, with {@code fail-closed-retry-after}. */
        FAIL_CLOSED,
        /** Decided in this process, on this instance's share of the limit. */
        FALLBACK_TO_LOCAL,
        /** The failure is thrown to the caller. */
        PROPAGATE
    }

    /** The backend of every limit that names none (default {@code local}). */
    private Backend backend = Backend.LOCAL;

    /** The most keys a local keyed limiter holds at once; the idlest are dropped beyond it. */
    private long maxKeys = 100_000;

    /** The limits, by name: the names the annotation and the HTTP rules refer to. */
    private Map<String, LimitProperties> limits = new LinkedHashMap<>();

    private final Redis redis = new Redis();

    private final Http http = new Http();

    public Backend getBackend() {
        return backend;
    }

    public void setBackend(Backend backend) {
        this.backend = backend;
    }

    public long getMaxKeys() {
        return maxKeys;
    }

    public void setMaxKeys(long maxKeys) {
        this.maxKeys = maxKeys;
    }

    public Map<String, LimitProperties> getLimits() {
        return limits;
    }

    public void setLimits(Map<String, LimitProperties> limits) {
        this.limits = limits;
    }

    public Redis getRedis() {
        return redis;
    }

    public Http getHttp() {
        return http;
    }

    /** One limit of a composite: an algorithm and its three numbers. */
    public static class PartProperties {

        /** The algorithm. */
        private Algorithm algorithm;

        /**
         * The burst: the bucket's capacity (token bucket), the burst (meter) or the most requests
         * waiting (queue); not used by sliding windows.
         */
        private Long capacity;

        /**
         * The permits per period: refilled (token bucket, default {@code capacity}), leaked
         * (leaky buckets) or allowed in any window (sliding windows).
         */
        private Long permits;

        /** The period: of the refill, of the leak, or the window's length. */
        private Duration period;

        public Algorithm getAlgorithm() {
            return algorithm;
        }

        public void setAlgorithm(Algorithm algorithm) {
            this.algorithm = algorithm;
        }

        public Long getCapacity() {
            return capacity;
        }

        public void setCapacity(Long capacity) {
            this.capacity = capacity;
        }

        public Long getPermits() {
            return permits;
        }

        public void setPermits(Long permits) {
            this.permits = permits;
        }

        public Duration getPeriod() {
            return period;
        }

        public void setPeriod(Duration period) {
            this.period = period;
        }
    }

    /** A named limit: one algorithm, or {@code all-of} several decided as one. */
    public static class LimitProperties extends PartProperties {

        /** The limits decided as one (granted only if all grant); instead of {@code algorithm}. */
        private List<PartProperties> allOf = new ArrayList<>();

        /** Where this limit keeps its state; default {@code ratelimiter.backend}. */
        private Backend backend;

        /** The most keys this limit holds in process; default {@code ratelimiter.max-keys}. */
        private Long maxKeys;

        /** Under Redis, what answers when Redis cannot; default {@code ratelimiter.redis.failure-policy}. */
        private FailurePolicyKind failurePolicy;

        public List<PartProperties> getAllOf() {
            return allOf;
        }

        public void setAllOf(List<PartProperties> allOf) {
            this.allOf = allOf;
        }

        public Backend getBackend() {
            return backend;
        }

        public void setBackend(Backend backend) {
            this.backend = backend;
        }

        public Long getMaxKeys() {
            return maxKeys;
        }

        public void setMaxKeys(Long maxKeys) {
            this.maxKeys = maxKeys;
        }

        public FailurePolicyKind getFailurePolicy() {
            return failurePolicy;
        }

        public void setFailurePolicy(FailurePolicyKind failurePolicy) {
            this.failurePolicy = failurePolicy;
        }
    }

    /**
     * The Redis backend. The connection is Spring Boot's own ({@code spring.data.redis.*}), or
     * the application's Lettuce {@code RedisClient} / {@code RedisClusterClient} bean.
     */
    public static class Redis {

        /** The start of every Redis key the limiters write; no braces. */
        private String prefix = "rl:";

        /** The longest a decision waits for Redis before the failure policy answers. */
        private Duration timeout = Duration.ofSeconds(1);

        /** What answers when Redis cannot decide. */
        private FailurePolicyKind failurePolicy = FailurePolicyKind.FALLBACK_TO_LOCAL;

        /** Under {@code fail-closed}, the retry-after of the refusals. */
        private Duration failClosedRetryAfter = Duration.ofSeconds(1);

        /** Under {@code fallback-to-local}, how many instances share the limit (each gets its share). */
        private int expectedInstances = 1;

        /**
         * Refusals remembered per limit, so that a request Redis is known to refuse costs no round
         * trip (0 turns it off).
         */
        private int refusalCache = 1024;

        /**
         * The longest a refusal is remembered: how late another instance's reset or refund may be
         * seen here.
         */
        private Duration refusalCacheMaxAge = Duration.ofSeconds(1);

        /**
         * Whether concurrent decisions of this instance on one key go to Redis as one script call
         * (every algorithm, and composites), each answered as if they had come one after another.
         */
        private boolean coalescing = true;

        public boolean isCoalescing() {
            return coalescing;
        }

        public void setCoalescing(boolean coalescing) {
            this.coalescing = coalescing;
        }

        public int getRefusalCache() {
            return refusalCache;
        }

        public void setRefusalCache(int refusalCache) {
            this.refusalCache = refusalCache;
        }

        public Duration getRefusalCacheMaxAge() {
            return refusalCacheMaxAge;
        }

        public void setRefusalCacheMaxAge(Duration refusalCacheMaxAge) {
            this.refusalCacheMaxAge = refusalCacheMaxAge;
        }

        public String getPrefix() {
            return prefix;
        }

        public void setPrefix(String prefix) {
            this.prefix = prefix;
        }

        public Duration getTimeout() {
            return timeout;
        }

        public void setTimeout(Duration timeout) {
            this.timeout = timeout;
        }

        public FailurePolicyKind getFailurePolicy() {
            return failurePolicy;
        }

        public void setFailurePolicy(FailurePolicyKind failurePolicy) {
            this.failurePolicy = failurePolicy;
        }

        public Duration getFailClosedRetryAfter() {
            return failClosedRetryAfter;
        }

        public void setFailClosedRetryAfter(Duration failClosedRetryAfter) {
            this.failClosedRetryAfter = failClosedRetryAfter;
        }

        public int getExpectedInstances() {
            return expectedInstances;
        }

        public void setExpectedInstances(int expectedInstances) {
            this.expectedInstances = expectedInstances;
        }
    }

    /** The HTTP rules, applied by a servlet filter (Spring MVC) or a {@code WebFilter} (WebFlux). */
    public static class Http {

        /** Whether the rules are applied. */
        private boolean enabled = true;

        /** Whether allowed responses carry the {@code RateLimit-Policy} and {@code RateLimit} fields too. */
        private boolean headersOnAllowed = true;

        /** The servlet filter's order; after Spring Security's (-100) so a principal is known. */
        private int filterOrder = 0;

        /** The rules; every rule matching a request takes its cost from its limit. */
        private List<Rule> rules = new ArrayList<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public boolean isHeadersOnAllowed() {
            return headersOnAllowed;
        }

        public void setHeadersOnAllowed(boolean headersOnAllowed) {
            this.headersOnAllowed = headersOnAllowed;
        }

        public int getFilterOrder() {
            return filterOrder;
        }

        public void setFilterOrder(int filterOrder) {
            this.filterOrder = filterOrder;
        }

        public List<Rule> getRules() {
            return rules;
        }

        public void setRules(List<Rule> rules) {
            this.rules = rules;
        }
    }

    /** An HTTP rule: which requests, under which limit, keyed by what, at what cost. */
    public static class Rule {

        /** The name of the limit (a key of {@code ratelimiter.limits}). */
        private String limit;

        /** Path patterns ({@code /api/**}, {@code /users/{id}}); empty matches every path. */
        private List<String> paths = new ArrayList<>();

        /** HTTP methods ({@code GET}, {@code POST}); empty matches every method. */
        private List<String> methods = new ArrayList<>();

        /**
         * The key: {@code client-address} (the remote address), {@code principal} (the
         * authenticated user's name), {@code header:<name>}, or {@code expression:<SpEL>} over
         * {@code #request}.
         */
        private String key = "client-address";

        /** The permits a request costs. */
        private long cost = 1;

        public String getLimit() {
            return limit;
        }

        public void setLimit(String limit) {
            this.limit = limit;
        }

        public List<String> getPaths() {
            return paths;
        }

        public void setPaths(List<String> paths) {
            this.paths = paths;
        }

        public List<String> getMethods() {
            return methods;
        }

        public void setMethods(List<String> methods) {
            this.methods = methods;
        }

        public String getKey() {
            return key;
        }

        public void setKey(String key) {
            this.key = key;
        }

        public long getCost() {
            return cost;
        }

        public void setCost(long cost) {
            this.cost = cost;
        }
    }
}

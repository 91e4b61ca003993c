package dev.ratelimiter.spring.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.Algorithm;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.Backend;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.FailurePolicyKind;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.LimitProperties;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.PartProperties;

/**
 * A named limit read from the properties and checked: its limits (one, or several decided as
 * one), its backend, key bound and failure policy.
 *
 * @param name          the limit's name
 * @param limits        one limit, or the parts of a composite
 * @param backend       where its state is kept
 * @param maxKeys       the most keys held in process
 * @param failurePolicy under Redis, what answers when Redis cannot
 */
public record LimitDefinition(String name, List<Limit> limits, Backend backend, long maxKeys,
                              FailurePolicyKind failurePolicy) {

    /**
     * @throws NullPointerException if an argument is {@code null}
     */
    public LimitDefinition {
        Objects.requireNonNull(name, "name");
        limits = List.copyOf(limits);
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(failurePolicy, "failurePolicy");
    }

    /** @return whether several limits are decided as one */
    public boolean composite() {
        return limits.size() > 1;
    }

    /**
     * Reads and checks every limit of the properties.
     *
     * @param properties the bound properties
     * @return the definitions, in the order of the properties
     * @throws InvalidRateLimiterPropertyException naming the first bad property and its value
     */
    public static List<LimitDefinition> read(RateLimiterProperties properties) {
        String root = RateLimiterProperties.PREFIX;
        if (properties.getBackend() == null) {
            throw new InvalidRateLimiterPropertyException(root + ".backend", null, "must be local or redis");
        }
        if (properties.getMaxKeys() <= 0) {
            throw new InvalidRateLimiterPropertyException(root + ".max-keys", properties.getMaxKeys(), "must be > 0");
        }
        List<LimitDefinition> definitions = new ArrayList<>();
        for (Map.Entry<String, LimitProperties> e : properties.getLimits().entrySet()) {
            definitions.add(read(e.getKey(), e.getValue(), properties));
        }
        return definitions;
    }

    static LimitDefinition read(String name, LimitProperties p, RateLimiterProperties all) {
        String path = RateLimiterProperties.PREFIX + ".limits." + name;
        if (name.isBlank() || name.contains("{") || name.contains("}")) {
            throw new InvalidRateLimiterPropertyException(path, name, "a limit's name must not be blank nor hold braces");
        }
        List<Limit> limits = new ArrayList<>();
        if (p.getAllOf().isEmpty()) {
            limits.add(part(path, p));
        } else {
            if (p.getAlgorithm() != null || p.getCapacity() != null || p.getPermits() != null || p.getPeriod() != null) {
                throw new InvalidRateLimiterPropertyException(path + ".all-of", "[" + p.getAllOf().size() + " limits]",
                        "a limit has either all-of or its own algorithm, capacity, permits and period, not both");
            }
            for (int i = 0; i < p.getAllOf().size(); i++) {
                limits.add(part(path + ".all-of[" + i + "]", p.getAllOf().get(i)));
            }
        }
        long maxKeys = p.getMaxKeys() != null ? p.getMaxKeys() : all.getMaxKeys();
        if (maxKeys <= 0) {
            throw new InvalidRateLimiterPropertyException(path + ".max-keys", maxKeys, "must be > 0");
        }
        Backend backend = p.getBackend() != null ? p.getBackend() : all.getBackend();
        FailurePolicyKind policy = p.getFailurePolicy() != null ? p.getFailurePolicy() : all.getRedis().getFailurePolicy();
        if (policy == null) {
            throw new InvalidRateLimiterPropertyException(RateLimiterProperties.PREFIX + ".redis.failure-policy", null,
                    "must be one of fail-open, fail-closed, fallback-to-local, propagate");
        }
        return new LimitDefinition(name, limits, backend, maxKeys, policy);
    }

    /**
     * @param path the property path of the part, for messages
     * @param p    the part
     * @return its limit
     * @throws InvalidRateLimiterPropertyException naming the bad property
     */
    static Limit part(String path, PartProperties p) {
        Algorithm algorithm = p.getAlgorithm();
        if (algorithm == null) {
            throw new InvalidRateLimiterPropertyException(path + ".algorithm", null,
                    "required: token-bucket, leaky-bucket-meter, leaky-bucket-queue, sliding-window-log, "
                            + "sliding-window-counter (or all-of: a list of limits)");
        }
        Duration period = p.getPeriod();
        if (period == null) {
            throw new InvalidRateLimiterPropertyException(path + ".period", null, "required, for example 1s or 1m");
        }
        if (period.isNegative() || period.isZero()) {
            throw new InvalidRateLimiterPropertyException(path + ".period", period, "must be > 0");
        }
        try {
            switch (algorithm) {
                case TOKEN_BUCKET: {
                    long capacity = positive(path + ".capacity", p.getCapacity(), null);
                    long permits = positive(path + ".permits", p.getPermits(), capacity);
                    return TokenBucket.of(capacity, permits, period);
                }
                case LEAKY_BUCKET_METER: {
                    long permits = positive(path + ".permits", p.getPermits(), null);
                    long burst = positive(path + ".capacity", p.getCapacity(), 1L);
                    return LeakyBucket.meter(permits, period, burst);
                }
                case LEAKY_BUCKET_QUEUE: {
                    long permits = positive(path + ".permits", p.getPermits(), null);
                    long capacity = positive(path + ".capacity", p.getCapacity(), null);
                    return LeakyBucket.queue(permits, period, capacity);
                }
                case SLIDING_WINDOW_LOG:
                case SLIDING_WINDOW_COUNTER: {
                    if (p.getCapacity() != null) {
                        throw new InvalidRateLimiterPropertyException(path + ".capacity", p.getCapacity(),
                                "a sliding window has no capacity: give the permits per period");
                    }
                    long permits = positive(path + ".permits", p.getPermits(), null);
                    return algorithm == Algorithm.SLIDING_WINDOW_LOG
                            ? SlidingWindow.log(permits, period)
                            : SlidingWindow.counter(permits, period);
                }
                default:
                    throw new AssertionError(algorithm);
            }
        } catch (InvalidRateLimiterPropertyException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            // The limit's own checks (for example a period too long or a rate too high for it).
            throw new InvalidRateLimiterPropertyException(path, describe(p), e.getMessage());
        }
    }

    private static long positive(String path, Long value, Long fallback) {
        if (value == null) {
            if (fallback == null) {
                throw new InvalidRateLimiterPropertyException(path, null, "required, > 0");
            }
            return fallback;
        }
        if (value <= 0) {
            throw new InvalidRateLimiterPropertyException(path, value, "must be > 0");
        }
        return value;
    }

    private static String describe(PartProperties p) {
        return "{algorithm=" + p.getAlgorithm() + ", capacity=" + p.getCapacity() + ", permits=" + p.getPermits()
                + ", period=" + p.getPeriod() + "}";
    }
}

package dev.ratelimiter.spring.actuate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.spring.NamedLimiter;
import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.autoconfigure.RateLimiterPropertiesRefresher;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code ratelimiters} Actuator endpoint: {@code GET /actuator/ratelimiters} lists the limits;
 * {@code GET /actuator/ratelimiters/{name}?key=k} peeks at a key (consuming nothing);
 * {@code DELETE /actuator/ratelimiters/{name}?key=k} resets a key, and
 * {@code POST /actuator/ratelimiters} reads the {@code ratelimiter.*} properties again and
 * reconfigures the limits that changed, keeping each key's state. Its access is read-only unless
 * {@code management.endpoint.ratelimiters.access=unrestricted}: the writes are off by default.
 */
@Endpoint(id = "ratelimiters", defaultAccess = Access.READ_ONLY)
public class RateLimitersEndpoint {

    private final NamedLimiters limiters;
    private final RateLimiterPropertiesRefresher refresher;

    /**
     * @param limiters  the limiters
     * @param refresher reads the properties again
     */
    public RateLimitersEndpoint(NamedLimiters limiters, RateLimiterPropertiesRefresher refresher) {
        this.limiters = limiters;
        this.refresher = refresher;
    }

    /** @return every limit with its backend and numbers */
    @ReadOperation
    public Map<String, Object> limiters() {
        Map<String, Object> all = new LinkedHashMap<>();
        for (NamedLimiter l : limiters.all()) {
            all.put(l.name(), describe(l));
        }
        return Map.of("limiters", all);
    }

    /**
     * @param name    the limit
     * @param key     a key to peek at; without it, the limit is described
     * @param permits the permits the peek asks for (default 1)
     * @return the limit, or what deciding {@code permits} for {@code key} would answer now
     */
    @ReadOperation
    public Map<String, Object> limiter(@Selector String name, @Nullable String key, @Nullable Long permits) {
        NamedLimiter l = named(name);
        if (key == null) {
            return describe(l);
        }
        long p = permits == null ? 1 : permits;
        Decision d = l.limiter().peek(key, p);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("key", key);
        out.put("permits", p);
        out.put("allowed", d.isAllowed());
        out.put("remaining", d.remaining());
        out.put("available", l.limiter().availablePermits(key));
        out.put("retryAfter", d.retryAfter().toString());
        out.put("reset", d.reset().toString());
        return out;
    }

    /**
     * @param name the limit
     * @param key  the key to put back in its initial (full) state
     * @return what was reset
     */
    @DeleteOperation
    public Map<String, Object> reset(@Selector String name, String key) {
        named(name).limiter().reset(key);
        return Map.of("name", name, "key", key, "reset", true);
    }

    /** @return the names reconfigured or added after reading the properties again */
    @WriteOperation
    public Map<String, Object> refresh() {
        try {
            return Map.of("reconfigured", refresher.refresh());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // A bad or impossible change: a 400 with the reason; nothing was changed.
            throw new InvalidEndpointRequestException(e.getMessage(), e.getMessage());
        }
    }

    private NamedLimiter named(String name) {
        try {
            return limiters.get(name);
        } catch (IllegalArgumentException e) {
            throw new InvalidEndpointRequestException(e.getMessage(), e.getMessage());
        }
    }

    private static Map<String, Object> describe(NamedLimiter l) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("backend", l.definition().backend().name().toLowerCase());
        List<String> limits = new ArrayList<>();
        for (Limit limit : l.limits()) {
            limits.add(limit.toString());
        }
        out.put("limits", limits);
        out.put("maxKeys", l.definition().maxKeys());
        if (l.definition().backend() == dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.Backend.REDIS) {
            out.put("failurePolicy", l.definition().failurePolicy().name().toLowerCase().replace('_', '-'));
        }
        l.keysHeld().ifPresent(n -> out.put("keysHeld", n));
        return out;
    }
}

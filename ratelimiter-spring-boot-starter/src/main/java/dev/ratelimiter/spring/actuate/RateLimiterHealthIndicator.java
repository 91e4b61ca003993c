package dev.ratelimiter.spring.actuate;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.ratelimiter.Decision;
import dev.ratelimiter.spring.NamedLimiter;
import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.RedisBackendListener;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties.Backend;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of the Redis backend as the decisions see it: {@code UP} while Redis decides,
 * {@code DOWN} while the failure policy answers in its place (with the policy, since when, and
 * the last failure), or once Redis was found misconfigured (a missing command, a read-only
 * replica, a cluster without the keys' slot...). It learns from the Redis limiters' events (it is
 * a {@link RedisBackendListener}: local decisions never reach it): a limiter
 * not used since the start is reported {@code unused}. With no Redis limit it is {@code UP}.
 */
public class RateLimiterHealthIndicator implements HealthIndicator, RedisBackendListener {

    private enum State { REDIS, FAILURE_POLICY, MISCONFIGURED }

    private record Seen(State state, Instant since, String policy, String failure) {
    }

    private final ObjectProvider<NamedLimiters> limiters;
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();
    /** The last answer of a failure policy: its decision is reported again as granted or denied. */
    private volatile Decision lastAnswer;

    /** @param limiters the limiters, looked up when the health is asked for */
    public RateLimiterHealthIndicator(ObjectProvider<NamedLimiters> limiters) {
        this.limiters = limiters;
    }

    @Override
    public Health health() {
        NamedLimiters all = limiters.getIfAvailable();
        Health.Builder health = Health.up();
        if (all == null) {
            return health.build();
        }
        Map<String, Object> details = new LinkedHashMap<>();
        for (NamedLimiter l : all.all()) {
            if (l.definition().backend() != Backend.REDIS) {
                continue;
            }
            Seen s = seen.get(l.name());
            Map<String, Object> d = new LinkedHashMap<>();
            if (s == null) {
                d.put("state", "unused");
            } else {
                d.put("state", s.state().name().toLowerCase().replace('_', '-'));
                d.put("since", s.since().toString());
                if (s.policy() != null) {
                    d.put("policy", s.policy());
                }
                if (s.failure() != null) {
                    d.put("failure", s.failure());
                }
                if (s.state() != State.REDIS) {
                    health.down();
                }
            }
            details.put(l.name(), d);
        }
        return health.withDetails(details).build();
    }

    private void record(String limiter, State state, String policy, RuntimeException failure) {
        Seen before = seen.get(limiter);
        if (before != null && before.state() == State.MISCONFIGURED && state == State.FAILURE_POLICY) {
            return;
        }
        Instant since = before != null && before.state() == state ? before.since() : Instant.now();
        seen.put(limiter, new Seen(state, since, policy, failure == null ? null : String.valueOf(failure.getMessage())));
    }

    private void decided(String limiter, Decision decision) {
        if (decision == lastAnswer) {
            return;
        }
        Seen before = seen.get(limiter);
        if (before == null || before.state() != State.REDIS) {
            record(limiter, State.REDIS, null, null);
        }
    }

    @Override
    public void onGranted(String limiter, Object key, long permits, Decision decision) {
        decided(limiter, decision);
    }

    @Override
    public void onDenied(String limiter, Object key, long permits, Decision decision) {
        decided(limiter, decision);
    }

    @Override
    public void onFailurePolicy(String limiter, Object key, String policy, Decision answer, RuntimeException failure) {
        lastAnswer = answer;
        record(limiter, State.FAILURE_POLICY, policy, failure);
    }

    @Override
    public void onMisconfiguration(String limiter, Object key, RuntimeException failure) {
        record(limiter, State.MISCONFIGURED, null, failure);
    }
}

package dev.ratelimiter.spring;

import dev.ratelimiter.spring.autoconfigure.LimitDefinition;

/** Makes the limiter of a definition on one backend (local or Redis). */
@FunctionalInterface
public interface LimiterBackend {

    /**
     * @param definition the checked definition
     * @return its limiter, starting full
     */
    NamedLimiter create(LimitDefinition definition);
}

package dev.ratelimiter.spring.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a start-up failed by a bad {@code ratelimiter.*} property, naming it and its value. */
class InvalidRateLimiterPropertyFailureAnalyzer extends AbstractFailureAnalyzer<InvalidRateLimiterPropertyException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidRateLimiterPropertyException cause) {
        return new FailureAnalysis(
                "Invalid rate limiter property '" + cause.property() + "' with value '" + cause.value() + "': "
                        + cause.getMessage(),
                "Correct '" + cause.property() + "' (see the ratelimiter.* properties in the README).",
                cause);
    }
}

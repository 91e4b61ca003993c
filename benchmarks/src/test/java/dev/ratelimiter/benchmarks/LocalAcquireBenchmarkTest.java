package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.BooleanSupplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The benchmark measures the path it claims to: every "allowed" limiter grants and every
 * "denied" one refuses. (The benchmark's own set-up checks the same on every run; this runs it
 * in the build.)
 */
class LocalAcquireBenchmarkTest {

    private static LocalAcquireBenchmark setUp(String impl, String outcome) {
        LocalAcquireBenchmark benchmark = new LocalAcquireBenchmark();
        benchmark.impl = impl;
        benchmark.outcome = outcome;
        benchmark.setUp();
        return benchmark;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenBucket", "tokenBucketListened", "leakyBucket", "slidingWindowLog", "slidingWindowCounter",
            "bucket4j", "guava", "resilience4j"})
    void allowedLimiterGrantsEveryRequest(String impl) {
        LocalAcquireBenchmark benchmark = setUp(impl, "allowed");

        for (int i = 0; i < 100_000; i++) {
            assertThat(benchmark.oneThread()).as("request %d", i).isTrue();
        }
        benchmark.stillOnTheMeasuredPath();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenBucket", "tokenBucketListened", "leakyBucket", "slidingWindowLog", "slidingWindowCounter",
            "bucket4j", "guava", "resilience4j"})
    void deniedLimiterRefusesEveryRequestAfterSetUp(String impl) {
        LocalAcquireBenchmark benchmark = setUp(impl, "denied");

        for (int i = 0; i < 100_000; i++) {
            assertThat(benchmark.twoThreads()).as("request %d", i).isFalse();
        }
        benchmark.stillOnTheMeasuredPath();
    }

    @Test
    void deniedLimiterGrantsExactlyTheOnePermitItStartsWith() {
        for (String impl : new String[] {"tokenBucket", "tokenBucketListened", "leakyBucket", "slidingWindowLog",
                "slidingWindowCounter", "bucket4j", "guava", "resilience4j"}) {
            BooleanSupplier acquire = LocalAcquireBenchmark.create(impl, false);

            assertThat(acquire.getAsBoolean()).as(impl + " first request").isTrue();
            assertThat(acquire.getAsBoolean()).as(impl + " second request").isFalse();
        }
    }

    @Test
    void unknownImplementationIsRejectedByName() {
        assertThatThrownBy(() -> setUp("nope", "allowed"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("unknown implementation: impl=nope");
    }

    @Test
    void unknownOutcomeIsRejectedByName() {
        assertThatThrownBy(() -> setUp("guava", "maybe"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("unknown outcome: outcome=maybe");
    }
}

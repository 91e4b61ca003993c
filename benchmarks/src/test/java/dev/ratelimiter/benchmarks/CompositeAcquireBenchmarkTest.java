package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The composite benchmark measures the path it claims to, for the project and for Bucket4j. */
class CompositeAcquireBenchmarkTest {

    private static CompositeAcquireBenchmark setUp(String impl, String outcome) {
        CompositeAcquireBenchmark benchmark = new CompositeAcquireBenchmark();
        benchmark.impl = impl;
        benchmark.outcome = outcome;
        benchmark.setUp();
        return benchmark;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenBucket", "bucket4j"})
    void allowedLimiterGrantsEveryRequest(String impl) {
        CompositeAcquireBenchmark benchmark = setUp(impl, "allowed");
        for (int i = 0; i < 100_000; i++) {
            assertThat(benchmark.oneThread()).as("request %d", i).isTrue();
        }
        benchmark.stillOnTheMeasuredPath();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenBucket", "bucket4j"})
    void deniedLimiterRefusesEveryRequestAfterSetUp(String impl) {
        CompositeAcquireBenchmark benchmark = setUp(impl, "denied");
        for (int i = 0; i < 100_000; i++) {
            assertThat(benchmark.twoThreads()).as("request %d", i).isFalse();
        }
        benchmark.stillOnTheMeasuredPath();
    }

    @Test
    void deniedLimiterGrantsExactlyTheOnePermitOfItsBurstLimit() {
        for (String impl : new String[] {"tokenBucket", "bucket4j"}) {
            BooleanSupplier acquire = CompositeAcquireBenchmark.create(impl, false);
            assertThat(acquire.getAsBoolean()).as(impl + " first request").isTrue();
            assertThat(acquire.getAsBoolean()).as(impl + " second request").isFalse();
        }
    }

    @Test
    void unknownImplementationOrOutcomeIsRejectedByName() {
        assertThatThrownBy(() -> setUp("nope", "allowed")).isInstanceOf(IllegalStateException.class)
                .hasMessage("unknown implementation: impl=nope");
        assertThatThrownBy(() -> setUp("bucket4j", "maybe")).isInstanceOf(IllegalStateException.class)
                .hasMessage("unknown outcome: outcome=maybe");
    }
}

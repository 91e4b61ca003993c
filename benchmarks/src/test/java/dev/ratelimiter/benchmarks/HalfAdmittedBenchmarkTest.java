package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The half-admitted benchmark measures the mix it claims: on one thread, half of the requests
 * are granted, for every implementation, through the same set-up and benchmark methods JMH
 * calls.
 */
class HalfAdmittedBenchmarkTest {

    @ParameterizedTest
    @ValueSource(strings = {"tokenBucket", "leakyBucket", "slidingWindowLog", "slidingWindowCounter",
            "bucket4j", "resilience4j"})
    void oneThreadAdmitsHalfOfTheRequests(String impl) {
        HalfAdmittedBenchmark benchmark = new HalfAdmittedBenchmark();
        benchmark.impl = impl;
        benchmark.setUp();
        HalfAdmittedBenchmark.Caller caller = new HalfAdmittedBenchmark.Caller();
        caller.setUp(1);
        HalfAdmittedBenchmark.Admissions admissions = new HalfAdmittedBenchmark.Admissions();
        admissions.reset();

        for (int i = 0; i < 20_000; i++) {
            benchmark.oneThread(caller, admissions);
        }

        assertThat(admissions.admitted + admissions.denied).isEqualTo(20_000);
        assertThat(admissions.admitted / 20_000.0).as(impl).isCloseTo(0.5, within(0.02));
        assertThat(caller.time.nanos).isEqualTo(20_000 * HalfAdmittedBenchmark.STEP_NANOS);
    }

    @Test
    void twoThreadsAdvanceEachClockByTwoSteps() {
        HalfAdmittedBenchmark.Caller caller = new HalfAdmittedBenchmark.Caller();
        caller.setUp(2);

        assertThat(caller.step).isEqualTo(2 * HalfAdmittedBenchmark.STEP_NANOS);
        assertThat(caller.time.nanos).isZero();
    }

    @Test
    void selfCheckSeesTheExactHalfAfterTheInitialBurst() {
        // 20,000 calls, 50 permits per 100 calls, plus at most one burst of 50.
        double share = HalfAdmittedBenchmark.admittedShare("leakyBucket", 20_000);

        assertThat(share * 20_000).isBetween(10_000.0 - 1, 10_000.0 + HalfAdmittedBenchmark.PERMITS_PER_PERIOD + 1);
    }

    @Test
    void unknownImplementationIsRejectedByName() {
        HalfAdmittedBenchmark benchmark = new HalfAdmittedBenchmark();
        benchmark.impl = "guava";

        assertThatThrownBy(benchmark::setUp)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("unknown implementation: impl=guava");
    }
}

package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The machine-floor benchmarks measure what they name. */
class MachineFloorBenchmarkTest {

    @Test
    void uncontendedCasAlwaysSucceedsAfterSetUp() {
        MachineFloorBenchmark benchmark = new MachineFloorBenchmark();
        benchmark.setUp();

        for (int i = 0; i < 10_000; i++) {
            assertThat(benchmark.casUncontended()).as("call %d", i).isTrue();
        }
    }

    @Test
    void nanoTimeIsTheMonotonicClock() {
        MachineFloorBenchmark benchmark = new MachineFloorBenchmark();
        long before = System.nanoTime();

        long reading = benchmark.nanoTime();

        assertThat(reading - before).isGreaterThanOrEqualTo(0);
        assertThat(System.nanoTime() - reading).isGreaterThanOrEqualTo(0);
    }
}

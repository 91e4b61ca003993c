package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The script-time benchmark's set-up against a real {@code redis-server}: for every script, the
 * floor makes the same Redis commands as this project's script (the set-up throws otherwise), and
 * the counters read Redis's own count and time of the calls made.
 */
class ScriptTimeBenchmarkTest {

    @ParameterizedTest
    @ValueSource(strings = {"tokenBucket", "slidingCounter", "slidingLog", "composite"})
    void floorMakesTheScriptsCommandsAndTheCountersReadRedis(String script) throws Exception {
        ScriptTimeBenchmark benchmark = new ScriptTimeBenchmark();
        benchmark.script = script;
        benchmark.setUp();
        try {
            ScriptTimeBenchmark.Counters counters = new ScriptTimeBenchmark.Counters();
            counters.begin(benchmark);
            for (int i = 0; i < 25; i++) {
                benchmark.call(counters);
            }
            counters.end(benchmark);
            assertThat(counters.scriptCalls).isEqualTo(25);
            assertThat(counters.scriptMicros).isPositive();
            assertThat(counters.floorCalls).isEqualTo(25);
            assertThat(counters.floorMicros).isPositive();
        } finally {
            benchmark.tearDown();
        }
    }
}

package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The cluster benchmark against a real three-master Redis Cluster: its set-up spreads the keys
 * over every master and grants on each, and the counters read the script calls and their Redis
 * time summed over the masters.
 */
class ClusterAcquireBenchmarkTest {

    @Test
    void decisionsSpreadOverTheMastersAndTheCountersSumTheirScriptCalls() throws Exception {
        ClusterAcquireBenchmark benchmark = new ClusterAcquireBenchmark();
        benchmark.inFlight = 8;
        benchmark.keys = 64;
        benchmark.setUp();
        try {
            assertThat(benchmark.masters()).as("masters holding the keys").isEqualTo(3);
            ClusterAcquireBenchmark.Counters counters = new ClusterAcquireBenchmark.Counters();
            counters.begin(benchmark);
            for (int i = 0; i < 200; i++) {
                benchmark.decide(counters);
            }
            counters.end(benchmark);
            assertThat(counters.decisions).isEqualTo(200);
            // One EVALSHA per decision: the keys differ, so nothing is coalesced.
            assertThat(counters.scriptCalls).isEqualTo(200);
            assertThat(counters.scriptMicros).isPositive();
        } finally {
            benchmark.tearDown();
        }
    }
}

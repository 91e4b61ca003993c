package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.benchmarks.CompareResults.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompareResultsTest {

    /** The shape JMH 1.37 writes with {@code -rf json}, trimmed to the fields that matter. */
    private static String run(String method, int threads, String impl, String outcome, double score,
                              String error, String alloc) {
        String secondary = alloc == null ? "{}"
                : "{\"gc.alloc.rate\": {\"score\": 12.5, \"scoreUnit\": \"MB/sec\"},"
                        + " \"gc.alloc.rate.norm\": {\"score\": " + alloc + ", \"scoreError\": \"NaN\","
                        + " \"scoreUnit\": \"B/op\", \"rawData\": [[0.0]]}}";
        return "{\"jmhVersion\": \"1.37\", \"benchmark\": \"dev.ratelimiter.benchmarks.LocalAcquireBenchmark."
                + method + "\", \"mode\": \"thrpt\", \"threads\": " + threads + ", \"forks\": 1,"
                + " \"jvmArgs\": [], \"params\": {\"impl\": \"" + impl + "\", \"outcome\": \"" + outcome + "\"},"
                + " \"primaryMetric\": {\"score\": " + score + ", \"scoreError\": " + error
                + ", \"scoreConfidence\": [\"NaN\", \"NaN\"], \"scoreUnit\": \"ops/us\", \"rawData\": [[1.0, 2.0]]},"
                + " \"secondaryMetrics\": " + secondary + "}";
    }

    private static final String RESULT = "[\n"
            + run("oneThread", 1, "bucket4j", "allowed", 20.0, "0.5", "64.0") + ",\n"
            + run("oneThread", 1, "tokenBucket", "allowed", 50.0, "1.25", "0.001") + ",\n"
            + run("oneThread", 1, "guava", "allowed", 25.0, "\"NaN\"", "0.0") + ",\n"
            + run("oneThread", 1, "resilience4j", "allowed", 10.0, "2e-1", "40.0") + ",\n"
            + run("twoThreads", 2, "tokenBucket", "denied", 80.0, "3.0", "0.0") + ",\n"
            + run("twoThreads", 2, "guava", "denied", 8.0, "0.1", "0.0") + ",\n"
            + "{\"benchmark\": \"some.OtherBenchmark.run\", \"threads\": 1, \"params\": {},"
            + " \"primaryMetric\": {\"score\": 1.0}}\n"
            + "]";

    @Test
    void parsesTheLocalAcquireRunsAndSkipsOtherBenchmarks() {
        List<Result> results = CompareResults.parse(RESULT);

        assertThat(results).hasSize(6);
        assertThat(results.get(1)).isEqualTo(new Result("tokenBucket", "allowed", 1, 50.0, 1.25, "ops/us", 0.001));
        assertThat(results.get(2).error()).isNaN();
        assertThat(results.get(3).error()).isEqualTo(0.2);
    }

    @Test
    void reportsEachOfOurScoresAsARatioToEveryPeer() {
        String report = CompareResults.report(CompareResults.parse(RESULT), false);

        assertThat(report).contains("== allowed, 1 thread (ops/us");
        // 50 / 20, 50 / 25, 50 / 10, and the allocation per operation.
        assertThat(report).containsPattern("tokenBucket +50\\.000 +± 1\\.250 +2\\.50 +2\\.00 +5\\.00 +0\\.0\n");
        assertThat(report).containsPattern("bucket4j +20\\.000 +± 0\\.500 +1\\.00 +0\\.80 +2\\.00 +64\\.0\n");
    }

    @Test
    void ordersOurLimitersFirstThenThePeers() {
        String report = CompareResults.report(CompareResults.parse(RESULT), false);

        // Row names start a line; the header names the peers too, mid-line.
        assertThat(report.indexOf("\ntokenBucket ")).isPositive()
                .isLessThan(report.indexOf("\nbucket4j "));
        assertThat(report.indexOf("\nbucket4j ")).isLessThan(report.indexOf("\nguava "));
        assertThat(report.indexOf("\nguava ")).isLessThan(report.indexOf("\nresilience4j "));
    }

    @Test
    void groupsByOutcomeAndThreadCountAndMarksMissingPeersNotAvailable() {
        String report = CompareResults.report(CompareResults.parse(RESULT), false);

        assertThat(report.indexOf("== allowed, 1 thread")).isLessThan(report.indexOf("== denied, 2 threads"));
        // Only Guava ran in the denied, two-thread group: 80 / 8 = 10.
        assertThat(report).containsPattern("tokenBucket +80\\.000 +± 3\\.000 +n/a +10\\.00 +n/a +0\\.0\n");
    }

    @Test
    void printsNotAvailableForAllocationWithoutTheGcProfiler() {
        String json = "[" + run("oneThread", 1, "leakyBucket", "allowed", 40.0, "1.0", null) + "]";

        String report = CompareResults.report(CompareResults.parse(json), false);

        assertThat(report).containsPattern("leakyBucket +40\\.000 +± 1\\.000 +n/a +n/a +n/a +n/a\n");
    }

    @Test
    void writesMarkdownTables() {
        String report = CompareResults.report(CompareResults.parse(RESULT), true);

        assertThat(report).contains("| impl | ops/us | error | x bucket4j | x guava | x resilience4j | B/op |\n"
                + "|---|---:|---:|---:|---:|---:|---:|\n"
                + "| tokenBucket | 50.000 | ± 1.250 | 2.50 | 2.00 | 5.00 | 0.0 |\n");
    }

    @Test
    void saysSoWhenTheFileHoldsNoLocalAcquireRuns() {
        assertThat(CompareResults.report(CompareResults.parse("[]"), false))
                .isEqualTo("no LocalAcquireBenchmark results in this file\n");
    }

    @Test
    void rejectsTextThatIsNotAJmhResult() {
        assertThatThrownBy(() -> CompareResults.parse("{\"benchmark\": 1}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("array of runs");
        assertThatThrownBy(() -> CompareResults.parse("[{\"benchmark\": \"x\"} trailing"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid JSON at offset");
        assertThatThrownBy(() -> CompareResults.parse("[\"unterminated]"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unterminated string");
    }

    @Test
    void decodesStringEscapes() {
        Object value = new CompareResults.Json("{\"a\\\"b\": \"\\u00e9\\n\\t\\\\\"}").document();

        assertThat(value).isEqualTo(java.util.Map.of("a\"b", "\u00e9\n\t\\"));
    }
}

package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ratelimiter.benchmarks.SuiteTable.Run;
import java.util.List;
import org.junit.jupiter.api.Test;

class SuiteTableTest {

    /** A run in the shape JMH 1.37 writes with {@code -rf json}, trimmed to the fields read. */
    private static String run(String benchmark, String mode, String params, double score, String unit,
                              String extraPrimary, String secondary) {
        return "{\"jmhVersion\": \"1.37\", \"benchmark\": \"dev.ratelimiter.benchmarks." + benchmark + "\","
                + " \"mode\": \"" + mode + "\", \"threads\": 1, \"forks\": 1, \"params\": " + params + ","
                + " \"primaryMetric\": {\"score\": " + score + ", \"scoreError\": \"NaN\","
                + " \"scoreConfidence\": [\"NaN\", \"NaN\"]" + extraPrimary + ", \"scoreUnit\": \"" + unit + "\","
                + " \"rawData\": [[1.0]]}, \"secondaryMetrics\": " + secondary + "}";
    }

    private static String thrpt(String benchmark, String impl, double score) {
        return run(benchmark, "thrpt", impl == null ? "{}" : "{\"impl\": \"" + impl + "\", \"outcome\": \"allowed\"}",
                score, "ops/us", "", "{}");
    }

    private static String p99(String impl, double p99) {
        return run("HalfAdmittedBenchmark.oneThreadLatency", "sample", "{\"impl\": \"" + impl + "\"}", 999.0,
                "ns/op", ", \"scorePercentiles\": {\"50.0\": 30.0, \"99.0\": " + p99 + ", \"100.0\": 9999.0}", "{}");
    }

    private static String halfAdmitted(String impl, double score, double admitted, double denied) {
        return run("HalfAdmittedBenchmark.oneThread", "thrpt", "{\"impl\": \"" + impl + "\"}", score, "ops/us", "",
                "{\"admitted\": {\"score\": " + admitted + ", \"scoreUnit\": \"#\"},"
                        + " \"denied\": {\"score\": " + denied + ", \"scoreUnit\": \"#\"},"
                        + " \"gc.alloc.rate.norm\": {\"score\": 16.0, \"scoreUnit\": \"B/op\"}}");
    }

    private static final String SUITE = "[\n"
            + thrpt("MachineFloorBenchmark.nanoTime", null, 40.0) + ",\n"
            + thrpt("LocalAcquireBenchmark.oneThread", "tokenBucket", 30.0) + ",\n"
            + thrpt("LocalAcquireBenchmark.oneThread", "leakyBucket", 10.0) + ",\n"
            + thrpt("LocalAcquireBenchmark.oneThread", "bucket4j", 15.0) + ",\n"
            + thrpt("LocalAcquireBenchmark.oneThread", "guava", 20.0) + ",\n"
            + p99("tokenBucket", 50.0) + ",\n"
            + p99("bucket4j", 100.0) + ",\n"
            + p99("resilience4j", 80.0) + ",\n"
            + halfAdmitted("tokenBucket", 60.0, 300.0, 100.0) + ",\n"
            + halfAdmitted("bucket4j", 6.0, 50.0, 50.0) + "\n"
            + "]";

    @Test
    void parsesShapesWithoutTheImplementationAndTakesP99ForSampleTime() {
        List<Run> runs = SuiteTable.parse(SUITE);

        assertThat(runs).hasSize(10);
        assertThat(runs.get(0)).isEqualTo(new Run("MachineFloorBenchmark.nanoTime [thrpt]", "-", "thrpt", 40.0,
                "ops/us", Double.NaN, Double.NaN));
        assertThat(runs.get(1).shape()).isEqualTo("LocalAcquireBenchmark.oneThread outcome=allowed [thrpt]");
        assertThat(runs.get(1).impl()).isEqualTo("tokenBucket");
        assertThat(runs.get(5).shape()).isEqualTo("HalfAdmittedBenchmark.oneThreadLatency [p99]");
        assertThat(runs.get(5).figure()).isEqualTo(50.0);
        assertThat(runs.get(8).admittedShare()).isCloseTo(0.75, within(1e-9));
        assertThat(runs.get(8).allocBytesPerOp()).isEqualTo(16.0);
    }

    @Test
    void throughputRatioIsToTheFastestPeerAndToNanoTime() {
        String report = SuiteTable.report(SuiteTable.parse(SUITE), false);

        // 30 / max(15, 20) = 1.50; 30 / 40 = 0.75; no resilience4j run: blank cell.
        assertThat(report).containsPattern(
                "LocalAcquireBenchmark\\.oneThread outcome=allowed \\[thrpt\\] +tokenBucket +30\\.000 +ops/us"
                        + " +15\\.000 +20\\.000 +1\\.50 +0\\.75\n");
        assertThat(report).containsPattern("allowed \\[thrpt\\] +leakyBucket +10\\.000 +ops/us +15\\.000 +20\\.000 +0\\.50 +0\\.25\n");
    }

    @Test
    void p99RatioIsTheBestPeerOverOurs() {
        String report = SuiteTable.report(SuiteTable.parse(SUITE), false);

        // Lower is better: min(100, 80) / 50 = 1.60, and no nanoTime ratio for a time.
        assertThat(report).containsPattern(
                "oneThreadLatency \\[p99\\] +tokenBucket +50\\.000 +ns/op +100\\.000 +80\\.000 +1\\.60\n");
    }

    @Test
    void halfAdmittedShowsTheAdmittedShareButNoNanoTimeRatio() {
        String report = SuiteTable.report(SuiteTable.parse(SUITE), false);

        // 60 / 6 = 10.00; the fake-clock shape gets no nanoTime ratio; 300 / 400 admitted.
        assertThat(report).containsPattern(
                "HalfAdmittedBenchmark\\.oneThread \\[thrpt\\] +tokenBucket +60\\.000 +ops/us +6\\.000 +10\\.00 +16\\.0 +75\\.0%\n");
    }

    @Test
    void peersAppearOnlyAsColumnsNeverAsRows() {
        String report = SuiteTable.report(SuiteTable.parse(SUITE), false);

        assertThat(report.lines().filter(l -> l.matches("\\S+.*\\] +(bucket4j|guava|resilience4j) .*"))).isEmpty();
        assertThat(report.lines().count()).isEqualTo(2 + 5);
    }

    @Test
    void markdownHasOneRowPerOfOurFigures() {
        String report = SuiteTable.report(SuiteTable.parse(SUITE), true);

        assertThat(report).contains("| shape | impl | figure | unit | bucket4j | guava | resilience4j | x best peer |");
        assertThat(report).contains("| LocalAcquireBenchmark.oneThread outcome=allowed [thrpt] | tokenBucket | 30.000 | ops/us"
                + " | 15.000 | 20.000 |  | 1.50 |  |  | 0.75 |  |  |  |  |\n");
    }

    private static String redis(String benchmark, String impl, String inFlight, double score, double decisions,
                                double sent, double executed) {
        return run(benchmark, "thrpt", "{\"impl\": \"" + impl + "\"" + (inFlight == null ? "" : ", \"inFlight\": \""
                        + inFlight + "\"") + "}", score, "ops/s", "",
                "{\"decisions\": {\"score\": " + decisions + ", \"scoreUnit\": \"#\"},"
                        + " \"executedCommands\": {\"score\": " + executed + ", \"scoreUnit\": \"#\"},"
                        + " \"sentCommands\": {\"score\": " + sent + ", \"scoreUnit\": \"#\"}}");
    }

    private static final String REDIS = "[\n"
            + redis("RedisAcquireBenchmark.sync", "tokenBucket", null, 8000, 40000, 40000, 160000) + ",\n"
            + redis("RedisAcquireBenchmark.sync", "bucket4j", null, 4000, 20000, 40000, 80000) + ",\n"
            + redis("RedisAcquireBenchmark.sync", "noopEvalsha", null, 10000, 50000, 50000, 50000) + ",\n"
            + redis("AsyncRedisAcquireBenchmark.decide", "tokenBucket", "64", 30000, 150000, 150000, 600000) + ",\n"
            + redis("AsyncRedisAcquireBenchmark.decide", "bucket4j", "64", 300, 1500, 120000, 180000) + "\n"
            + "]";

    @Test
    void redisShapesShowTheCeilingAsAColumnAndCommandsPerDecision() {
        String report = SuiteTable.report(SuiteTable.parse(REDIS), false);

        // 8000 / 4000 = 2.00 against the peer; 8000 / 10000 = 0.80 of the ceiling; 1 command
        // sent, 4 executed (the script's own calls); bucket4j 2 sent, 4 executed; the ceiling 1.
        assertThat(report).containsPattern("RedisAcquireBenchmark\\.sync \\[thrpt\\] +tokenBucket +8000 +ops/s +4000"
                + " +2\\.00 +10000 +0\\.80 +1\\.00 \\(4\\.00\\) +bucket4j 2\\.00 \\(4\\.00\\), noopEvalsha 1\\.00 \\(1\\.00\\)\n");
        // No ceiling in the run: blank ceiling cells, the peer's commands still shown.
        assertThat(report).containsPattern("AsyncRedisAcquireBenchmark\\.decide inFlight=64 \\[thrpt\\] +tokenBucket"
                + " +30000 +ops/s +300\\.000 +100\\.00 +1\\.00 \\(4\\.00\\) +bucket4j 80\\.00 \\(120\\.00\\)\n");
    }

    @Test
    void theCeilingIsNeitherARowNorThePeerToBeat() {
        String report = SuiteTable.report(SuiteTable.parse(REDIS), false);

        assertThat(report.lines().filter(l -> l.matches("\\S+.*\\] +(bucket4j|noopEvalsha) .*"))).isEmpty();
        assertThat(report.lines().count()).isEqualTo(2 + 2);
    }

    @Test
    void commandsPerDecisionAreParsedFromTheAuxCounters() {
        Run run = SuiteTable.parse(REDIS).get(1);

        assertThat(run.sentPerDecision()).isEqualTo(2.0);
        assertThat(run.executedPerDecision()).isEqualTo(4.0);
        assertThat(SuiteTable.parse(SUITE).get(1).sentPerDecision()).isNaN();
    }

    @Test
    void emptyResultSaysSo() {
        assertThat(SuiteTable.report(SuiteTable.parse("[]"), false)).isEqualTo("no benchmark results in this file\n");
    }

    @Test
    void notAJmhResultIsRejected() {
        assertThatThrownBy(() -> SuiteTable.parse("{\"benchmark\": 1}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("a JMH JSON result is an array of runs, found: ");
        assertThatThrownBy(() -> SuiteTable.parse("[{\"benchmark\": \"x.Y.z\", \"mode\": \"thrpt\"}]"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("primaryMetric of x.Y.z must be a JSON object, found: null");
    }

    @Test
    void sampleTimeWithoutPercentilesIsRejectedByName() {
        String json = "[" + run("HalfAdmittedBenchmark.oneThreadLatency", "sample", "{\"impl\": \"guava\"}", 1.0,
                "ns/op", "", "{}") + "]";

        assertThatThrownBy(() -> SuiteTable.parse(json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("scorePercentiles of dev.ratelimiter.benchmarks.HalfAdmittedBenchmark.oneThreadLatency"
                        + " must be a JSON object, found: null");
    }

    private static String scriptTime(String script, double calls, double micros, String floor) {
        return run("ScriptTimeBenchmark.call", "thrpt", "{\"script\": \"" + script + "\"}",
                9000.0, "ops/s", "", "{\"scriptCalls\": {\"score\": " + calls + ", \"scoreUnit\": \"#\"},"
                        + " \"scriptMicros\": {\"score\": " + micros + ", \"scoreUnit\": \"#\"}" + floor + "}");
    }

    @Test
    void scriptTimeIsPrintedBesideItsFloorWithTheRatio() {
        String json = "[\n" + scriptTime("tokenBucket", 1000, 12_600,
                ", \"floorCalls\": {\"score\": 2000, \"scoreUnit\": \"#\"},"
                        + " \"floorMicros\": {\"score\": 10000, \"scoreUnit\": \"#\"}") + ",\n"
                + scriptTime("slidingLog", 100, 700, "") + ",\n"
                + thrpt("LocalAcquireBenchmark.oneThread", "tokenBucket", 30.0) + "\n]";
        List<Run> runs = SuiteTable.parse(json);
        assertThat(runs.get(0).redisMicrosPerCall()).isEqualTo(12.6);
        assertThat(runs.get(0).floorMicrosPerCall()).isEqualTo(5.0);
        assertThat(runs.get(1).floorMicrosPerCall()).isNaN();
        assertThat(runs.get(2).redisMicrosPerCall()).isNaN();

        String report = SuiteTable.report(runs, false);
        String times = report.substring(report.indexOf("== Redis time per script call"));
        // 12.6 us against the floor's 5.0: 2.52; a run without a floor shows its time alone.
        assertThat(times).containsPattern("ScriptTimeBenchmark.call script=tokenBucket \\[thrpt\\] +12\\.60 +5\\.00 +2\\.52");
        assertThat(times).containsPattern("script=slidingLog \\[thrpt\\] +7\\.00\\s*\n");
        assertThat(times).doesNotContain("LocalAcquireBenchmark");

        String markdown = SuiteTable.report(runs, true);
        assertThat(markdown).contains("| ScriptTimeBenchmark.call script=tokenBucket [thrpt] | 12.60 | 5.00 | 2.52 |");
        assertThat(SuiteTable.report(SuiteTable.parse(SUITE), false)).doesNotContain("Redis time per script call");
    }

    private static String async(String impl, String keys, double score, double decisions, double executed) {
        return run("AsyncRedisAcquireBenchmark.decide", "thrpt", "{\"impl\": \"" + impl + "\", \"inFlight\": \"64\","
                        + " \"keys\": \"" + keys + "\"}", score, "ops/s", "",
                "{\"decisions\": {\"score\": " + decisions + ", \"scoreUnit\": \"#\"},"
                        + " \"executedCommands\": {\"score\": " + executed + ", \"scoreUnit\": \"#\"},"
                        + " \"scriptCalls\": {\"score\": " + decisions + ", \"scoreUnit\": \"#\"},"
                        + " \"scriptMicros\": {\"score\": " + 8 * decisions + ", \"scoreUnit\": \"#\"},"
                        + " \"sentCommands\": {\"score\": " + decisions + ", \"scoreUnit\": \"#\"}}");
    }

    @Test
    void theTargetsOfTheDistributedPathArePrintedWithTheirRatiosAndWhetherMet() {
        String json = "[\n" + scriptTime("tokenBucket", 1000, 12_600,
                ", \"floorCalls\": {\"score\": 2000, \"scoreUnit\": \"#\"},"
                        + " \"floorMicros\": {\"score\": 10000, \"scoreUnit\": \"#\"}") + ",\n"
                + async("tokenBucket", "1024", 45_000, 1000, 4000) + ",\n"
                + async("noopEvalsha", "1024", 50_000, 1000, 1000) + ",\n"
                + async("tokenBucket", "1", 120_000, 1000, 100) + ",\n"
                + async("tokenBucketAlone", "1", 30_000, 1000, 4000) + ",\n"
                + run("HotKeyRefusedBenchmark.refusedMostly", "thrpt", "{\"impl\": \"tokenBucket\"}", 3_000_000, "ops/s",
                        "", "{\"decisions\": {\"score\": 100000, \"scoreUnit\": \"#\"},"
                                + " \"executedCommands\": {\"score\": 3000, \"scoreUnit\": \"#\"},"
                                + " \"sentCommands\": {\"score\": 1000, \"scoreUnit\": \"#\"}}") + ",\n"
                + run("HotKeyRefusedBenchmark.refusedMostly", "thrpt", "{\"impl\": \"tokenBucketNoCache\"}", 10_000,
                        "ops/s", "", "{}") + ",\n"
                + run("ClusterAcquireBenchmark.decide", "thrpt", "{\"inFlight\": \"64\", \"keys\": \"1024\"}", 36_000,
                        "ops/s", "", "{\"scriptCalls\": {\"score\": 1000, \"scoreUnit\": \"#\"},"
                                + " \"scriptMicros\": {\"score\": 9500, \"scoreUnit\": \"#\"}}") + "\n]";
        String report = SuiteTable.report(SuiteTable.parse(json), false);
        String targets = report.substring(report.indexOf("== Targets of the distributed path"));
        // 12.6 / 5.0 = 2.52 > 1.2; 45,000 / 50,000 = 0.90 >= 0.8; 120,000 / 30,000 = 4.00 >= 3;
        // 100 executed for 1000 decisions: 0.10 <= 0.2; 3000 / 100000 = 0.03 > 0.02; 300 >= 100.
        assertThat(targets).containsPattern("script=tokenBucket \\[thrpt\\]: Redis time x floor +2\\.52 +<= 1\\.20  no");
        assertThat(targets).containsPattern("64 in flight, 1024 keys: x no-op EVALSHA ceiling +0\\.90 +>= 0\\.80  yes");
        assertThat(targets).containsPattern("one hot key, coalesced: x one call per decision +4\\.00 +>= 3\\.00  yes");
        assertThat(targets).containsPattern("one hot key, coalesced: Redis commands per decision +0\\.10 +<= 0\\.20  yes");
        assertThat(targets).containsPattern("refused: Redis commands per decision +0\\.03 +<= 0\\.02  no");
        assertThat(targets).containsPattern("refused: x without the refusal cache +300 +>= 100\\.00  yes");
        // The cluster is reported beside the one master: 36,000 / 45,000; 9,500 us over 1,000 calls.
        assertThat(targets).containsPattern("3 masters, 1024 keys: decisions/s x 1 master +0\\.80 +reported  -");
        assertThat(targets).containsPattern("3 masters: Redis us per decision +9\\.50 +reported  -");
        // A Redis benchmark's own script time is listed per implementation.
        String times = report.substring(report.indexOf("== Redis time per script call"), report.indexOf("== Targets"));
        assertThat(times).containsPattern("ClusterAcquireBenchmark.decide inFlight=64 keys=1024 \\[thrpt\\] +9\\.50");
        assertThat(times).containsPattern("keys=1024 \\[thrpt\\] tokenBucket +8\\.00");
        assertThat(times).containsPattern("keys=1024 \\[thrpt\\] noopEvalsha +8\\.00");
        assertThat(targets).containsPattern("1 master, 1024 keys: Redis us per decision +8\\.00 +reported  -");
        assertThat(SuiteTable.report(SuiteTable.parse(json), true))
                .contains("| 64 in flight, 1024 keys: x no-op EVALSHA ceiling | 0.90 | >= 0.80 | yes |");
        assertThat(SuiteTable.report(SuiteTable.parse(SUITE), false)).doesNotContain("Targets of the distributed path");
    }
}

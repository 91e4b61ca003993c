package dev.ratelimiter.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints one table for a JMH run of several benchmark classes: for each shape (benchmark method,
 * mode and parameters other than the implementation), each of this project's figures, each
 * peer's ({@link CompareResults#PEERS}), and the ratio to the best peer. The ratio is oriented so
 * that above 1 always means this project is better: score / best peer score for throughput,
 * best peer / score for times, where the figure of a {@code SampleTime} run is its p99.
 *
 * <p>When the run includes {@link MachineFloorBenchmark}, each throughput figure is also divided
 * by the {@code System.nanoTime()} throughput of the same run ({@code x nanoTime}; not for
 * {@link HalfAdmittedBenchmark}, which reads a fake clock instead); when it used
 * {@code -prof gc}, the allocation per operation is shown; when the benchmark counts admissions
 * ({@link HalfAdmittedBenchmark}), the admitted share is shown.
 *
 * <p>A {@link #CEILINGS ceiling} (the Redis benchmarks' {@code noopEvalsha}, a round trip doing
 * no work) is not a peer to beat but the most the shape can reach: it gets its own column, and
 * each of this project's figures its fraction of it ({@code x ceiling}). When a run counts
 * commands (the Redis benchmarks' {@code decisions} and {@code sentCommands} aux counters), the
 * commands sent per decision are shown, with the commands Redis executed per decision in
 * parentheses ({@code INFO commandstats}, which also counts those a script runs): for this
 * project in {@code cmds/decision}, for the peers and the ceiling in {@code others' cmds/decision}.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar -prof gc -rf json -rff suite.json
 * java -cp benchmarks/target/benchmarks.jar dev.ratelimiter.benchmarks.SuiteTable suite.json
 * java -cp benchmarks/target/benchmarks.jar dev.ratelimiter.benchmarks.SuiteTable --markdown suite.json
 * </pre>
 */
public final class SuiteTable {

    /** The implementation shown in a run's row when the benchmark has no {@code impl} parameter. */
    static final String NO_IMPL = "-";

    /** Implementations that measure the most a shape can reach: shown as a ceiling, not a peer. */
    static final List<String> CEILINGS = List.of("noopEvalsha");

    private SuiteTable() {
    }

    /**
     * Prints the table of a JMH JSON result file.
     *
     * @param args {@code [--markdown] result.json}
     * @throws IOException if the file cannot be read
     */
    public static void main(String[] args) throws IOException {
        boolean markdown = args.length == 2 && args[0].equals("--markdown");
        if (args.length != 1 && !markdown) {
            System.err.println("usage: SuiteTable [--markdown] result.json"
                    + "   (from: java -jar benchmarks.jar -prof gc -rf json -rff result.json)");
            System.exit(2);
        }
        String json = Files.readString(Path.of(args[args.length - 1]), StandardCharsets.UTF_8);
        System.out.print(report(parse(json), markdown));
    }

    /**
     * One run of one benchmark method with one set of parameters.
     *
     * @param shape          what was measured, without the implementation: class.method, mode,
     *                       the other parameters
     * @param impl           the {@code impl} parameter, or {@link #NO_IMPL}
     * @param mode           JMH's short mode name: {@code thrpt}, {@code avgt}, {@code sample}, ...
     * @param figure         the score, or the p99 for {@code sample}
     * @param unit           the unit of {@code figure}
     * @param allocBytesPerOp {@code gc.alloc.rate.norm}, or NaN without {@code -prof gc}
     * @param admittedShare  admitted / (admitted + denied) from the aux counters, or NaN
     * @param sentPerDecision     commands sent / decisions from the aux counters, or NaN
     * @param executedPerDecision commands Redis executed / decisions from the aux counters, or NaN
     * @param redisMicrosPerCall  Redis's microseconds per script call ({@code scriptMicros} /
     *                            {@code scriptCalls} from the aux counters), or NaN
     * @param floorMicrosPerCall  likewise of the floor script measured beside it ({@code floorMicros} /
     *                            {@code floorCalls}), or NaN
     */
    record Run(String shape, String impl, String mode, double figure, String unit, double allocBytesPerOp,
               double admittedShare, double sentPerDecision, double executedPerDecision, double redisMicrosPerCall,
               double floorMicrosPerCall) {

        /** A run that measured no script time. */
        Run(String shape, String impl, String mode, double figure, String unit, double allocBytesPerOp,
            double admittedShare, double sentPerDecision, double executedPerDecision) {
            this(shape, impl, mode, figure, unit, allocBytesPerOp, admittedShare, sentPerDecision, executedPerDecision,
                    Double.NaN, Double.NaN);
        }

        /** A run that counted no commands. */
        Run(String shape, String impl, String mode, double figure, String unit, double allocBytesPerOp,
            double admittedShare) {
            this(shape, impl, mode, figure, unit, allocBytesPerOp, admittedShare, Double.NaN, Double.NaN);
        }

        /** @return whether a larger figure is better (throughput) rather than a smaller one (time) */
        boolean higherIsBetter() {
            return mode.equals("thrpt");
        }
    }

    /**
     * Extracts every run of a JMH JSON result.
     *
     * @param json the content of a {@code -rf json} file
     * @return the runs, in file order
     * @throws IllegalArgumentException if the text is not JSON or not a JMH result
     */
    static List<Run> parse(String json) {
        Object root = new CompareResults.Json(json).document();
        if (!(root instanceof List<?> runs)) {
            throw new IllegalArgumentException("a JMH JSON result is an array of runs, found: " + kind(root));
        }
        List<Run> result = new ArrayList<>();
        for (Object element : runs) {
            Map<?, ?> run = asMap(element, "run");
            String benchmark = String.valueOf(run.get("benchmark"));
            String mode = String.valueOf(run.get("mode"));
            Map<?, ?> params = run.get("params") instanceof Map<?, ?> p ? p : Map.of();
            Map<?, ?> primary = asMap(run.get("primaryMetric"), "primaryMetric of " + benchmark);

            // The class and method, without the package: dev.x.FooBenchmark.run -> FooBenchmark.run.
            String[] parts = benchmark.split("\\.");
            String name = parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : benchmark;
            StringBuilder shape = new StringBuilder(name);
            new TreeMap<String, Object>(stringKeys(params)).forEach((key, value) -> {
                if (!key.equals("impl")) {
                    shape.append(' ').append(key).append('=').append(value);
                }
            });
            shape.append(" [").append(mode.equals("sample") ? "p99" : mode).append(']');

            double figure = number(primary.get("score"), "score of " + benchmark);
            if (mode.equals("sample")) {
                Map<?, ?> percentiles = asMap(primary.get("scorePercentiles"), "scorePercentiles of " + benchmark);
                figure = number(percentiles.get("99.0"), "p99 of " + benchmark);
            }
            double alloc = Double.NaN;
            double admitted = Double.NaN;
            double sent = Double.NaN;
            double executed = Double.NaN;
            double micros = Double.NaN;
            double floorMicros = Double.NaN;
            if (run.get("secondaryMetrics") instanceof Map<?, ?> secondary) {
                micros = perCall(secondary, "scriptMicros", "scriptCalls", benchmark);
                floorMicros = perCall(secondary, "floorMicros", "floorCalls", benchmark);
                if (secondary.get("gc.alloc.rate.norm") instanceof Map<?, ?> norm) {
                    alloc = number(norm.get("score"), "gc.alloc.rate.norm of " + benchmark);
                }
                if (secondary.get("admitted") instanceof Map<?, ?> yes && secondary.get("denied") instanceof Map<?, ?> no) {
                    double a = number(yes.get("score"), "admitted of " + benchmark);
                    double d = number(no.get("score"), "denied of " + benchmark);
                    admitted = a + d > 0 ? a / (a + d) : Double.NaN;
                }
                if (secondary.get("decisions") instanceof Map<?, ?> made
                        && secondary.get("sentCommands") instanceof Map<?, ?> commands) {
                    double decisions = number(made.get("score"), "decisions of " + benchmark);
                    if (decisions > 0) {
                        sent = number(commands.get("score"), "sentCommands of " + benchmark) / decisions;
                        if (secondary.get("executedCommands") instanceof Map<?, ?> ran) {
                            executed = number(ran.get("score"), "executedCommands of " + benchmark) / decisions;
                        }
                    }
                }
            }
            Object impl = params.get("impl");
            result.add(new Run(shape.toString(), impl == null ? NO_IMPL : String.valueOf(impl), mode, figure,
                    String.valueOf(primary.get("scoreUnit")), alloc, admitted, sent, executed, micros,
                    floorMicros));
        }
        return result;
    }

    /**
     * Formats the table.
     *
     * @param runs     the runs
     * @param markdown a Markdown table instead of aligned plain text
     * @return the report
     */
    static String report(List<Run> runs, boolean markdown) {
        if (runs.isEmpty()) {
            return "no benchmark results in this file\n";
        }
        Run floor = null;
        for (Run r : runs) {
            if (r.shape().startsWith(MachineFloorBenchmark.class.getSimpleName() + ".nanoTime ")
                    && r.mode().equals("thrpt")) {
                floor = r;
            }
        }
        Map<String, List<Run>> shapes = new LinkedHashMap<>();
        for (Run r : runs) {
            shapes.computeIfAbsent(r.shape(), s -> new ArrayList<>()).add(r);
        }
        List<String> header = new ArrayList<>(List.of("shape", "impl", "figure", "unit"));
        header.addAll(CompareResults.PEERS);
        header.addAll(List.of("x best peer", "ceiling", "x ceiling", "x nanoTime", "B/op", "admitted",
                "cmds/decision", "others' cmds/decision"));
        List<List<String>> table = new ArrayList<>();
        for (List<Run> group : shapes.values()) {
            Map<String, Run> peers = new LinkedHashMap<>();
            List<Run> ours = new ArrayList<>();
            Run ceiling = null;
            for (Run r : group) {
                if (CompareResults.PEERS.contains(r.impl())) {
                    peers.put(r.impl(), r);
                } else if (CEILINGS.contains(r.impl())) {
                    ceiling = r;
                } else {
                    ours.add(r);
                }
            }
            ours.sort(Comparator.comparingInt(SuiteTable::rowOrder));
            Run best = null;
            for (Run p : peers.values()) {
                if (best == null || (p.higherIsBetter() ? p.figure() > best.figure() : p.figure() < best.figure())) {
                    best = p;
                }
            }
            if (ours.isEmpty()) {
                // Only peers measured this shape (a restricted run): still show their figures.
                ours.add(null);
            }
            for (Run r : ours) {
                Run any = r != null ? r : group.get(0);
                List<String> row = new ArrayList<>();
                row.add(any.shape());
                row.add(r == null ? NO_IMPL : r.impl());
                row.add(r == null ? "" : figure(r.figure()));
                row.add(any.unit());
                for (String p : CompareResults.PEERS) {
                    Run peer = peers.get(p);
                    row.add(peer == null ? "" : figure(peer.figure()));
                }
                row.add(r == null || best == null ? "" : ratio(r, best));
                row.add(ceiling == null ? "" : figure(ceiling.figure()));
                row.add(r == null || ceiling == null ? "" : ratio(r, ceiling));
                row.add(r != null && floor != null && r != floor && r.mode().equals("thrpt") && readsTheClock(r)
                        && r.unit().equals(floor.unit()) && floor.figure() > 0
                        ? fixed(r.figure() / floor.figure(), 2) : "");
                row.add(r == null || Double.isNaN(r.allocBytesPerOp()) ? "" : fixed(r.allocBytesPerOp(), 1));
                row.add(r == null || Double.isNaN(r.admittedShare()) ? "" : fixed(100 * r.admittedShare(), 1) + "%");
                row.add(r == null ? "" : commands(r));
                List<String> others = new ArrayList<>();
                for (Run other : group) {
                    if ((peers.containsValue(other) || other == ceiling) && !commands(other).isEmpty()) {
                        others.add(other.impl() + " " + commands(other));
                    }
                }
                row.add(String.join(", ", others));
                table.add(row);
            }
        }
        StringBuilder out = new StringBuilder();
        String title = "x best peer: above 1 means this project is better (throughput: figure / best peer;"
                + " times and p99: best peer / figure); x ceiling: figure / ceiling;"
                + " cmds/decision: sent (executed by Redis, script calls included)";
        if (markdown) {
            appendMarkdown(out, title, header, table, 2);
        } else {
            out.append("== ").append(title).append('\n');
            int[] widths = new int[header.size()];
            for (int c = 0; c < widths.length; c++) {
                widths[c] = header.get(c).length();
                for (List<String> row : table) {
                    widths[c] = Math.max(widths[c], row.get(c).length());
                }
            }
            appendPlainRow(out, header, widths);
            for (List<String> row : table) {
                appendPlainRow(out, row, widths);
            }
        }
        appendScriptTimes(out, runs, markdown);
        appendTargets(out, runs, markdown);
        return out.toString();
    }

    /** One target of the distributed path, measured in the run; a goal of NaN: reported only. */
    private record Target(String what, double measured, boolean atLeast, double goal) {
        List<String> row() {
            if (Double.isNaN(goal)) {
                return List.of(what, fixed(measured, measured >= 100 ? 0 : 2), "reported", "-");
            }
            return List.of(what, fixed(measured, measured >= 100 ? 0 : 2), (atLeast ? ">= " : "<= ") + fixed(goal, 2),
                    (atLeast ? measured >= goal : measured <= goal) ? "yes" : "no");
        }
    }

    /**
     * Appends, when the run measured them, the targets of the distributed path with the ratio
     * measured for each: every script's Redis time against its floor, 64 decisions in flight on
     * many keys against the no-op {@code EVALSHA} ceiling and in bytes allocated against the same
     * script called bare through Lettuce, 64 in flight on one hot granting key
     * coalesced against the same limiter with coalescing off and in Redis commands per decision,
     * the hot refused key in commands per decision and against the limiter without its refusal
     * cache, and, reported beside one master, the decisions per second and Redis time per decision
     * of a three-master Redis Cluster ({@link ClusterAcquireBenchmark}).
     */
    private static void appendTargets(StringBuilder out, List<Run> runs, boolean markdown) {
        List<Target> targets = new ArrayList<>();
        for (Run r : runs) {
            if (!Double.isNaN(r.redisMicrosPerCall()) && r.floorMicrosPerCall() > 0) {
                targets.add(new Target(r.shape() + ": Redis time x floor", r.redisMicrosPerCall() / r.floorMicrosPerCall(),
                        false, 1.2));
            }
        }
        String async = AsyncRedisAcquireBenchmark.class.getSimpleName() + ".decide inFlight=64 keys=";
        Run many = find(runs, async + "1024 [thrpt]", "tokenBucket");
        Run ceiling = find(runs, async + "1024 [thrpt]", "noopEvalsha");
        if (many != null && ceiling != null && ceiling.figure() > 0) {
            targets.add(new Target("64 in flight, 1024 keys: x no-op EVALSHA ceiling", many.figure() / ceiling.figure(),
                    true, 0.8));
        }
        Run bare = find(runs, async + "1024 [thrpt]", "bareEvalsha");
        if (many != null && bare != null && bare.allocBytesPerOp() > 0) {
            targets.add(new Target("64 in flight, 1024 keys: client bytes per decision x bare EVALSHA",
                    many.allocBytesPerOp() / bare.allocBytesPerOp(), false, 1.25));
        }
        Run hot = find(runs, async + "1 [thrpt]", "tokenBucket");
        Run alone = find(runs, async + "1 [thrpt]", "tokenBucketAlone");
        if (hot != null && alone != null && alone.figure() > 0) {
            targets.add(new Target("64 in flight, one hot key, coalesced: x one call per decision",
                    hot.figure() / alone.figure(), true, 3));
        }
        if (hot != null && !Double.isNaN(redisCommands(hot))) {
            targets.add(new Target("64 in flight, one hot key, coalesced: Redis commands per decision",
                    redisCommands(hot), false, 0.2));
        }
        Run cluster = find(runs, ClusterAcquireBenchmark.class.getSimpleName()
                + ".decide inFlight=64 keys=1024 [thrpt]", NO_IMPL);
        if (cluster != null && many != null && many.figure() > 0) {
            targets.add(new Target("Redis Cluster, 3 masters, 1024 keys: decisions/s x 1 master",
                    cluster.figure() / many.figure(), true, Double.NaN));
        }
        if (cluster != null && !Double.isNaN(cluster.redisMicrosPerCall())) {
            targets.add(new Target("Redis Cluster, 3 masters: Redis us per decision", cluster.redisMicrosPerCall(), false,
                    Double.NaN));
        }
        if (cluster != null && many != null && !Double.isNaN(many.redisMicrosPerCall())) {
            targets.add(new Target("1 master, 1024 keys: Redis us per decision", many.redisMicrosPerCall(), false,
                    Double.NaN));
        }
        String refused = HotKeyRefusedBenchmark.class.getSimpleName() + ".refusedMostly [thrpt]";
        Run cached = find(runs, refused, "tokenBucket");
        Run uncached = find(runs, refused, "tokenBucketNoCache");
        if (cached != null && !Double.isNaN(redisCommands(cached))) {
            targets.add(new Target("one hot key ~99% refused: Redis commands per decision", redisCommands(cached),
                    false, 0.02));
        }
        if (cached != null && uncached != null && uncached.figure() > 0) {
            targets.add(new Target("one hot key ~99% refused: x without the refusal cache",
                    cached.figure() / uncached.figure(), true, 100));
        }
        if (targets.isEmpty()) {
            return;
        }
        List<List<String>> table = new ArrayList<>();
        for (Target t : targets) {
            table.add(t.row());
        }
        List<String> header = List.of("target", "measured", "goal", "met");
        String title = "Targets of the distributed path, as measured in this run";
        if (markdown) {
            out.append('\n');
            appendMarkdown(out, title, header, table, 1);
        } else {
            out.append("\n== ").append(title).append('\n');
            out.append(String.format(Locale.ROOT, "%-75s %10s %9s  %s%n", header.toArray()));
            for (List<String> row : table) {
                out.append(String.format(Locale.ROOT, "%-75s %10s %9s  %s%n", row.toArray()));
            }
        }
    }

    /** @return the run of {@code impl} on {@code shape}, or {@code null} */
    private static Run find(List<Run> runs, String shape, String impl) {
        for (Run r : runs) {
            if (r.shape().equals(shape) && r.impl().equals(impl)) {
                return r;
            }
        }
        return null;
    }

    /** @return the commands Redis executed per decision, else those sent, else NaN */
    private static double redisCommands(Run r) {
        return Double.isNaN(r.executedPerDecision()) ? r.sentPerDecision() : r.executedPerDecision();
    }

    /** @return the aux counter {@code total} divided by the aux counter {@code count}, or NaN without them */
    private static double perCall(Map<?, ?> secondary, String total, String count, String benchmark) {
        if (secondary.get(count) instanceof Map<?, ?> calls && secondary.get(total) instanceof Map<?, ?> spent) {
            double n = number(calls.get("score"), count + " of " + benchmark);
            return n > 0 ? number(spent.get("score"), total + " of " + benchmark) / n : Double.NaN;
        }
        return Double.NaN;
    }

    /**
     * Appends, when the run measured script time ({@link ScriptTimeBenchmark}), a table of
     * Redis's microseconds per call: for each shape this project's script, the floor measured
     * beside it, and their ratio (the target: at most 1.2).
     */
    private static void appendScriptTimes(StringBuilder out, List<Run> runs, boolean markdown) {
        List<List<String>> table = new ArrayList<>();
        for (Run r : runs) {
            if (Double.isNaN(r.redisMicrosPerCall())) {
                continue;
            }
            double floor = r.floorMicrosPerCall();
            String label = r.impl().equals(NO_IMPL) ? r.shape() : r.shape() + " " + r.impl();
            table.add(List.of(label, fixed(r.redisMicrosPerCall(), 2), Double.isNaN(floor) ? "" : fixed(floor, 2),
                    Double.isNaN(floor) || floor <= 0 ? "" : fixed(r.redisMicrosPerCall() / floor, 2)));
        }
        if (table.isEmpty()) {
            return;
        }
        List<String> header = List.of("script shape", "us/call", "floor us/call", "x floor");
        String title = "Redis time per script call (INFO commandstats, usec of EVALSHA / calls);"
                + " x floor: script / floor, the target at most 1.20";
        if (markdown) {
            out.append('\n');
            appendMarkdown(out, title, header, table, 1);
        } else {
            out.append("\n== ").append(title).append('\n');
            out.append(String.format(Locale.ROOT, "%-80s %10s %14s %8s%n", header.toArray()));
            for (List<String> row : table) {
                out.append(String.format(Locale.ROOT, "%-80s %10s %14s %8s%n", row.toArray()));
            }
        }
    }

    /** A Markdown table under its title: the first {@code textColumns} left-aligned, the others right-aligned. */
    private static void appendMarkdown(StringBuilder out, String title, List<String> header, List<List<String>> table,
                                       int textColumns) {
        out.append(title).append("\n\n");
        out.append("| ").append(String.join(" | ", header)).append(" |\n");
        out.append("|---".repeat(textColumns)).append("|---:".repeat(header.size() - textColumns)).append("|\n");
        for (List<String> row : table) {
            out.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
    }

    /** The half-admitted shape runs on a fake clock: comparing it with nanoTime would mean nothing. */
    private static boolean readsTheClock(Run r) {
        return !r.shape().startsWith(HalfAdmittedBenchmark.class.getSimpleName() + ".");
    }

    private static String ratio(Run ours, Run best) {
        if (!ours.unit().equals(best.unit()) || ours.figure() <= 0 || best.figure() <= 0) {
            return "n/a";
        }
        return fixed(ours.higherIsBetter() ? ours.figure() / best.figure() : best.figure() / ours.figure(), 2);
    }

    /** @return "sent (executed)" commands per decision, or "" when the run counted none */
    private static String commands(Run r) {
        if (Double.isNaN(r.sentPerDecision())) {
            return "";
        }
        return fixed(r.sentPerDecision(), 2)
                + (Double.isNaN(r.executedPerDecision()) ? "" : " (" + fixed(r.executedPerDecision(), 2) + ")");
    }

    private static int rowOrder(Run r) {
        int ours = CompareResults.OURS.indexOf(r.impl());
        return ours >= 0 ? ours : CompareResults.OURS.size();
    }

    private static void appendPlainRow(StringBuilder out, List<String> cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            String pad = " ".repeat(widths[c] - cell.length());
            // Names read best left-aligned, numbers right-aligned.
            line.append(c < 2 || c == 3 || c == cells.size() - 1 ? cell + pad : pad + cell).append(c == cells.size() - 1 ? "" : "  ");
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }

    /** Three significant decimals for small figures, none for large ones (Redis ops/s). */
    private static String figure(double value) {
        return fixed(value, Math.abs(value) >= 1000 ? 0 : 3);
    }

    private static String fixed(double value, int decimals) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static Map<String, Object> stringKeys(Map<?, ?> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    private static Map<?, ?> asMap(Object value, String what) {
        if (value instanceof Map<?, ?> map) {
            return map;
        }
        throw new IllegalArgumentException(what + " must be a JSON object, found: " + kind(value));
    }

    /** JMH writes finite numbers as JSON numbers and NaN or infinities as strings. */
    private static double number(Object value, String what) {
        if (value instanceof Double d) {
            return d;
        }
        if (value instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + " is not a number: " + s, e);
            }
        }
        throw new IllegalArgumentException(what + " must be a number, found: " + kind(value));
    }

    private static String kind(Object value) {
        return value == null ? "null" : value.getClass().getSimpleName() + " " + value;
    }
}

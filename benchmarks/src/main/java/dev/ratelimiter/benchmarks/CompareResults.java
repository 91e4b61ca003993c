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
import java.util.Objects;
import java.util.TreeMap;

/**
 * Prints the ratios of a {@link LocalAcquireBenchmark} run: for each outcome and thread count,
 * each limiter's throughput, its ratio to Bucket4j, Guava and Resilience4j (above 1 means this
 * project is faster), and its allocation per operation when the run used {@code -prof gc}.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LocalAcquireBenchmark -prof gc -rf json -rff result.json
 * java -cp benchmarks/target/benchmarks.jar dev.ratelimiter.benchmarks.CompareResults result.json
 * java -cp benchmarks/target/benchmarks.jar dev.ratelimiter.benchmarks.CompareResults --markdown result.json
 * </pre>
 *
 * <p>It reads JMH's JSON result format with a small built-in parser, so the benchmarks jar needs
 * no JSON library.
 */
public final class CompareResults {

    /** The peers every limiter of this project is compared with, in column order. */
    static final List<String> PEERS = List.of("bucket4j", "guava", "resilience4j");

    /** The limiters of this project, in row order; unknown names follow them. */
    static final List<String> OURS = List.of("tokenBucket", "tokenBucketListened", "tokenBucketFractional",
            "leakyBucket", "slidingWindowLog", "slidingWindowCounter");

    private static final List<String> OUTCOMES = List.of("allowed", "denied");

    private CompareResults() {
    }

    /**
     * Prints the comparison of a JMH JSON result file.
     *
     * @param args {@code [--markdown] result.json}
     * @throws IOException if the file cannot be read
     */
    public static void main(String[] args) throws IOException {
        boolean markdown = args.length == 2 && args[0].equals("--markdown");
        if (args.length != 1 && !markdown) {
            System.err.println("usage: CompareResults [--markdown] result.json"
                    + "   (from: java -jar benchmarks.jar LocalAcquireBenchmark -prof gc -rf json -rff result.json)");
            System.exit(2);
        }
        Path file = Path.of(args[args.length - 1]);
        String json = Files.readString(file, StandardCharsets.UTF_8);
        System.out.print(report(parse(json), markdown));
    }

    /** One benchmark score. */
    record Result(String impl, String outcome, int threads, double score, double error, String unit,
                  double allocBytesPerOp) {
    }

    /**
     * Extracts the {@link LocalAcquireBenchmark} scores from a JMH JSON result; other benchmarks
     * in the same file are skipped.
     *
     * @param json the content of a {@code -rf json} file
     * @return the scores, in file order
     * @throws IllegalArgumentException if the text is not JSON or not a JMH result
     */
    static List<Result> parse(String json) {
        Object root = new Json(json).document();
        if (!(root instanceof List<?> runs)) {
            throw new IllegalArgumentException("a JMH JSON result is an array of runs, found: " + kind(root));
        }
        List<Result> results = new ArrayList<>();
        for (Object run : runs) {
            Map<?, ?> r = asMap(run, "run");
            String benchmark = String.valueOf(r.get("benchmark"));
            if (!benchmark.contains(LocalAcquireBenchmark.class.getSimpleName())) {
                continue;
            }
            Map<?, ?> params = asMap(r.get("params"), "params of " + benchmark);
            Map<?, ?> primary = asMap(r.get("primaryMetric"), "primaryMetric of " + benchmark);
            double alloc = Double.NaN;
            if (r.get("secondaryMetrics") instanceof Map<?, ?> secondary
                    && secondary.get("gc.alloc.rate.norm") instanceof Map<?, ?> norm) {
                alloc = number(norm.get("score"));
            }
            results.add(new Result(String.valueOf(params.get("impl")), String.valueOf(params.get("outcome")),
                    (int) number(r.get("threads")), number(primary.get("score")),
                    number(primary.get("scoreError")), String.valueOf(primary.get("scoreUnit")), alloc));
        }
        return results;
    }

    /**
     * Formats the comparison tables.
     *
     * @param results  the scores
     * @param markdown Markdown tables instead of aligned plain text
     * @return the report, one table per outcome and thread count
     */
    static String report(List<Result> results, boolean markdown) {
        Map<String, Map<Integer, List<Result>>> groups = new TreeMap<>(Comparator
                .comparingInt((String o) -> OUTCOMES.contains(o) ? OUTCOMES.indexOf(o) : OUTCOMES.size())
                .thenComparing(Comparator.naturalOrder()));
        for (Result r : results) {
            groups.computeIfAbsent(r.outcome(), o -> new TreeMap<>())
                    .computeIfAbsent(r.threads(), t -> new ArrayList<>()).add(r);
        }
        StringBuilder out = new StringBuilder();
        if (results.isEmpty()) {
            out.append("no LocalAcquireBenchmark results in this file\n");
        }
        groups.forEach((outcome, byThreads) -> byThreads.forEach((threads, rows) -> {
            rows.sort(Comparator.comparingInt(CompareResults::rowOrder).thenComparing(Result::impl));
            Map<String, Result> peers = new LinkedHashMap<>();
            for (Result r : rows) {
                if (PEERS.contains(r.impl())) {
                    peers.put(r.impl(), r);
                }
            }
            String unit = rows.get(0).unit();
            String title = outcome + ", " + threads + (threads == 1 ? " thread" : " threads") + " (" + unit
                    + ", higher is better; x peer = score / peer's score)";
            List<String> header = new ArrayList<>(List.of("impl", unit, "error"));
            for (String p : PEERS) {
                header.add("x " + p);
            }
            header.add("B/op");
            List<List<String>> table = new ArrayList<>();
            for (Result r : rows) {
                List<String> row = new ArrayList<>(List.of(r.impl(), fixed(r.score(), 3), "± " + fixed(r.error(), 3)));
                for (String p : PEERS) {
                    Result peer = peers.get(p);
                    row.add(peer == null || peer.score() <= 0 ? "n/a" : fixed(r.score() / peer.score(), 2));
                }
                row.add(Double.isNaN(r.allocBytesPerOp()) ? "n/a" : fixed(r.allocBytesPerOp(), 1));
                table.add(row);
            }
            if (markdown) {
                markdownTable(out, title, header, table);
            } else {
                plainTable(out, title, header, table);
            }
        }));
        return out.toString();
    }

    private static int rowOrder(Result r) {
        int ours = OURS.indexOf(r.impl());
        if (ours >= 0) {
            return ours;
        }
        int peer = PEERS.indexOf(r.impl());
        return peer >= 0 ? 1000 + peer : 500;
    }

    private static void plainTable(StringBuilder out, String title, List<String> header, List<List<String>> rows) {
        int[] widths = new int[header.size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = header.get(c).length();
            for (List<String> row : rows) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        out.append("== ").append(title).append('\n');
        appendPlainRow(out, header, widths);
        for (List<String> row : rows) {
            appendPlainRow(out, row, widths);
        }
        out.append('\n');
    }

    private static void appendPlainRow(StringBuilder out, List<String> cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            String pad = " ".repeat(widths[c] - cell.length());
            // The name reads best left-aligned, the numbers right-aligned.
            line.append(c == 0 ? cell + pad : pad + cell).append(c == cells.size() - 1 ? "" : "  ");
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }

    private static void markdownTable(StringBuilder out, String title, List<String> header, List<List<String>> rows) {
        out.append("**").append(title).append("**\n\n");
        out.append("| ").append(String.join(" | ", header)).append(" |\n");
        out.append("|---").append("|---:".repeat(header.size() - 1)).append("|\n");
        for (List<String> row : rows) {
            out.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        out.append('\n');
    }

    private static String fixed(double value, int decimals) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static Map<?, ?> asMap(Object value, String what) {
        if (value instanceof Map<?, ?> map) {
            return map;
        }
        throw new IllegalArgumentException(what + " must be a JSON object, found: " + kind(value));
    }

    /** JMH writes finite numbers as JSON numbers and NaN or infinities as strings. */
    private static double number(Object value) {
        if (value instanceof Double d) {
            return d;
        }
        if (value instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number: " + s, e);
            }
        }
        throw new IllegalArgumentException("expected a number, found: " + kind(value));
    }

    private static String kind(Object value) {
        return value == null ? "null" : value.getClass().getSimpleName() + " " + value;
    }

    /**
     * A strict, minimal JSON reader: objects become {@link LinkedHashMap}, arrays {@link List},
     * numbers {@link Double}, plus {@link String}, {@link Boolean} and {@code null}.
     */
    static final class Json {
        private final String text;
        private int pos;

        Json(String text) {
            this.text = Objects.requireNonNull(text, "text");
        }

        /** @return the single value the text holds */
        Object document() {
            Object value = value();
            skipSpace();
            if (pos != text.length()) {
                throw error("trailing characters");
            }
            return value;
        }

        private Object value() {
            skipSpace();
            if (pos >= text.length()) {
                throw error("unexpected end of input");
            }
            char c = text.charAt(pos);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character '" + c + "'");
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            pos++;
            skipSpace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipSpace();
                if (peek() != '"') {
                    throw error("expected a member name");
                }
                String key = string();
                skipSpace();
                expect(':');
                map.put(key, value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return map;
                }
            }
        }

        private List<Object> array() {
            List<Object> list = new ArrayList<>();
            pos++;
            skipSpace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                list.add(value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return list;
                }
            }
        }

        private String string() {
            pos++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= text.length()) {
                    throw error("unterminated string");
                }
                char c = text.charAt(pos++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (pos >= text.length()) {
                    throw error("unterminated escape");
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > text.length()) {
                            throw error("truncated \\u escape");
                        }
                        try {
                            sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                    }
                    default -> throw error("bad escape '\\" + e + "'");
                }
            }
        }

        private Double number() {
            int start = pos;
            while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
                pos++;
            }
            try {
                return Double.valueOf(text.substring(start, pos));
            } catch (NumberFormatException e) {
                throw error("bad number '" + text.substring(start, pos) + "'");
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) {
                throw error("expected " + word);
            }
            pos += word.length();
            return value;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        private IllegalArgumentException error(String message) {
            return new IllegalArgumentException("invalid JSON at offset " + pos + ": " + message);
        }
    }
}

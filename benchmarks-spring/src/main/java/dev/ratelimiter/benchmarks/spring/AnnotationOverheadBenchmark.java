package dev.ratelimiter.benchmarks.spring;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A method call through {@code @RateLimited} against the same call unwrapped and through
 * Resilience4j's {@code @RateLimiter} (its Spring Boot 3 starter, run here on Spring Boot 4), in
 * one Spring context, in the same run. Every call is granted: what is measured is the proxy, the
 * key and the decision.
 *
 * <p>{@code call}: {@code direct} (the bean's target, no proxy), {@code ours} (key {@code #x}: a
 * SpEL evaluation and a keyed decision), {@code oursOneKey} (no key expression), and
 * {@code resilience4j}.
 *
 * <p>Run: {@code java -jar benchmarks-spring/target/benchmarks-spring.jar AnnotationOverheadBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class AnnotationOverheadBenchmark {

    /** How the method is called. */
    @Param({"direct", "ours", "oursOneKey", "resilience4j"})
    public String call;

    private ConfigurableApplicationContext app;
    private BenchApp.Service proxy;
    private BenchApp.Service target;
    private long x;

    /** Starts the context and checks the proxy really limits (a bean without the annotation would not). */
    @Setup(Level.Trial)
    public void setUp() {
        app = new SpringApplicationBuilder(BenchApp.class).web(WebApplicationType.NONE)
                .properties(BenchApp.PROPERTIES).run();
        proxy = app.getBean(BenchApp.Service.class);
        target = new BenchApp.Service();
        if (proxy.getClass() == BenchApp.Service.class) {
            throw new IllegalStateException("the service is not proxied: the annotations are not applied");
        }
        if (call().applyAsLong(41) != 42) {
            throw new IllegalStateException("unexpected result for call=" + call);
        }
    }

    private java.util.function.LongUnaryOperator call() {
        return switch (call) {
            case "direct" -> target::plain;
            case "ours" -> proxy::ours;
            case "oursOneKey" -> proxy::oursOneKey;
            case "resilience4j" -> proxy::resilience4j;
            default -> throw new IllegalStateException("unknown call: call=" + call);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        app.close();
    }

    /** @return the call's result, consumed by JMH */
    @Benchmark
    public long invoke() {
        long v = x++ & 1023;
        return switch (call) {
            case "direct" -> target.plain(v);
            case "ours" -> proxy.ours(v);
            case "oursOneKey" -> proxy.oursOneKey(v);
            default -> proxy.resilience4j(v);
        };
    }
}

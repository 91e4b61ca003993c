package dev.ratelimiter.benchmarks;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's floor for a rate-limiter decision: a local limiter reads the clock and, when it
 * grants, updates one word with a CAS, so neither can be faster than {@code System.nanoTime()}
 * and an uncontended {@code AtomicLong} CAS measured in the same run on the same machine.
 * {@link SuiteTable} divides the single-limiter throughputs by the {@code nanoTime} figure.
 *
 * <p>The CAS target is per thread ({@link Scope#Thread}): this is the uncontended cost, the
 * contended one is what the two-thread limiter benchmarks show.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar MachineFloorBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
@Threads(1)
public class MachineFloorBenchmark {

    /** The CAS target; per thread, so never contended. */
    private AtomicLong word;

    /**
     * Creates the CAS target and checks that the CAS benchmark succeeds, so it measures the
     * successful path a granting limiter takes.
     *
     * @throws IllegalStateException if the CAS does not succeed
     */
    @Setup(Level.Trial)
    public void setUp() {
        word = new AtomicLong();
        for (int i = 0; i < 1_000; i++) {
            if (!casUncontended()) {
                throw new IllegalStateException("uncontended CAS failed at call " + i + ": word=" + word.get());
            }
        }
    }

    /**
     * One read of the monotonic clock, the one every local limiter makes per decision.
     *
     * @return the clock reading
     */
    @Benchmark
    public long nanoTime() {
        return System.nanoTime();
    }

    /**
     * One read and one successful compare-and-set of a word no other thread touches: the
     * update a granting decision makes.
     *
     * @return whether the CAS succeeded (always, on one thread)
     */
    @Benchmark
    public boolean casUncontended() {
        long current = word.get();
        return word.compareAndSet(current, current + 1);
    }
}

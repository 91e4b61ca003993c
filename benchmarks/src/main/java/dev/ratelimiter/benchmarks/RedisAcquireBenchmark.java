package dev.ratelimiter.benchmarks;

import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.RedisRateLimiters;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread decisions per second of the Redis backend: one synchronous {@code tryAcquire} on
 * one key, in Redis-time mode, with a limit so high that every call is granted (the script's
 * longest path: it reads {@code TIME}, computes and writes). {@code noopEvalsha} is the ceiling:
 * {@code EVALSHA} of {@code return 1} through the same Lettuce synchronous connection, one round
 * trip and no work. The ratio of the two is what the script and the library add to a round trip.
 *
 * <p>The benchmark starts its own {@code redis-server} on a free loopback port: the one on the
 * {@code PATH}, else the binary shipped in the {@code com.github.codemonstur:embedded-redis} jar.
 * For the raw-Redis figure, run {@code redis-benchmark -p PORT -n 200000 -c 1 EVALSHA <sha> 0}
 * against a server of the same version right after; the SHA-1 of {@code return 1} is
 * {@code e0e1f9fabfc9d4800c877a703b823ac0578ff8db}, and this set-up prints it.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RedisAcquireBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
@State(Scope.Benchmark)
public class RedisAcquireBenchmark {

    /** The capacity: at ~10^5 decisions per second, with no refill, it would last 10^7 s. */
    static final long HUGE = 1_000_000_000_000L;

    /** The refill per second: the largest rate a limit may have. */
    static final long RATE = 1_000_000_000L;

    private Process server;
    private Path extracted;
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private RedisCommands<String, String> sync;
    private RateLimiter limiter;
    private String noopSha;

    /**
     * Starts the server, connects, and checks that both benchmarks take the path they claim.
     *
     * @throws IOException if the server cannot be started
     * @throws InterruptedException if interrupted while waiting for it
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        int port = freePort();
        Path binary = serverBinary();
        server = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            awaitListening(port);
            client = RedisClient.create(RedisURI.create("127.0.0.1", port));
            connection = client.connect();
            sync = connection.sync();
            limiter = RedisRateLimiters.builder(connection.async()).build()
                    .create("benchmark", TokenBucket.of(HUGE, RATE, Duration.ofSeconds(1)));
            noopSha = sync.scriptLoad("return 1");
            if (!limiter.tryAcquire() || !limiter.decide(1).isAllowed()) {
                throw new IllegalStateException("the benchmark limit refused a request");
            }
            Long one = sync.evalsha(noopSha, ScriptOutputType.INTEGER);
            if (one == null || one != 1L) {
                throw new IllegalStateException("the no-op script answered " + one);
            }
            System.out.println("# redis-server " + binary + " " + sync.info("server").lines()
                    .filter(l -> l.startsWith("redis_version:")).findFirst().orElse("?") + " on port " + port
                    + "; no-op script sha " + noopSha);
        } catch (Exception | Error e) {
            // JMH runs no tear-down after a failed set-up: stop the server here.
            try {
                tearDown();
            } catch (Exception cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Every call was granted: else the figure would be of the refusal path. */
    @TearDown(Level.Iteration)
    public void checkStillGranting() {
        if (!limiter.tryAcquire()) {
            throw new IllegalStateException("the benchmark limit refused a request");
        }
    }

    /**
     * Disconnects and stops the server.
     *
     * @throws IOException if the extracted binary cannot be deleted
     * @throws InterruptedException if interrupted while waiting for the server to stop
     */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException {
        if (connection != null) {
            connection.close();
        }
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        if (server != null) {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
        if (extracted != null) {
            Files.deleteIfExists(extracted);
        }
    }

    /** @return whether the (always granting) limiter granted one permit */
    @Benchmark
    public boolean tryAcquire() {
        return limiter.tryAcquire();
    }

    /** @return the no-op script's reply, through the same connection */
    @Benchmark
    public Long noopEvalsha() {
        return sync.evalsha(noopSha, ScriptOutputType.INTEGER);
    }

    private Path serverBinary() throws IOException {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                Path candidate = Path.of(dir, "redis-server");
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        boolean arm = System.getProperty("os.arch").contains("aarch64") || System.getProperty("os.arch").contains("arm");
        String resource = os.contains("mac")
                ? (arm ? "redis-server-6.2.6-v5-darwin-arm64" : "redis-server-6.2.6-v5-darwin-amd64")
                : (arm ? "redis-server-6.2.7-linux-arm64" : "redis-server-6.2.6-v5-linux-amd64");
        try (InputStream in = RedisAcquireBenchmark.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("no redis-server on the PATH and no " + resource
                        + " in the embedded-redis jar");
            }
            extracted = Files.createTempFile("redis-server-", "");
            Files.copy(in, extracted, StandardCopyOption.REPLACE_EXISTING);
        }
        if (!extracted.toFile().setExecutable(true)) {
            throw new IllegalStateException("cannot make " + extracted + " executable");
        }
        return extracted;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitListening(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() - deadline < 0) {
            if (!server.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + server.exitValue());
            }
            try {
                new Socket(InetAddress.getLoopbackAddress(), port).close();
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IllegalStateException("redis-server did not listen on port " + port + " within 15 s");
    }

}

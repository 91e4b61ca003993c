package dev.ratelimiter.redis.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One {@code redis-server} process on a free loopback port, started by the tests and stopped
 * by them: no test depends on a Redis left running by someone else.
 *
 * <p>The server runs with no persistence ({@code --save "" --appendonly no}) in its own
 * temporary directory, which also holds its log ({@code redis.log}); start-up failures quote
 * the end of that log. {@link #kill()} and {@link #restart()} keep the port, so clients
 * configured with {@link #uri()} reconnect to the restarted server: the fault tests rely on it.
 *
 * <pre>{@code
 * try (RedisProcess redis = RedisProcess.start()) {
 *     RedisClient client = RedisClient.create(redis.uri());
 *     ...
 *     redis.kill();      // SIGKILL: clients see the connection drop
 *     redis.restart();   // same port, empty data set
 * }
 * }</pre>
 *
 * <p>Thread safety: the lifecycle methods are {@code synchronized}, so a fault test may kill
 * or restart the server from one thread while others use it through their own clients.
 * {@link #port()}, {@link #uri()} and {@link #version()} never change. Every process started
 * is also registered with a JVM shutdown hook that kills it, so an aborted test run leaves no
 * server behind.
 */
public final class RedisProcess implements AutoCloseable {

    /** The loopback address every server binds to. */
    public static final String HOST = "127.0.0.1";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final long POLL_MILLIS = 10;
    private static final int START_ATTEMPTS = 5;
    private static final int CLUSTER_BUS_OFFSET = 10_000;

    /** Processes started and not yet reaped: killed by the shutdown hook. */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Process p : LIVE) {
                p.destroyForcibly();
            }
        }, "redis-process-reaper"));
    }

    private final RedisBinary binary;
    private final int port;
    private final Path dir;
    private final Path log;
    private final List<String> extraArgs;

    /** The running server, or null once stopped or killed. Guarded by {@code this}. */
    private Process process;

    private RedisProcess(RedisBinary binary, int port, Path dir, List<String> extraArgs) {
        this.binary = binary;
        this.port = port;
        this.dir = dir;
        this.log = dir.resolve("redis.log");
        this.extraArgs = List.copyOf(extraArgs);
    }

    /**
     * Starts a server with the binary of {@link RedisBinary#get()}.
     *
     * @param extraArgs more {@code --name value} options, appended to the defaults
     * @return a server that answers {@code PING}
     * @throws IllegalStateException if it does not start in time (the message quotes its log)
     */
    public static RedisProcess start(String... extraArgs) {
        return start(RedisBinary.get(), extraArgs);
    }

    /**
     * Starts a server.
     *
     * @param binary    the server to run
     * @param extraArgs more {@code --name value} options, appended to the defaults
     * @return a server that answers {@code PING}
     * @throws IllegalStateException if it does not start in time (the message quotes its log)
     */
    public static RedisProcess start(RedisBinary binary, String... extraArgs) {
        return start(binary, false, List.of(extraArgs));
    }

    /**
     * @param withBusPort whether {@code port + 10000} (the cluster bus) must be free too
     */
    static RedisProcess start(RedisBinary binary, boolean withBusPort, List<String> extraArgs) {
        Objects.requireNonNull(binary, "binary");
        IllegalStateException last = null;
        // Another process may take the port between the probe and the server's bind: retry
        // on a fresh port, a bounded number of times.
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            Path dir;
            try {
                dir = Files.createTempDirectory("ratelimiter-redis-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a directory for redis-server: " + e, e);
            }
            RedisProcess redis = new RedisProcess(binary, freePort(withBusPort), dir, extraArgs);
            try {
                synchronized (redis) {
                    redis.launch();
                }
                return redis;
            } catch (IllegalStateException e) {
                last = e;
                String tail = redis.logTail(50);
                redis.close();
                if (!tail.contains("Address already in use")) {
                    throw e;
                }
            }
        }
        throw last;
    }

    private void launch() {
        List<String> command = new ArrayList<>(List.of(
                binary.path().toString(),
                "--port", Integer.toString(port),
                "--bind", HOST,
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "no",
                "--daemonize", "no",
                "--dir", dir.toString()));
        command.addAll(extraArgs);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + binary + ": " + e, e);
        }
        LIVE.add(process);
        awaitReady();
    }

    /** Polls until PING answers PONG, the process exits, or the start timeout passes. */
    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String lastProblem = "no answer yet";
        while (true) {
            if (!process.isAlive()) {
                LIVE.remove(process);
                throw new IllegalStateException("redis-server on port " + port + " exited with status "
                        + process.exitValue() + " while starting (" + binary + "); log:\n" + logTail(30));
            }
            try (RespClient client = RespClient.connect(HOST, port, Duration.ofMillis(500))) {
                Object reply = client.command("PING");
                if ("PONG".equals(reply)) {
                    return;
                }
                lastProblem = "PING answered " + reply; // e.g. LOADING
            } catch (UncheckedIOException e) {
                lastProblem = e.getMessage();
            }
            if (System.nanoTime() - deadline > 0) {
                process.destroyForcibly();
                throw new IllegalStateException("redis-server on port " + port + " did not answer PING within "
                        + START_TIMEOUT.toSeconds() + " s (" + lastProblem + "); log:\n" + logTail(30));
            }
            try {
                // Returns early if the process exits: then the loop reports it.
                process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                throw new IllegalStateException("interrupted while starting redis-server on port " + port, e);
            }
        }
    }

    /**
     * Stops the server cleanly ({@code SHUTDOWN NOSAVE}; then SIGTERM, then SIGKILL if it
     * lingers) and waits until it has exited. Does nothing if it is not running.
     */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        if (process.isAlive()) {
            try (RespClient client = RespClient.connect(HOST, port, Duration.ofSeconds(1))) {
                client.command("SHUTDOWN", "NOSAVE"); // a clean shutdown closes the connection unanswered
            } catch (UncheckedIOException expected) {
                // Closed connection (shut down) or no connection (already gone): either way, wait below.
            }
            if (!awaitExit(STOP_TIMEOUT)) {
                process.destroy();
                if (!awaitExit(STOP_TIMEOUT)) {
                    process.destroyForcibly();
                    awaitExit(STOP_TIMEOUT);
                }
            }
        }
        LIVE.remove(process);
        process = null;
    }

    /**
     * Kills the server at once (SIGKILL) and waits until it has exited: clients see their
     * connections drop with no reply. Does nothing if it is not running.
     */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        awaitExit(STOP_TIMEOUT);
        LIVE.remove(process);
        process = null;
    }

    /**
     * Starts the server again on the same port and in the same directory (a cluster node keeps
     * its identity from its {@code nodes.conf}); with no persistence, its data set is empty.
     * A running server is stopped first.
     *
     * @throws IllegalStateException if it does not start in time (for example if another
     *                               process took the port meanwhile)
     */
    public synchronized void restart() {
        stop();
        launch();
    }

    private boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return false;
        }
    }

    /** @return whether the server process is running */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Stops the server and deletes its directory. */
    @Override
    public synchronized void close() {
        stop();
        deleteRecursively(dir);
    }

    /** @return the port the server listens on, kept across restarts */
    public int port() {
        return port;
    }

    /** @return {@code redis://127.0.0.1:<port>} */
    public String uri() {
        return "redis://" + HOST + ":" + port;
    }

    /** @return the server's version, for example {@code 7.0.15} */
    public String version() {
        return binary.version();
    }

    /** @return the executable this process runs */
    public RedisBinary binary() {
        return binary;
    }

    /** @return the server's working directory */
    public Path dir() {
        return dir;
    }

    /**
     * @return a new client to this server (2 s timeouts); the caller closes it
     * @throws UncheckedIOException if the server does not accept the connection
     */
    public RespClient client() {
        return RespClient.connect(HOST, port, Duration.ofSeconds(2));
    }

    /**
     * @param lines how many lines at most
     * @return the end of the server's log, for error messages
     */
    public String logTail(int lines) {
        try {
            if (!Files.exists(log)) {
                return "(no log)";
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    @Override
    public String toString() {
        return "RedisProcess[" + uri() + ", " + binary.version() + "]";
    }

    /**
     * A port free at the time of the call. For a cluster node, {@code port + 10000} (its bus)
     * must be free too, so the port is drawn from 10000..22767: both stay below the usual
     * ephemeral range, where the OS hands out ports to outgoing connections.
     */
    static int freePort(boolean withBusPort) {
        if (!withBusPort) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
                return socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find a free port: " + e, e);
            }
        }
        for (int attempt = 0; attempt < 200; attempt++) {
            int candidate = ThreadLocalRandom.current().nextInt(10_000, 22_768);
            if (isFree(candidate) && isFree(candidate + CLUSTER_BUS_OFFSET)) {
                return candidate;
            }
        }
        throw new IllegalStateException("no free port pair (port, port + 10000) in 10000..32767 after 200 tries");
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // A leftover temporary directory is harmless.
        }
    }
}

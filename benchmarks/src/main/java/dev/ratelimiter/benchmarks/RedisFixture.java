package dev.ratelimiter.benchmarks;

import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.RedisRateLimiters;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.github.bucket4j.redis.lettuce.cas.LettuceBasedProxyManager;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/*
 * Shared by the Redis benchmarks and their tests: a redis-server of its own on a free loopback
 * port, one Lettuce client, and the three decision paths measured side by side.
 *
 * Concurrency: built and closed by one thread (JMH's trial set-up and tear-down). The paths are
 * called by the benchmark thread and completed on Lettuce's event loop; the only state they
 * share is the LongAdder counting the commands the client writes, incremented on whichever
 * thread writes a command and read between iterations (its sum is exact once no command is in
 * flight, which the benchmarks ensure before reading it).
 */
/**
 * A {@code redis-server} started for one benchmark trial, a Lettuce client on it, and the decision
 * paths of the Redis benchmarks ({@link #path}). The server is the {@code redis-server} on the
 * {@code PATH}, else the binary shipped in the {@code com.github.codemonstur:embedded-redis} jar.
 *
 * <p>Two command counts are kept, because Redis counts commands a script runs
 * ({@code redis.call}) in {@code INFO commandstats} like commands a client sends: both Redis
 * 6.2 and 7.0 do (an {@code EVAL} calling {@code SET}, {@code GET} and {@code TIME} shows as
 * four calls). {@link #executedCommands()} is that server-side total; {@link #sentCommands()} is
 * what the client wrote, counted by a Lettuce {@link CommandListener}: the round trips a
 * decision costs, which is what "one command per decision" means.
 */
final class RedisFixture implements AutoCloseable {

    /**
     * The implementations measured: this project's token bucket (its defaults, and with
     * coalescing off), the peer, and the ceiling.
     */
    static final List<String> IMPLS = List.of("tokenBucket", "tokenBucketAlone", "bareEvalsha", "bucket4j",
            "noopEvalsha");

    /** The capacity: at ~10^5 decisions per second, with no refill, it would last 10^7 s. */
    static final long HUGE = 1_000_000_000_000L;

    /** The refill per second: the largest rate a limit may have. */
    static final long RATE = 1_000_000_000L;

    /** The one Redis key (or Bucket4j key) every path decides on. */
    static final String NAME = "benchmark";

    /** The no-op script of the ceiling; its SHA-1 is {@code e0e1f9fabfc9d4800c877a703b823ac0578ff8db}. */
    static final String NOOP = "return 1";

    private Process server;
    private Path extracted;
    private RedisClient client;
    private final LongAdder sent = new LongAdder();
    private StatefulRedisConnection<String, String> connection;
    private StatefulRedisConnection<String, byte[]> bytesConnection;
    /** Bucket4j's proxy manager over {@link #bytesConnection}, made with the first Bucket4j path. */
    private LettuceBasedProxyManager<String> bucket4jProxies;
    private int port;
    private String version;
    private Path binary;

    private RedisFixture() {
    }

    /**
     * Starts a server and connects to it.
     *
     * @return the fixture; close it to stop the server
     * @throws IOException          if the server cannot be started
     * @throws InterruptedException if interrupted while waiting for it
     */
    static RedisFixture start() throws IOException, InterruptedException {
        RedisFixture fixture = new RedisFixture();
        try {
            fixture.init();
            return fixture;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            try {
                fixture.close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private void init() throws IOException, InterruptedException {
        port = freePort();
        binary = serverBinary();
        server = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        awaitListening(port);
        client = RedisClient.create(RedisURI.create("127.0.0.1", port));
        // Registered before connecting: Lettuce installs its listener writer at connect time.
        client.addListener(new CommandListener() {
            @Override
            public void commandStarted(CommandStartedEvent event) {
                sent.increment();
            }
        });
        connection = client.connect();
        version = connection.sync().info("server").lines()
                .filter(l -> l.startsWith("redis_version:")).findFirst().orElse("redis_version:?")
                .substring("redis_version:".length()).strip();
    }

    /** @return a description for the run's log: binary, version, port */
    String describe() {
        return "redis-server " + binary + " " + version + " on port " + port;
    }

    /** @return the server's version, such as {@code 7.0.15} */
    String version() {
        return version;
    }

    /** @return the port the server listens on */
    int port() {
        return port;
    }

    /** @return the String connection (this project's limiter and the ceiling use it) */
    StatefulRedisConnection<String, String> connection() {
        return connection;
    }

    /** @return the commands this fixture's client has written so far, on every connection */
    long sentCommands() {
        return sent.sum();
    }

    /**
     * The commands Redis has executed, from {@code INFO commandstats}: the sum of {@code calls=}
     * over every command, less the {@code INFO} calls (those this method makes, and no other).
     * Commands scripts run are included (Redis 6.2 and 7.0 count them).
     *
     * @return the total, for differences between two readings
     */
    long executedCommands() {
        // The INFO sent here is counted by the listener too: keep the sent count clean of it.
        String stats = connection.sync().info("commandstats");
        sent.decrement();
        return executedCommands(stats);
    }

    /**
     * Reads {@code INFO commandstats}, a command the client sends and that is left out of
     * {@link #sentCommands()} and {@link #executedCommands()}.
     *
     * @return {calls, usec} of {@code EVALSHA} so far
     */
    long[] scriptStats() {
        String stats = connection.sync().info("commandstats");
        sent.decrement();
        return commandStats(stats).getOrDefault("evalsha", new long[2]).clone();
    }

    /**
     * Sums the calls of an {@code INFO commandstats} reply, less those of {@code INFO}.
     *
     * @param commandstats the reply
     * @return the sum
     * @throws IllegalArgumentException if a {@code cmdstat_} line has no {@code calls=} count
     */
    static long executedCommands(String commandstats) {
        long total = 0;
        for (Map.Entry<String, long[]> command : commandStats(commandstats).entrySet()) {
            if (!command.getKey().equals("info")) {
                total += command.getValue()[0];
            }
        }
        return total;
    }

    /**
     * Reads each command's {@code calls=} and {@code usec=} from an {@code INFO commandstats} reply.
     *
     * @param commandstats the reply
     * @return by command name (lower case, as Redis writes it): {calls, usec}
     * @throws IllegalArgumentException if a {@code cmdstat_} line lacks either count
     */
    static Map<String, long[]> commandStats(String commandstats) {
        Map<String, long[]> stats = new TreeMap<>();
        for (String line : commandstats.split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            int colon = line.indexOf(':');
            stats.put(line.substring("cmdstat_".length(), colon),
                    new long[] {count(line, "calls="), count(line, "usec=")});
        }
        return stats;
    }

    private static long count(String line, String field) {
        int at = line.indexOf(field);
        while (at > 0 && line.charAt(at - 1) != ':' && line.charAt(at - 1) != ',') {
            at = line.indexOf(field, at + 1); // "usec=" inside "usec_per_call=" does not start a field
        }
        int end = at < 0 ? -1 : line.indexOf(',', at);
        if (at < 0 || end < 0) {
            throw new IllegalArgumentException("a commandstats line without " + field + ": " + line);
        }
        return Long.parseLong(line.substring(at + field.length(), end));
    }

    /**
     * One implementation's decision on the one key: synchronous and asynchronous.
     */
    interface DecisionPath {
        /** @return whether the (always granting) path granted one permit */
        boolean decide();

        /** @return a stage completing with whether it granted one permit; never blocks */
        CompletionStage<Boolean> decideAsync();
    }

    /**
     * Builds a decision path on the one key and checks that it takes the path it claims: granted,
     * and sending the commands it should.
     *
     * @param impl one of {@link #IMPLS}
     * @return the path
     * @throws IllegalArgumentException if {@code impl} is unknown
     * @throws IllegalStateException    if the path does not grant or sends unexpected commands
     */
    DecisionPath path(String impl) {
        return path(impl, 1);
    }

    /**
     * {@link #path(String)} on {@code keys} keys: each asynchronous decision on the next key, in
     * turn (one key: the one key of {@link #path(String)}); synchronous decisions stay on one key.
     * {@code tokenBucket} is this project's limiter with its defaults (concurrent decisions on one
     * key coalesced), {@code tokenBucketAlone} the same with coalescing off (one call per decision).
     *
     * @param impl one of {@link #IMPLS}
     * @param keys how many keys the asynchronous decisions go round, at least 1
     * @return the path
     * @throws IllegalArgumentException if {@code impl} is unknown or {@code keys < 1}
     * @throws IllegalStateException    if the path does not grant or sends unexpected commands
     */
    DecisionPath path(String impl, int keys) {
        if (keys < 1) {
            throw new IllegalArgumentException("keys must be >= 1: keys=" + keys);
        }
        DecisionPath path = switch (impl) {
            case "tokenBucket" -> tokenBucket(true, keys);
            case "tokenBucketAlone" -> tokenBucket(false, keys);
            case "bareEvalsha" -> bareEvalsha(keys);
            case "bucket4j" -> bucket4j(keys);
            case "noopEvalsha" -> noopEvalsha();
            default -> throw new IllegalArgumentException("impl must be one of " + IMPLS + ": impl=" + impl);
        };
        // Self-check: both ways grant, and (the first decisions may create the state) then a
        // synchronous decision of this project and of the ceiling is exactly one command.
        for (int i = 0; i < 3; i++) {
            if (!path.decide() || !path.decideAsync().toCompletableFuture().join()) {
                throw new IllegalStateException(impl + " refused a request of the always granting limit");
            }
        }
        long before = sentCommands();
        path.decide();
        long commands = sentCommands() - before;
        if (!impl.equals("bucket4j") && commands != 1) {
            throw new IllegalStateException(impl + " sent " + commands + " commands for one decision, not 1");
        }
        return path;
    }

    /** @return the key of the {@code i}-th of {@code keys} keys: the one key {@code ""} when there is one */
    private static String key(int i, int keys) {
        return keys == 1 ? "" : "k" + i;
    }

    private DecisionPath tokenBucket(boolean coalescing, int keys) {
        RedisRateLimiters redis = RedisRateLimiters.builder(connection.async()).coalescing(coalescing).build();
        TokenBucket limit = TokenBucket.of(HUGE, RATE, Duration.ofSeconds(1));
        RateLimiter single = redis.create(NAME, limit);
        RedisRateLimiters.KeyedLimiter keyed = redis.keyed(NAME, limit);
        Ring<String> names = new Ring<>(java.util.stream.IntStream.range(0, keys).mapToObj(i -> key(i, keys)).toList());
        return new DecisionPath() {
            @Override
            public boolean decide() {
                return single.tryAcquire();
            }

            @Override
            public CompletionStage<Boolean> decideAsync() {
                // One key: the same Redis key as single (create(name, limit) is keyed(name, limit) at key "").
                return keyed.tryAcquireAsync(names.next(), 1);
            }
        };
    }

    /** The limit of the hot refused key: one permit per 10 ms, refilled one by one. */
    static final Duration HOT_PERIOD = Duration.ofMillis(10);

    /**
     * A path on one hot key of a limit of one permit per {@link #HOT_PERIOD}, hammered far beyond
     * it, so that nearly every decision is a refusal (at ~10^4 decisions per second, 99%):
     * {@code tokenBucket} with its refusal cache (the default), {@code tokenBucketNoCache} with
     * it turned off, and Bucket4j's Lettuce backend.
     *
     * @param impl {@code tokenBucket}, {@code tokenBucketNoCache} or {@code bucket4j}
     * @return the path; its {@code decide} reports whether the permit was granted
     * @throws IllegalArgumentException if {@code impl} is unknown
     * @throws IllegalStateException    if the path does not refuse right after a grant
     */
    DecisionPath hotRefusedPath(String impl) {
        String key = "hot";
        DecisionPath path = switch (impl) {
            case "tokenBucket", "tokenBucketNoCache" -> {
                RedisRateLimiters.KeyedLimiter keyed = RedisRateLimiters.builder(connection.async())
                        .refusalCache(impl.equals("tokenBucket") ? RedisRateLimiters.Builder.DEFAULT_REFUSAL_CACHE : 0)
                        .build().keyed(key, TokenBucket.of(1, 1, HOT_PERIOD));
                yield new DecisionPath() {
                    @Override
                    public boolean decide() {
                        return keyed.tryAcquire(key, 1);
                    }

                    @Override
                    public CompletionStage<Boolean> decideAsync() {
                        return keyed.tryAcquireAsync(key, 1);
                    }
                };
            }
            case "bucket4j" -> bucket4j(key, 1, 1, HOT_PERIOD);
            default -> throw new IllegalArgumentException(
                    "impl must be one of [tokenBucket, tokenBucketNoCache, bucket4j]: impl=" + impl);
        };
        checkRefusesRightAfterAGrant(impl, path, System::nanoTime);
        return path;
    }

    /**
     * The hot refused path's self-check: a grant (perhaps after refusals, if the key was just
     * used) is followed by a refusal. A second grant is a fault only if both calls took less than
     * {@link #HOT_PERIOD}; when they took longer (a slow or loaded machine) the limit may have
     * refilled, and the check starts again, for at most 5 s of {@code clock}.
     *
     * @param impl  the path's name, for messages
     * @param path  the path
     * @param clock the time, ns
     * @throws IllegalStateException if the path granted twice within a period, never granted, or
     *                               never refused right after a grant within 5 s
     */
    static void checkRefusesRightAfterAGrant(String impl, DecisionPath path, java.util.function.LongSupplier clock) {
        long deadline = clock.getAsLong() + Duration.ofSeconds(5).toNanos();
        while (true) {
            long before = clock.getAsLong();
            if (path.decide()) {
                boolean again = path.decide();
                if (!again) {
                    return;
                }
                if (clock.getAsLong() - before < HOT_PERIOD.toNanos()) {
                    throw new IllegalStateException(impl + " granted twice within " + HOT_PERIOD + " on a limit of one");
                }
            }
            if (clock.getAsLong() - deadline > 0) {
                throw new IllegalStateException(impl + " did not refuse right after a grant within 5 s");
            }
        }
    }

    private DecisionPath bucket4j(int keys) {
        if (keys == 1) {
            return bucket4j(NAME, HUGE, RATE, Duration.ofSeconds(1));
        }
        Ring<DecisionPath> paths = new Ring<>(java.util.stream.IntStream.range(0, keys)
                .mapToObj(i -> bucket4j(NAME + ":" + key(i, keys), HUGE, RATE, Duration.ofSeconds(1))).toList());
        return new DecisionPath() {
            @Override
            public boolean decide() {
                return paths.first().decide();
            }

            @Override
            public CompletionStage<Boolean> decideAsync() {
                return paths.next().decideAsync();
            }
        };
    }

    /** Bucket4j's Lettuce bucket of {@code capacity}, refilled greedily by {@code rate} per {@code period}. */
    private DecisionPath bucket4j(String key, long capacity, long rate, Duration period) {
        if (bytesConnection == null) {
            bytesConnection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
        }
        if (bucket4jProxies == null) {
            // Its Lettuce backend: compare-and-swap, a GET and a conditional-write EVAL per decision;
            // keys expire once the bucket would be full again, as this project's do.
            bucket4jProxies = Bucket4jLettuce.casBasedBuilder(bytesConnection)
                    .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(
                            Duration.ofSeconds(1)))
                    .build();
        }
        LettuceBasedProxyManager<String> proxies = bucket4jProxies;
        BucketConfiguration config = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(capacity).refillGreedy(rate, period))
                .build();
        BucketProxy bucket = proxies.builder().build(key, () -> config);
        AsyncBucketProxy async = proxies.asAsync().builder()
                .build(key, () -> CompletableFuture.completedFuture(config));
        return new DecisionPath() {
            @Override
            public boolean decide() {
                return bucket.tryConsume(1);
            }

            @Override
            public CompletionStage<Boolean> decideAsync() {
                return async.tryConsume(1);
            }
        };
    }

    /**
     * The decision of {@code tokenBucket} as a hand-written client would send it: this project's
     * own script, keys and arguments (captured from the {@code SLOWLOG} of one call, so they are
     * exactly what the limiter sends), through Lettuce's {@code evalsha} with arrays built once,
     * the reply's first figure read: the client cost of this project's decision without the
     * library around it.
     */
    private DecisionPath bareEvalsha(int keys) {
        RedisRateLimiters.KeyedLimiter keyed = RedisRateLimiters.builder(connection.async()).build()
                .keyed(NAME, TokenBucket.of(HUGE, RATE, Duration.ofSeconds(1)));
        RedisCommands<String, String> sync = connection.sync();
        List<String> sent = capturedEvalsha(sync, () -> keyed.tryAcquire(key(0, keys)), "bareEvalsha");
        String sha = sent.get(0);
        if (!sent.get(1).equals("1")) {
            throw new IllegalStateException("the token bucket's EVALSHA names " + sent.get(1) + " keys, not 1");
        }
        String[] argv = sent.subList(3, sent.size()).toArray(new String[0]);
        Ring<String[]> redisKeys = new Ring<>(java.util.stream.IntStream.range(0, keys)
                .mapToObj(i -> new String[] {keyed.redisKey(key(i, keys))}).toList());
        RedisAsyncCommands<String, String> async = connection.async();
        return new DecisionPath() {
            @Override
            public boolean decide() {
                List<Object> reply = sync.evalsha(sha, ScriptOutputType.MULTI, redisKeys.first(), argv);
                return ((Long) reply.get(0)) == 1L;
            }

            @Override
            public CompletionStage<Boolean> decideAsync() {
                return async.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, redisKeys.next(), argv)
                        .thenApply(reply -> ((Long) reply.get(0)) == 1L);
            }
        };
    }

    /**
     * Captures what one script call sent: the server's {@code SLOWLOG} logs every command for the
     * call (its threshold set to 0 meanwhile).
     *
     * @param sync a connection to the server
     * @param call makes one call, which must send one {@code EVALSHA}
     * @param what names the call in failures
     * @return the {@code EVALSHA}'s arguments: sha, numkeys, keys, argv
     * @throws IllegalStateException if no {@code EVALSHA} was logged, or its arguments were truncated
     */
    static List<String> capturedEvalsha(RedisCommands<String, String> sync, Runnable call, String what) {
        String before = sync.configGet("slowlog-log-slower-than").get("slowlog-log-slower-than");
        sync.configSet("slowlog-log-slower-than", "0");
        sync.slowlogReset();
        call.run();
        List<Object> entries = sync.slowlogGet(16);
        sync.configSet("slowlog-log-slower-than", before);
        for (Object entry : entries) {
            List<?> fields = (List<?>) entry;
            List<?> args = (List<?>) fields.get(3);
            if (String.valueOf(args.get(0)).equalsIgnoreCase("evalsha")) {
                List<String> sent = new java.util.ArrayList<>();
                for (Object a : args.subList(1, args.size())) {
                    String s = String.valueOf(a);
                    if (s.endsWith(" more arguments)") || s.endsWith(" more bytes)")) {
                        throw new IllegalStateException("SLOWLOG truncated the arguments of " + what + ": " + args);
                    }
                    sent.add(s);
                }
                return sent;
            }
        }
        throw new IllegalStateException("no EVALSHA in the SLOWLOG after a call of " + what + ": " + entries);
    }

    private DecisionPath noopEvalsha() {
        RedisCommands<String, String> sync = connection.sync();
        RedisAsyncCommands<String, String> async = connection.async();
        String sha = sync.scriptLoad(NOOP);
        return new DecisionPath() {
            @Override
            public boolean decide() {
                Long one = sync.evalsha(sha, ScriptOutputType.INTEGER);
                return one != null && one == 1L;
            }

            @Override
            public CompletionStage<Boolean> decideAsync() {
                // Lettuce's future is itself the stage: one mapping, as a caller needs at least.
                return async.<Long>evalsha(sha, ScriptOutputType.INTEGER).thenApply(one -> one != null && one == 1L);
            }
        };
    }

    /** Disconnects and stops the server; safe to call more than once and after a failed start. */
    @Override
    public void close() {
        try {
            if (bytesConnection != null) {
                bytesConnection.close();
            }
            if (connection != null) {
                connection.close();
            }
            if (client != null) {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        } finally {
            bytesConnection = null;
            connection = null;
            client = null;
            stopServer();
        }
    }

    private void stopServer() {
        try {
            if (server != null) {
                server.destroy();
                if (!server.waitFor(10, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
            if (extracted != null) {
                Files.deleteIfExists(extracted);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.destroyForcibly();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            server = null;
            extracted = null;
        }
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
        try (InputStream in = RedisFixture.class.getResourceAsStream("/" + resource)) {
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

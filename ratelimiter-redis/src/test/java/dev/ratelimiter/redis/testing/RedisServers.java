package dev.ratelimiter.redis.testing;

/**
 * The Redis servers shared by the test classes of one JVM run: one standalone server and one
 * three-master cluster, each started on first use and stopped when the JVM exits, by a shutdown
 * hook. They deliberately outlive JUnit Jupiter: the jqwik properties run after it, on another
 * test engine of the same JVM, and use the same servers. The harness also stops every
 * {@code redis-server} it started when the JVM exits (see {@link RedisProcess}).
 *
 * <p>If the environment variable {@value #REDIS_URL} is set, {@link #standalone()} points at
 * that external server and starts nothing. The cluster is always started by the harness.
 *
 * <p>Thread safety: every method is {@code synchronized}, so test classes run in parallel
 * start each server at most once. After {@link #shutdown()}, the next call starts afresh.
 */
public final class RedisServers {

    /** Environment variable naming an external standalone Redis: {@code redis://host:port}. */
    public static final String REDIS_URL = "REDIS_URL";

    private static StandaloneRedis standalone;
    private static RedisCluster cluster;
    private static boolean hookInstalled;

    private RedisServers() {
    }

    /**
     * @return the shared standalone server, started on first use unless {@value #REDIS_URL} is set
     * @throws IllegalStateException if it cannot be started
     * @throws IllegalArgumentException if {@value #REDIS_URL} is malformed
     */
    public static synchronized StandaloneRedis standalone() {
        if (standalone == null) {
            String url = System.getenv(REDIS_URL);
            if (url != null && !url.isBlank()) {
                standalone = StandaloneRedis.external(url);
            } else {
                installHook();
                standalone = StandaloneRedis.of(RedisProcess.start());
            }
        }
        return standalone;
    }

    /**
     * @return the shared cluster, started on first use
     * @throws IllegalStateException if it cannot be formed
     */
    public static synchronized RedisCluster cluster() {
        if (cluster == null) {
            installHook();
            cluster = RedisCluster.start();
        }
        return cluster;
    }

    /**
     * Stops the shared servers the harness started, at once; the shutdown hook calls it at JVM
     * exit. Idempotent.
     */
    public static synchronized void shutdown() {
        if (standalone != null) {
            standalone.process().ifPresent(RedisProcess::close);
            standalone = null;
        }
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }

    private static void installHook() {
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(new Thread(RedisServers::shutdown, "redis-servers-shutdown"));
            hookInstalled = true;
        }
    }
}

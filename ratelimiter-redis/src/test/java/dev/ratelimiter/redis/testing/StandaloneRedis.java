package dev.ratelimiter.redis.testing;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The standalone Redis a test talks to: a {@link RedisProcess} the harness started, or an
 * external server named by the {@code REDIS_URL} environment variable
 * ({@code redis://[[user]:password@]host[:port][/db]}), in which case the harness starts nothing.
 *
 * <p>Tests that kill or restart the server need a process of their own
 * ({@link RedisProcess#start}); {@link #process()} is empty for an external server.
 *
 * <p>Immutable and thread-safe.
 */
public final class StandaloneRedis {

    private final String uri;
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final int database;
    private final RedisProcess process;

    private StandaloneRedis(String uri, String host, int port, String user, String password, int database,
            RedisProcess process) {
        this.uri = uri;
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
        this.process = process;
    }

    /**
     * @param process a started server
     * @return the target for it
     */
    public static StandaloneRedis of(RedisProcess process) {
        Objects.requireNonNull(process, "process");
        return new StandaloneRedis(process.uri(), RedisProcess.HOST, process.port(), null, null, 0, process);
    }

    /**
     * @param url a {@code redis://} URL, as in {@code REDIS_URL}
     * @return the target for that external server
     * @throws IllegalArgumentException if the URL is not a {@code redis://} URL with a host
     *                                  (TLS {@code rediss://} is not supported by the harness)
     */
    public static StandaloneRedis external(String url) {
        Objects.requireNonNull(url, "url");
        URI parsed;
        try {
            parsed = URI.create(url.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("REDIS_URL is not a URL: REDIS_URL=" + url, e);
        }
        if (!"redis".equals(parsed.getScheme()) || parsed.getHost() == null) {
            throw new IllegalArgumentException(
                    "REDIS_URL must look like redis://[[user]:password@]host[:port][/db]: REDIS_URL=" + url);
        }
        int port = parsed.getPort() < 0 ? 6379 : parsed.getPort();
        String user = null;
        String password = null;
        if (parsed.getRawUserInfo() != null) {
            String info = parsed.getRawUserInfo();
            int colon = info.indexOf(':');
            if (colon < 0) {
                password = decode(info);
            } else {
                user = colon == 0 ? null : decode(info.substring(0, colon));
                password = decode(info.substring(colon + 1));
            }
        }
        int database = 0;
        String path = parsed.getPath();
        if (path != null && path.length() > 1) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("REDIS_URL names a database that is not a number: REDIS_URL=" + url, e);
            }
        }
        return new StandaloneRedis(url.strip(), parsed.getHost(), port, user, password, database, null);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** @return the URI to give a Redis client */
    public String uri() {
        return uri;
    }

    /** @return the host */
    public String host() {
        return host;
    }

    /** @return the port */
    public int port() {
        return port;
    }

    /** @return whether this is a server the harness did not start */
    public boolean isExternal() {
        return process == null;
    }

    /** @return the process behind it, unless external */
    public Optional<RedisProcess> process() {
        return Optional.ofNullable(process);
    }

    /**
     * @return a new client, authenticated and on the URL's database; the caller closes it
     * @throws java.io.UncheckedIOException if the server does not accept the connection
     */
    public RespClient client() {
        RespClient client = RespClient.connect(host, port, Duration.ofSeconds(2));
        try {
            if (password != null) {
                if (user != null) {
                    client.call("AUTH", user, password);
                } else {
                    client.call("AUTH", password);
                }
            }
            if (database != 0) {
                client.call("SELECT", Integer.toString(database));
            }
            return client;
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** Deletes every key of the selected database ({@code FLUSHDB}). */
    public void flushDb() {
        try (RespClient client = client()) {
            client.call("FLUSHDB");
        }
    }

    @Override
    public String toString() {
        // The URI may hold a password: show only where it points.
        return "StandaloneRedis[" + host + ":" + port + (isExternal() ? ", external" : ", " + process.version()) + "]";
    }
}

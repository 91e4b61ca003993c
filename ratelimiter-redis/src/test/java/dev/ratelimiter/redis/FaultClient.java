package dev.ratelimiter.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Lettuce client of its own for a fault test, configured as a user would: either with the
 * settings {@link RedisRateLimiters} recommends or with Lettuce's defaults. Both reconnect every
 * 50 ms so that recovery after a restart is quick; the test closes it.
 */
final class FaultClient implements AutoCloseable {

    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    /**
     * @param uri         the server (or a proxy in front of it)
     * @param timeout     the limiters' timeout, also Lettuce's command timeout when recommended
     * @param recommended whether to apply the recommended client options, else Lettuce's defaults
     */
    FaultClient(String uri, Duration timeout, boolean recommended) {
        this.resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.constant(Duration.ofMillis(50)))
                .build();
        this.client = RedisClient.create(resources, uri);
        if (recommended) {
            client.setOptions(ClientOptions.builder()
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .replayFilter(command -> command.getType() == CommandType.EVALSHA
                            || command.getType() == CommandType.EVAL)
                    .timeoutOptions(TimeoutOptions.enabled(timeout))
                    .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).keepAlive(true).build())
                    .build());
        }
        this.connection = client.connect();
    }

    StatefulRedisConnection<String, String> connection() {
        return connection;
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * The live threads, other than the caller, that are inside this library's main code: a
     * caller still waiting on a decision would show up here. Test classes do not count, nor the
     * shared timeout thread while it is parked between sweeps.
     */
    static List<String> threadsInsideTheLimiters() {
        List<String> found = new ArrayList<>();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            if (e.getKey() == Thread.currentThread()) {
                continue;
            }
            if (e.getKey().getName().equals(CallTimer.THREAD_NAME) && e.getKey().getState() != Thread.State.RUNNABLE) {
                continue; // the shared timeout thread, parked between sweeps: not inside a call
            }
            for (StackTraceElement frame : e.getValue()) {
                String cls = frame.getClassName();
                if (cls.startsWith("dev.ratelimiter.") && !cls.endsWith("Test") && !cls.contains("Test$")
                        && !cls.startsWith("dev.ratelimiter.redis.testing.")
                        && !cls.startsWith("dev.ratelimiter.redis.FaultClient")) {
                    found.add(e.getKey().getName() + " (" + e.getKey().getState() + ") at " + frame);
                    break;
                }
            }
        }
        return found;
    }
}

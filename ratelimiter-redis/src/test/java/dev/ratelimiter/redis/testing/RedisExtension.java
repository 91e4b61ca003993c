package dev.ratelimiter.redis.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives test classes the shared Redis servers of {@link RedisServers} as parameters
 * (constructor, {@code @BeforeAll}, {@code @BeforeEach} or test method) and stops them once,
 * when JUnit closes its root store at the end of the run.
 *
 * <pre>{@code
 * @ExtendWith(RedisExtension.class)
 * class MyRedisTest {
 *     @Test
 *     void works(StandaloneRedis redis) { ... redis.uri() ... }
 *
 *     @Test
 *     void worksOnCluster(RedisCluster cluster) { ... cluster.seedUris() ... }
 * }
 * }</pre>
 *
 * <p>A server is started only when a parameter asks for it: a class that uses only the
 * standalone server never starts a cluster.
 */
public final class RedisExtension implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RedisExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        registerShutdown(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == StandaloneRedis.class || type == RedisCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        registerShutdown(context);
        Class<?> type = parameter.getParameter().getType();
        return type == StandaloneRedis.class ? RedisServers.standalone() : RedisServers.cluster();
    }

    /** Puts, once per run, a resource in the root store whose closing stops the shared servers. */
    private static void registerShutdown(ExtensionContext context) {
        context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(SharedServers.class, key -> new SharedServers(), SharedServers.class);
    }

    /**
     * Closed by JUnit with the root store. JUnit 5.13+ closes {@link AutoCloseable} values and
     * older versions {@code CloseableResource}s; closing twice is harmless.
     */
    @SuppressWarnings("deprecation")
    private static final class SharedServers implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            RedisServers.shutdown();
        }
    }
}

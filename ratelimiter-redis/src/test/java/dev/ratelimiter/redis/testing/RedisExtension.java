package dev.ratelimiter.redis.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives test classes the shared Redis servers of {@link RedisServers} as parameters
 * (constructor, {@code @BeforeAll}, {@code @BeforeEach} or test method).
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
 * standalone server never starts a cluster. The servers are not stopped when JUnit Jupiter
 * finishes: the jqwik properties, which run afterwards on another engine of the same JVM, use
 * them too. They are stopped when the JVM exits (see {@link RedisServers}).
 */
public final class RedisExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == StandaloneRedis.class || type == RedisCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == StandaloneRedis.class ? RedisServers.standalone() : RedisServers.cluster();
    }
}

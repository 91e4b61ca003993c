/**
 * The Redis test harness: real {@code redis-server} processes started by the tests on free
 * loopback ports, and stopped by them.
 *
 * <ul>
 *   <li>{@link dev.ratelimiter.redis.testing.RedisBinary}: which server runs (the
 *       {@code ratelimiter.redis.server} property or {@code RATELIMITER_REDIS_SERVER}, a path or
 *       {@code embedded}; else {@code redis-server} on the PATH; else the Redis 6.2 binary in the
 *       embedded-redis test jar).</li>
 *   <li>{@link dev.ratelimiter.redis.testing.RedisProcess}: one server; kill and restart on the
 *       same port for fault tests.</li>
 *   <li>{@link dev.ratelimiter.redis.testing.RedisCluster}: three masters, formed with cluster
 *       commands.</li>
 *   <li>{@link dev.ratelimiter.redis.testing.RedisExtension} and
 *       {@link dev.ratelimiter.redis.testing.RedisServers}: one shared standalone server
 *       ({@code REDIS_URL} points it at an external Redis instead) and one shared cluster per
 *       run, started lazily. Shared servers are shared: use distinct keys per test, or flush.</li>
 *   <li>{@link dev.ratelimiter.redis.testing.LatencyProxy}: a TCP proxy that delays or
 *       black-holes traffic.</li>
 *   <li>{@link dev.ratelimiter.redis.testing.RespClient}: a minimal RESP client, so the harness
 *       does not depend on the code under test.</li>
 * </ul>
 *
 * <p>Against Redis 6.2 whatever is installed:
 * {@code mvn test -pl ratelimiter-redis -Dratelimiter.redis.server=embedded}.
 */
package dev.ratelimiter.redis.testing;

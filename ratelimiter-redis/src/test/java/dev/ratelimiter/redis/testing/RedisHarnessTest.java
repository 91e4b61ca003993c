package dev.ratelimiter.redis.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself: servers start and answer, survive kill and restart on their port, the
 * cluster forms and spreads keys over its three masters, the proxy delays and black-holes.
 * Run once as is (the PATH binary, or the embedded one if none) and once with
 * {@code -Dratelimiter.redis.server=embedded} (Redis 6.2).
 */
@ExtendWith(RedisExtension.class)
class RedisHarnessTest {

    @Test
    void standaloneAnswersPingSetAndGet(StandaloneRedis redis) {
        try (RespClient client = redis.client()) {
            assertThat(client.call("PING")).isEqualTo("PONG");
            assertThat(client.call("SET", "harness:greeting", "héllo")).isEqualTo("OK");
            assertThat(client.callString("GET", "harness:greeting")).isEqualTo("héllo");
            assertThat(client.callLong("DEL", "harness:greeting")).isEqualTo(1L);
            assertThat(client.callString("GET", "harness:greeting")).isNull();
        }
    }

    @Test
    void startedServerReportsTheVersionOfItsBinary() {
        RedisBinary binary = RedisBinary.get();
        assertThat(binary.version()).matches("\\d+\\.\\d+\\.\\d+");
        try (RedisProcess redis = RedisProcess.start(binary); RespClient client = redis.client()) {
            assertThat(redis.version()).isEqualTo(binary.version());
            assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + redis.port());
            assertThat(client.callString("INFO", "server")).contains("redis_version:" + binary.version());
        }
    }

    @Test
    void embeddedBinaryIsRedis62AndStarts() {
        RedisBinary embedded = RedisBinary.embedded();
        assertThat(embedded.version()).startsWith("6.2.");
        assertThat(embedded.isAtLeast(6, 2)).isTrue();
        assertThat(embedded.isAtLeast(7, 0)).isFalse();
        try (RedisProcess redis = RedisProcess.start(embedded); RespClient client = redis.client()) {
            assertThat(client.callString("INFO", "server")).contains("redis_version:6.2.");
        }
    }

    @Test
    void killedServerRestartsOnTheSamePortWithAnEmptyDataSet() {
        try (RedisProcess redis = RedisProcess.start()) {
            int port = redis.port();
            try (RespClient client = redis.client()) {
                client.call("SET", "k", "v");
            }

            redis.kill();

            assertThat(redis.isRunning()).isFalse();
            assertThatThrownBy(redis::client).isInstanceOf(UncheckedIOException.class)
                    .hasCauseInstanceOf(ConnectException.class);

            redis.restart();

            assertThat(redis.isRunning()).isTrue();
            assertThat(redis.port()).isEqualTo(port);
            try (RespClient client = redis.client()) {
                assertThat(client.call("PING")).isEqualTo("PONG");
                assertThat(client.callString("GET", "k")).isNull(); // no persistence
            }
        }
    }

    @Test
    void stoppedServerRefusesConnectionsAndCloseRemovesItsDirectory() {
        RedisProcess redis = RedisProcess.start();
        Path dir = redis.dir();
        assertThat(dir).isDirectory();

        redis.stop();
        assertThat(redis.isRunning()).isFalse();
        assertThatThrownBy(redis::client).isInstanceOf(UncheckedIOException.class);

        redis.close();
        assertThat(Files.exists(dir)).isFalse();
    }

    @Test
    void badOptionFailsTheStartWithTheServerLogInTheMessage() {
        assertThatThrownBy(() -> RedisProcess.start("--no-such-option", "1"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exited with status")
                .hasMessageContaining("no-such-option");
    }

    @Test
    void clusterReachesStateOkOnEveryNode(RedisCluster cluster) {
        assertThat(cluster.nodes()).hasSize(3);
        assertThat(cluster.seedUris()).hasSize(3).allMatch(uri -> uri.startsWith("redis://127.0.0.1:"));
        for (RedisProcess node : cluster.nodes()) {
            try (RespClient client = node.client()) {
                String info = client.callString("CLUSTER", "INFO");
                assertThat(info).contains("cluster_state:ok", "cluster_slots_assigned:16384",
                        "cluster_known_nodes:3", "cluster_size:3");
            }
        }
    }

    @Test
    void keysOfDifferentSlotsLandOnAllThreeMasters(RedisCluster cluster) {
        Set<Integer> owners = new HashSet<>();
        for (int user = 0; user < 30; user++) {
            String key = "rl:{user-" + user + "}:tokens";
            int owner = cluster.portOfSlot(cluster.keySlot(key));
            owners.add(owner);
            try (RespClient client = RespClient.connect(RedisProcess.HOST, owner, Duration.ofSeconds(2))) {
                assertThat(client.call("SET", key, "1")).isEqualTo("OK");
                assertThat(client.callLong("DBSIZE")).isPositive();
            }
        }
        assertThat(owners).containsExactlyInAnyOrderElementsOf(cluster.ports());
        cluster.flushAll();
    }

    @Test
    void clusterNodeRedirectsAKeyItDoesNotOwn(RedisCluster cluster) {
        String key = "rl:{tenant-7}:window";
        int slot = cluster.keySlot(key);
        int owner = cluster.portOfSlot(slot);
        int other = cluster.ports().stream().filter(p -> p != owner).findFirst().orElseThrow();

        try (RespClient client = RespClient.connect(RedisProcess.HOST, other, Duration.ofSeconds(2))) {
            Object reply = client.command("GET", key);
            assertThat(reply).isEqualTo(new RespClient.ErrorReply("MOVED " + slot + " 127.0.0.1:" + owner));
        }
    }

    @Test
    void proxyForwardsBothWays() {
        try (RedisProcess redis = RedisProcess.start(); LatencyProxy proxy = LatencyProxy.to(redis);
                RespClient client = RespClient.connect(RedisProcess.HOST, proxy.port(), Duration.ofSeconds(2))) {
            assertThat(client.call("SET", "via-proxy", "yes")).isEqualTo("OK");
            assertThat(client.callString("GET", "via-proxy")).isEqualTo("yes");
            assertThat(proxy.openConnections()).isEqualTo(1);
        }
    }

    @Test
    void delayedProxyDoesNotAnswerWithin200MillisButAnswersLater() {
        try (RedisProcess redis = RedisProcess.start(); LatencyProxy proxy = LatencyProxy.to(redis);
                RespClient client = RespClient.connect(RedisProcess.HOST, proxy.port(), Duration.ofSeconds(2))) {
            proxy.setDelay(Duration.ofSeconds(1));
            client.setReadTimeout(Duration.ofMillis(200));
            client.send("PING");

            assertThatThrownBy(client::readReply).hasCauseInstanceOf(SocketTimeoutException.class);

            proxy.setDelay(Duration.ZERO); // already-queued chunks become due at once
            client.setReadTimeout(Duration.ofSeconds(5));
            assertThat(client.readReply()).isEqualTo("PONG");
        }
    }

    @Test
    void blackholedProxyHoldsRequestsUntilLifted() {
        try (RedisProcess redis = RedisProcess.start(); LatencyProxy proxy = LatencyProxy.to(redis);
                RespClient client = RespClient.connect(RedisProcess.HOST, proxy.port(), Duration.ofSeconds(2))) {
            proxy.blackhole(true);
            client.setReadTimeout(Duration.ofMillis(200));
            client.send("INCR", "counter");

            assertThatThrownBy(client::readReply).hasCauseInstanceOf(SocketTimeoutException.class);

            proxy.blackhole(false);
            client.setReadTimeout(Duration.ofSeconds(5));
            assertThat(client.readReply()).isEqualTo(1L);
            try (RespClient direct = redis.client()) {
                assertThat(direct.callString("GET", "counter")).isEqualTo("1"); // counted once
            }
        }
    }

    @Test
    void closedProxyDropsItsConnectionsAndRefusesNewOnes() {
        try (RedisProcess redis = RedisProcess.start()) {
            LatencyProxy proxy = LatencyProxy.to(redis);
            int port = proxy.port();
            RespClient client = RespClient.connect(RedisProcess.HOST, port, Duration.ofSeconds(2));
            assertThat(client.call("PING")).isEqualTo("PONG");

            proxy.close();

            assertThatThrownBy(() -> client.command("PING")).isInstanceOf(UncheckedIOException.class);
            client.close();
            assertThatThrownBy(() -> RespClient.connect(RedisProcess.HOST, port, Duration.ofSeconds(1)))
                    .hasCauseInstanceOf(ConnectException.class);
        }
    }

    @Test
    void proxyToADeadServerClosesTheClientConnection() {
        try (RedisProcess redis = RedisProcess.start(); LatencyProxy proxy = LatencyProxy.to(redis)) {
            redis.kill();
            try (RespClient client = RespClient.connect(RedisProcess.HOST, proxy.port(), Duration.ofSeconds(2))) {
                assertThatThrownBy(() -> client.command("PING")).isInstanceOf(UncheckedIOException.class);
            }
            redis.restart();
            try (RespClient client = RespClient.connect(RedisProcess.HOST, proxy.port(), Duration.ofSeconds(2))) {
                assertThat(client.call("PING")).isEqualTo("PONG");
            }
        }
    }

    @Test
    void respClientDecodesEveryReplyType() {
        String wire = "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n"
                + "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$0\r\n\r\n$-1\r\n";
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        try (RespClient client = RespClient.over(
                new ByteArrayInputStream(wire.getBytes(StandardCharsets.UTF_8)), sent)) {
            assertThat(client.readReply()).isEqualTo("OK");
            Object error = client.readReply();
            assertThat(error).isEqualTo(new RespClient.ErrorReply("ERR wrong"));
            assertThat(((RespClient.ErrorReply) error).code()).isEqualTo("ERR");
            assertThat(client.readReply()).isEqualTo(-42L);
            assertThat(client.readReply()).isEqualTo("hello");
            assertThat(client.readReply()).isNull();
            assertThat(client.readReply()).isNull();
            assertThat(client.readReply()).isEqualTo(Arrays.asList(1L, List.of("a", ""), null));
            assertThatThrownBy(client::readReply).isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("closed");

            client.send("SET", "k", "é");
            assertThat(sent.toString(StandardCharsets.UTF_8)).isEqualTo("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n");
        }
    }

    @Test
    void respClientCallThrowsOnAnErrorReply(StandaloneRedis redis) {
        try (RespClient client = redis.client()) {
            assertThatThrownBy(() -> client.call("NO-SUCH-COMMAND"))
                    .isInstanceOf(RespClient.RespException.class)
                    .hasMessageContaining("ERR")
                    .hasMessageContaining("NO-SUCH-COMMAND");
        }
    }

    @Test
    void missingServerNamedByThePropertyIsAClearError(@TempDir Path dir) {
        String missing = dir.resolve("no-redis-here").toString();
        assertThatThrownBy(() -> RedisBinary.resolve(missing, null, null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("redis-server named by system property ratelimiter.redis.server does not exist: "
                        + missing);
        assertThatThrownBy(() -> RedisBinary.resolve(null, missing, null))
                .hasMessageContaining("environment variable RATELIMITER_REDIS_SERVER");
    }

    @Test
    void nonExecutableServerIsAClearError(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("redis-server"), "not a program");
        assertThatThrownBy(() -> RedisBinary.resolve(file.toString(), null, null))
                .hasMessageContaining("is not executable: " + file);
    }

    @Test
    void propertyComesBeforeTheEnvironmentAndThePath(@TempDir Path emptyDir) {
        assertThat(RedisBinary.resolve("embedded", "/nowhere/redis-server", null)).isEqualTo(RedisBinary.embedded());
        assertThat(RedisBinary.resolve(null, "EMBEDDED", null)).isEqualTo(RedisBinary.embedded());
        // Nothing named and nothing on the PATH: the embedded binary.
        assertThat(RedisBinary.resolve(null, null, emptyDir.toString())).isEqualTo(RedisBinary.embedded());
    }

    @Test
    void unsupportedPlatformIsAClearError() {
        assertThat(RedisBinary.embeddedResourceName("Linux", "amd64")).isEqualTo("redis-server-6.2.6-v5-linux-amd64");
        assertThat(RedisBinary.embeddedResourceName("Mac OS X", "aarch64")).isEqualTo("redis-server-6.2.6-v5-darwin-arm64");
        assertThatThrownBy(() -> RedisBinary.embeddedResourceName("SunOS", "sparcv9"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the embedded-redis jar has no redis-server for os.name=SunOS, os.arch=sparcv9;"
                        + " install redis-server on the PATH or set ratelimiter.redis.server");
    }

    @Test
    void externalUrlIsParsed() {
        StandaloneRedis redis = StandaloneRedis.external("redis://:s%40cret@db.example:6380/2");
        assertThat(redis.host()).isEqualTo("db.example");
        assertThat(redis.port()).isEqualTo(6380);
        assertThat(redis.isExternal()).isTrue();
        assertThat(redis.process()).isEmpty();
        assertThat(redis.toString()).doesNotContain("cret");
        assertThat(StandaloneRedis.external("redis://localhost").port()).isEqualTo(6379);
        assertThatThrownBy(() -> StandaloneRedis.external("rediss://localhost:6380"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("REDIS_URL=rediss://localhost:6380");
    }
}

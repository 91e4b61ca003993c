package dev.ratelimiter.redis.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A cluster node killed and restarted on its port rejoins with its slots (it keeps its
 * identity in {@code nodes.conf}), so cluster fault tests can bring a node back. Uses a cluster
 * of its own: the shared one must stay whole for the other test classes.
 */
class RedisClusterRestartTest {

    @Test
    void killedNodeRestartsAndTheClusterReturnsToStateOk() {
        try (RedisCluster cluster = RedisCluster.start()) {
            RedisProcess victim = cluster.nodes().get(1);
            String key = "rl:{user-1}:tokens";
            int slot = cluster.keySlot(key);
            int owner = cluster.portOfSlot(slot);
            String nodeId;
            try (RespClient client = victim.client()) {
                nodeId = client.callString("CLUSTER", "MYID");
            }

            victim.kill();
            victim.restart();
            cluster.awaitReady(Duration.ofSeconds(20));

            try (RespClient client = victim.client()) {
                assertThat(client.callString("CLUSTER", "MYID")).isEqualTo(nodeId);
            }
            assertThat(cluster.portOfSlot(slot)).isEqualTo(owner);
            try (RespClient client = RespClient.connect(RedisProcess.HOST, owner, Duration.ofSeconds(2))) {
                assertThat(client.call("SET", key, "1")).isEqualTo("OK");
            }
        }
    }
}

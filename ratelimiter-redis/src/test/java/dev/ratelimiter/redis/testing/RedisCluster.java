package dev.ratelimiter.redis.testing;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A three-master Redis Cluster (no replicas) of {@link RedisProcess}es on free loopback ports,
 * built with cluster commands the way {@code redis-cli --cluster create} does it: each node
 * gets a distinct config epoch and a third of the 16384 hash slots, the nodes meet, and the
 * constructor returns once every node reports {@code cluster_state:ok} and all slots assigned.
 *
 * <p>Node {@code i} owns slots {@code [i * 16384 / 3, (i + 1) * 16384 / 3)}:
 * 0..5460, 5461..10921, 10922..16383.
 *
 * <pre>{@code
 * try (RedisCluster cluster = RedisCluster.start()) {
 *     RedisClusterClient client = RedisClusterClient.create(cluster.seedUris().stream().map(RedisURI::create).toList());
 *     ...
 * }
 * }</pre>
 *
 * <p>Thread safety: immutable once started, except for the nodes' own lifecycles (see
 * {@link RedisProcess}); {@link #close()} is idempotent.
 */
public final class RedisCluster implements AutoCloseable {

    /** The number of hash slots in a Redis Cluster. */
    public static final int SLOTS = 16384;

    /** The number of masters. */
    public static final int MASTERS = 3;

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final int ADDSLOTS_BATCH = 1000;

    private final List<RedisProcess> nodes;

    private RedisCluster(List<RedisProcess> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /**
     * Starts a cluster with the binary of {@link RedisBinary#get()}.
     *
     * @return a cluster in state ok
     * @throws IllegalStateException if it does not form in time (the message says what was missing)
     */
    public static RedisCluster start() {
        return start(RedisBinary.get());
    }

    /**
     * Starts a cluster.
     *
     * @param binary the server to run on every node
     * @return a cluster in state ok
     * @throws IllegalStateException if it does not form in time (the message says what was missing)
     */
    public static RedisCluster start(RedisBinary binary) {
        Objects.requireNonNull(binary, "binary");
        List<RedisProcess> started = new ArrayList<>(MASTERS);
        try {
            for (int i = 0; i < MASTERS; i++) {
                started.add(RedisProcess.start(binary, true, List.of(
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        // Small, so that a killed node is noticed quickly by fault tests.
                        "--cluster-node-timeout", "2000")));
            }
            RedisCluster cluster = new RedisCluster(started);
            cluster.form(binary);
            return cluster;
        } catch (RuntimeException e) {
            for (RedisProcess node : started) {
                node.close();
            }
            throw e;
        }
    }

    private void form(RedisBinary binary) {
        for (int i = 0; i < MASTERS; i++) {
            try (RespClient node = nodes.get(i).client()) {
                // Distinct epochs up front spare the cluster its epoch-collision resolution.
                node.call("CLUSTER", "SET-CONFIG-EPOCH", Integer.toString(i + 1));
                int first = firstSlot(i);
                int last = firstSlot(i + 1) - 1;
                if (binary.isAtLeast(7, 0)) {
                    node.call("CLUSTER", "ADDSLOTSRANGE", Integer.toString(first), Integer.toString(last));
                } else {
                    // Redis 6.2 has no ADDSLOTSRANGE: list the slots, in batches.
                    for (int from = first; from <= last; from += ADDSLOTS_BATCH) {
                        int to = Math.min(last, from + ADDSLOTS_BATCH - 1);
                        String[] command = new String[2 + to - from + 1];
                        command[0] = "CLUSTER";
                        command[1] = "ADDSLOTS";
                        for (int slot = from; slot <= to; slot++) {
                            command[2 + slot - from] = Integer.toString(slot);
                        }
                        node.call(command);
                    }
                }
            }
        }
        try (RespClient first = nodes.get(0).client()) {
            for (int i = 1; i < MASTERS; i++) {
                first.call("CLUSTER", "MEET", RedisProcess.HOST, Integer.toString(nodes.get(i).port()));
            }
        }
        awaitReady(READY_TIMEOUT);
    }

    /**
     * Waits until every node reports {@code cluster_state:ok}, knows all three nodes and sees
     * all 16384 slots assigned and ok.
     *
     * @param timeout how long at most
     * @throws IllegalStateException if that is not so in time
     */
    public void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastProblem = "not checked";
        while (true) {
            lastProblem = problem();
            if (lastProblem == null) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the cluster did not reach state ok within " + timeout.toSeconds()
                        + " s: " + lastProblem);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(50); // poll interval: gossip runs every 100 ms
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the cluster", e);
            }
        }
    }

    /** @return what is not ready yet, or null if every node is */
    private String problem() {
        for (RedisProcess node : nodes) {
            String info;
            try (RespClient client = node.client()) {
                info = client.callString("CLUSTER", "INFO");
            } catch (UncheckedIOException | RespClient.RespException e) {
                return "node " + node.port() + ": " + e.getMessage();
            }
            for (String want : List.of("cluster_state:ok", "cluster_slots_assigned:" + SLOTS,
                    "cluster_slots_ok:" + SLOTS, "cluster_known_nodes:" + MASTERS)) {
                if (!info.contains(want + "\r\n") && !info.endsWith(want)) {
                    return "node " + node.port() + " lacks " + want + " in CLUSTER INFO:\n" + info.strip();
                }
            }
        }
        return null;
    }

    /**
     * @param node index of a node, 0..{@value #MASTERS}; {@code MASTERS} gives {@link #SLOTS}
     * @return the first slot node {@code node} owns
     */
    static int firstSlot(int node) {
        return node * SLOTS / MASTERS;
    }

    /**
     * Asks the cluster for the slot of a key ({@code CLUSTER KEYSLOT}).
     *
     * @param key the key
     * @return its hash slot
     */
    public int keySlot(String key) {
        try (RespClient client = nodes.get(0).client()) {
            return (int) client.callLong("CLUSTER", "KEYSLOT", key);
        }
    }

    /**
     * Asks the cluster which node serves a slot ({@code CLUSTER SLOTS}, as seen by the first node).
     *
     * @param slot a hash slot
     * @return the port of the master serving it
     * @throws IllegalArgumentException if the slot is outside 0..16383
     * @throws IllegalStateException if no node serves it
     */
    public int portOfSlot(int slot) {
        if (slot < 0 || slot >= SLOTS) {
            throw new IllegalArgumentException("slot must be in 0..16383: slot=" + slot);
        }
        try (RespClient client = nodes.get(0).client()) {
            for (Object range : (List<?>) client.call("CLUSTER", "SLOTS")) {
                List<?> r = (List<?>) range;
                if ((Long) r.get(0) <= slot && slot <= (Long) r.get(1)) {
                    return (int) (long) (Long) ((List<?>) r.get(2)).get(1);
                }
            }
        }
        throw new IllegalStateException("no node serves slot " + slot);
    }

    /** Deletes every key on every node ({@code FLUSHALL} on each master). */
    public void flushAll() {
        for (RedisProcess node : nodes) {
            try (RespClient client = node.client()) {
                client.call("FLUSHALL");
            }
        }
    }

    /** @return the nodes, in slot order */
    public List<RedisProcess> nodes() {
        return nodes;
    }

    /** @return the nodes' ports, in slot order */
    public List<Integer> ports() {
        List<Integer> ports = new ArrayList<>(MASTERS);
        for (RedisProcess node : nodes) {
            ports.add(node.port());
        }
        return Collections.unmodifiableList(ports);
    }

    /** @return one {@code redis://127.0.0.1:<port>} per node: seeds for a cluster client */
    public List<String> seedUris() {
        List<String> uris = new ArrayList<>(MASTERS);
        for (RedisProcess node : nodes) {
            uris.add(node.uri());
        }
        return Collections.unmodifiableList(uris);
    }

    /** @return the servers' version */
    public String version() {
        return nodes.get(0).version();
    }

    /** Stops every node and deletes their directories. Idempotent. */
    @Override
    public void close() {
        for (RedisProcess node : nodes) {
            node.close();
        }
    }

    @Override
    public String toString() {
        return "RedisCluster" + ports() + " " + version();
    }
}

package dev.ratelimiter.redis.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on a free loopback port in front of a server, for fault tests: it forwards bytes
 * both ways, can hold every chunk back by a settable delay, and can turn into a black hole
 * that accepts connections and forwards nothing.
 *
 * <pre>{@code
 * try (RedisProcess redis = RedisProcess.start();
 *      LatencyProxy proxy = LatencyProxy.to(redis)) {
 *     client = RedisClient.create(proxy.uri());
 *     proxy.setDelay(Duration.ofMillis(500));   // every reply arrives late: timeouts fire
 *     proxy.blackhole(true);                   // nothing arrives until blackhole(false)
 * }
 * }</pre>
 *
 * <h2>Design</h2>
 * Each connection has two directions; each direction is a delay line: a reader thread
 * stamps each chunk with the time it was read and queues it, and a writer thread forwards it
 * once {@code readAt + delay} has passed and the proxy is not a black hole. So the delay
 * is added once per direction (a request-reply round trip gains about twice the delay), and
 * pipelined chunks are not delayed one after another. A black hole holds chunks rather than
 * dropping them: when it lifts they arrive, in order, as after a healed network partition, so
 * a client that matches replies to requests by order is never confused.
 *
 * <h2>Concurrency</h2>
 * Threads are bounded: one acceptor plus four per connection, at most
 * {@value #MAX_CONNECTIONS} connections (a further one is accepted and closed at once), all
 * from one fixed pool. {@code delayNanos} and {@code blackholed} are volatile, read by the
 * writers before each chunk; a change wakes waiting writers through the {@code gate}
 * monitor, so a lifted black hole or a shorter delay takes effect at once. Each queue is
 * bounded, so a stalled direction pushes back on its reader (and thus on TCP) instead of
 * buffering without limit. {@link #close()} closes the listening socket and every
 * connection, then waits for the pool to finish.
 */
public final class LatencyProxy implements AutoCloseable {

    /** The most connections forwarded at once. */
    public static final int MAX_CONNECTIONS = 16;

    private static final int CHUNK_BYTES = 16 * 1024;
    private static final int QUEUE_CHUNKS = 256;
    private static final Chunk EOF = new Chunk(0, new byte[0]);

    private final String targetHost;
    private final int targetPort;
    private final ServerSocket server;
    private final ExecutorService pool;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();

    private volatile long delayNanos;
    private volatile boolean blackholed;
    private volatile boolean closed;

    private LatencyProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(RedisProcess.HOST), 0));
        AtomicInteger threads = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(1 + 4 * MAX_CONNECTIONS, task -> {
            Thread t = new Thread(task, "latency-proxy-" + server.getLocalPort() + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.execute(this::acceptLoop);
    }

    /**
     * Starts a proxy.
     *
     * @param targetHost the server's host
     * @param targetPort the server's port
     * @return a proxy listening on a free loopback port
     * @throws UncheckedIOException if it cannot listen
     */
    public static LatencyProxy start(String targetHost, int targetPort) {
        Objects.requireNonNull(targetHost, "targetHost");
        if (targetPort <= 0 || targetPort > 65535) {
            throw new IllegalArgumentException("targetPort must be in 1..65535: targetPort=" + targetPort);
        }
        try {
            return new LatencyProxy(targetHost, targetPort);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a proxy to " + targetHost + ":" + targetPort + ": " + e, e);
        }
    }

    /**
     * @param target the server
     * @return a proxy in front of it; it follows the server across restarts (same port)
     */
    public static LatencyProxy to(RedisProcess target) {
        return start(RedisProcess.HOST, target.port());
    }

    /**
     * Sets the delay added to every chunk in each direction, from now on (chunks already
     * queued are forwarded at their read time plus the new delay).
     *
     * @param delay zero or more
     * @throws IllegalArgumentException if negative
     */
    public void setDelay(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must be >= 0: delay=" + delay);
        }
        delayNanos = delay.toNanos();
        wakeWriters();
    }

    /**
     * @param on whether to forward nothing (connections are still accepted; what they send is
     *           held until the black hole lifts)
     */
    public void blackhole(boolean on) {
        blackholed = on;
        wakeWriters();
    }

    /** Closes every connection open now (clients see them drop); new ones are accepted. */
    public void dropConnections() {
        for (Connection c : connections) {
            c.close();
        }
    }

    /** @return the port the proxy listens on */
    public int port() {
        return server.getLocalPort();
    }

    /** @return {@code redis://127.0.0.1:<port>} of the proxy */
    public String uri() {
        return "redis://" + RedisProcess.HOST + ":" + port();
    }

    /** @return how many connections are being forwarded now */
    public int openConnections() {
        return connections.size();
    }

    /** Stops listening, closes every connection and waits for the proxy's threads to end. */
    @Override
    public void close() {
        closed = true;
        RespClient.closeQuietly(server);
        dropConnections();
        wakeWriters();
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("proxy threads did not end within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void wakeWriters() {
        synchronized (gate) {
            gate.notifyAll();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (!slots.tryAcquire()) {
                RespClient.closeQuietly(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 2000);
            } catch (IOException e) {
                // The server is down: the client sees its connection close, as with no proxy.
                RespClient.closeQuietly(upstream);
                RespClient.closeQuietly(client);
                slots.release();
                continue;
            }
            Connection connection = new Connection(client, upstream);
            connections.add(connection);
            if (closed) {
                connection.close();
                return;
            }
            try {
                connection.start();
            } catch (RejectedExecutionException e) {
                connection.close(); // the pool is shutting down
            }
        }
    }

    private record Chunk(long readAtNanos, byte[] bytes) {
    }

    /** One proxied connection: two delay lines, client to server and server to client. */
    private final class Connection {
        private final Socket client;
        private final Socket upstream;
        private final AtomicInteger closedOnce = new AtomicInteger();
        private volatile boolean done;

        Connection(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void start() throws RejectedExecutionException {
            BlockingQueue<Chunk> toServer = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
            BlockingQueue<Chunk> toClient = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
            InputStream fromClient;
            InputStream fromServer;
            OutputStream intoServer;
            OutputStream intoClient;
            try {
                fromClient = client.getInputStream();
                fromServer = upstream.getInputStream();
                intoServer = upstream.getOutputStream();
                intoClient = client.getOutputStream();
            } catch (IOException e) {
                close();
                return;
            }
            pool.execute(() -> read(fromClient, toServer));
            pool.execute(() -> write(toServer, intoServer));
            pool.execute(() -> read(fromServer, toClient));
            pool.execute(() -> write(toClient, intoClient));
        }

        private void read(InputStream in, BlockingQueue<Chunk> queue) {
            byte[] buf = new byte[CHUNK_BYTES];
            try {
                while (!done) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    if (!enqueue(queue, new Chunk(System.nanoTime(), Arrays.copyOf(buf, n)))) {
                        return;
                    }
                }
            } catch (IOException e) {
                // The socket closed or failed: end this direction below.
            }
            enqueue(queue, EOF);
        }

        /** Bounded: gives up once the connection is closed, so no reader blocks forever. */
        private boolean enqueue(BlockingQueue<Chunk> queue, Chunk chunk) {
            try {
                while (!done) {
                    if (queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                        return true;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }

        private void write(BlockingQueue<Chunk> queue, OutputStream out) {
            try {
                while (!done) {
                    Chunk chunk = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (chunk == null) {
                        continue;
                    }
                    if (chunk == EOF) {
                        break;
                    }
                    if (!awaitForwardable(chunk)) {
                        break;
                    }
                    out.write(chunk.bytes());
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // Closed or interrupted by close(): end the connection below.
            }
            close();
        }

        /** Waits until the chunk is due and the proxy is no black hole; false if closed meanwhile. */
        private boolean awaitForwardable(Chunk chunk) throws InterruptedException {
            synchronized (gate) {
                while (!done && !closed) {
                    if (blackholed) {
                        gate.wait();
                        continue;
                    }
                    long wait = chunk.readAtNanos() + delayNanos - System.nanoTime();
                    if (wait <= 0) {
                        return true;
                    }
                    TimeUnit.NANOSECONDS.timedWait(gate, wait);
                }
            }
            return false;
        }

        void close() {
            if (closedOnce.getAndIncrement() != 0) {
                return;
            }
            done = true;
            RespClient.closeQuietly(client);
            RespClient.closeQuietly(upstream);
            connections.remove(this);
            slots.release();
            wakeWriters();
        }
    }
}

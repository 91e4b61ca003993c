package dev.ratelimiter.redis.testing;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A minimal RESP2 client over a blocking socket, so that the test harness can set up and
 * inspect Redis servers without depending on the code under test (nor on Lettuce).
 *
 * <p>A command is sent as an array of bulk strings; a reply is decoded as
 * <ul>
 *   <li>simple string and bulk string: {@link String} (UTF-8); a nil bulk or nil array: {@code null};</li>
 *   <li>integer: {@link Long};</li>
 *   <li>array: an unmodifiable {@link List} of replies (nested as needed);</li>
 *   <li>error: an {@link ErrorReply} from {@link #command}, a {@link RespException} from
 *       {@link #call}.</li>
 * </ul>
 *
 * <p>Not thread-safe: one caller at a time, one reply read per command sent. A read that
 * timed out leaves the stream where it was, so the same reply can still be read later with
 * {@link #readReply()}.
 *
 * <pre>{@code
 * try (RespClient redis = RespClient.connect("127.0.0.1", port, Duration.ofSeconds(2))) {
 *     redis.call("SET", "k", "v");
 *     String v = redis.callString("GET", "k");
 * }
 * }</pre>
 */
public final class RespClient implements Closeable {

    /** An error reply ({@code -ERR ...}, {@code -MOVED ...}, ...), returned as a value. */
    public record ErrorReply(String message) {

        /**
         * @param message the error line without the leading {@code -}
         */
        public ErrorReply {
            Objects.requireNonNull(message, "message");
        }

        /** @return the first word of the message: {@code ERR}, {@code MOVED}, {@code NOSCRIPT}... */
        public String code() {
            int space = message.indexOf(' ');
            return space < 0 ? message : message.substring(0, space);
        }
    }

    /** Thrown by {@link #call} when Redis answers with an error. */
    public static final class RespException extends RuntimeException {

        private static final long serialVersionUID = 1L;

        private final transient ErrorReply reply;

        RespException(ErrorReply reply, String[] command) {
            super(reply.message() + " (command: " + String.join(" ", command) + ")");
            this.reply = reply;
        }

        /** @return the error reply */
        public ErrorReply reply() {
            return reply;
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RespClient(Socket socket, InputStream in, OutputStream out) {
        this.socket = socket;
        this.in = in;
        this.out = out;
    }

    /**
     * Connects to a server.
     *
     * @param host    the host
     * @param port    the port
     * @param timeout bounds the connect and then every read
     * @return a connected client
     * @throws UncheckedIOException if the connection fails
     */
    public static RespClient connect(String host, int port, Duration timeout) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(timeout, "timeout");
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 1..65535: port=" + port);
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), toMillis(timeout));
            socket.setSoTimeout(toMillis(timeout));
            return new RespClient(socket, new BufferedInputStream(socket.getInputStream()),
                    new BufferedOutputStream(socket.getOutputStream()));
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to " + host + ":" + port + ": " + e, e);
        }
    }

    /**
     * A client over given streams, without a socket: for decoding tests.
     *
     * @param in  where replies are read from
     * @param out where commands are written to
     * @return a client; closing it closes both streams
     */
    static RespClient over(InputStream in, OutputStream out) {
        return new RespClient(null, Objects.requireNonNull(in, "in"), Objects.requireNonNull(out, "out"));
    }

    /**
     * Changes the read timeout.
     *
     * @param timeout the new bound on each read; {@link Duration#ZERO} waits forever
     */
    public void setReadTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        try {
            socket.setSoTimeout(toMillis(timeout));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends a command and reads its reply; an error reply is returned as an {@link ErrorReply}.
     *
     * @param args the command and its arguments
     * @return the decoded reply
     * @throws UncheckedIOException on I/O failure or timeout (a {@link java.net.SocketTimeoutException} cause)
     */
    public Object command(String... args) {
        send(args);
        return readReply();
    }

    /**
     * Sends a command and reads its reply.
     *
     * @param args the command and its arguments
     * @return the decoded reply, never an {@link ErrorReply}
     * @throws RespException if Redis answers with an error
     * @throws UncheckedIOException on I/O failure or timeout
     */
    public Object call(String... args) {
        Object reply = command(args);
        if (reply instanceof ErrorReply error) {
            throw new RespException(error, args);
        }
        return reply;
    }

    /**
     * @param args the command and its arguments
     * @return the reply as a string (simple or bulk), or {@code null} for nil
     * @throws RespException if Redis answers with an error
     * @throws IllegalStateException if the reply is of another type
     */
    public String callString(String... args) {
        Object reply = call(args);
        if (reply != null && !(reply instanceof String)) {
            throw new IllegalStateException("expected a string reply to " + String.join(" ", args) + ": " + reply);
        }
        return (String) reply;
    }

    /**
     * @param command a command's name, lower case, as {@code INFO commandstats} writes it
     * @return how many times the server ran it since it started or its stats were reset
     * @throws RespException if Redis answers with an error
     */
    public long commandCalls(String command) {
        String prefix = "cmdstat_" + command + ":calls=";
        for (String line : callString("INFO", "commandstats").split("\r\n")) {
            if (line.startsWith(prefix)) {
                return Long.parseLong(line.substring(prefix.length(), line.indexOf(',', prefix.length())));
            }
        }
        return 0;
    }

    /**
     * @return how many script calls ({@code EVALSHA} and {@code EVAL}) the server ran
     * @throws RespException if Redis answers with an error
     */
    public long scriptCalls() {
        return commandCalls("evalsha") + commandCalls("eval");
    }

    /**
     * @param args the command and its arguments
     * @return the integer reply
     * @throws RespException if Redis answers with an error
     * @throws IllegalStateException if the reply is not an integer
     */
    public long callLong(String... args) {
        Object reply = call(args);
        if (!(reply instanceof Long)) {
            throw new IllegalStateException("expected an integer reply to " + String.join(" ", args) + ": " + reply);
        }
        return (Long) reply;
    }

    /**
     * Writes one command without reading its reply (for pipelining or for tests that read
     * with their own timeout).
     *
     * @param args the command and its arguments, at least one
     * @throws UncheckedIOException on I/O failure
     */
    public void send(String... args) {
        if (args.length == 0) {
            throw new IllegalArgumentException("args must name a command: args.length=0");
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream(64);
        writeAscii(buf, "*" + args.length + "\r\n");
        for (String arg : args) {
            byte[] bytes = Objects.requireNonNull(arg, "arg").getBytes(StandardCharsets.UTF_8);
            writeAscii(buf, "$" + bytes.length + "\r\n");
            buf.writeBytes(bytes);
            writeAscii(buf, "\r\n");
        }
        try {
            buf.writeTo(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send " + args[0] + ": " + e, e);
        }
    }

    /**
     * Reads one reply.
     *
     * @return the decoded reply (see the class comment)
     * @throws UncheckedIOException on I/O failure, end of stream or timeout
     */
    public Object readReply() {
        try {
            // A timeout before the first byte consumes nothing, so the reply can still be read
            // later. A timeout in the middle of a reply is not recoverable; no test needs it.
            int type = in.read();
            if (type < 0) {
                throw new EOFException("connection closed by the server");
            }
            return decode(type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read a reply: " + e, e);
        }
    }

    private Object decode(int type) throws IOException {
        switch (type) {
            case '+':
                return readLine();
            case '-':
                return new ErrorReply(readLine());
            case ':':
                return Long.parseLong(readLine());
            case '$': {
                int length = Integer.parseInt(readLine());
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length);
                if (bytes.length != length || in.read() != '\r' || in.read() != '\n') {
                    throw new EOFException("truncated bulk string");
                }
                return new String(bytes, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(readLine());
                if (count < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    int itemType = in.read();
                    if (itemType < 0) {
                        throw new EOFException("truncated array");
                    }
                    items.add(decode(itemType));
                }
                return Collections.unmodifiableList(items);
            }
            default:
                throw new IOException("unexpected RESP type byte: " + type + " ('" + (char) type + "')");
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(32);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("truncated line");
            }
            if (b == '\r') {
                if (in.read() != '\n') {
                    throw new IOException("CR not followed by LF");
                }
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(b);
        }
    }

    @Override
    public void close() {
        if (socket != null) {
            closeQuietly(socket);
        } else {
            try {
                in.close();
                out.close();
            } catch (IOException ignored) {
                // Closing test streams: nothing to recover.
            }
        }
    }

    private static void writeAscii(ByteArrayOutputStream buf, String s) {
        buf.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }

    static int toMillis(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be >= 0: timeout=" + timeout);
        }
        long millis = timeout.toMillis();
        if (millis == 0 && !timeout.isZero()) {
            return 1; // 0 would mean "forever" to a socket
        }
        return (int) Math.min(Integer.MAX_VALUE, millis);
    }

    static void closeQuietly(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // Best effort: the resource is being abandoned anyway.
        }
    }
}

package dev.ratelimiter.redis.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code redis-server} executable the tests run, and its version.
 *
 * <p>Chosen in this order:
 * <ol>
 *   <li>the system property {@value #PROPERTY}: a path, or the word {@code embedded};</li>
 *   <li>the environment variable {@value #ENV}: the same;</li>
 *   <li>{@code redis-server} on the {@code PATH};</li>
 *   <li>the binary shipped inside the {@code com.github.codemonstur:embedded-redis} test
 *       dependency (Redis 6.2), extracted once per JVM to a temporary file.</li>
 * </ol>
 * So {@code mvn test} works on a machine with only a JDK and Maven, and
 * {@code -Dratelimiter.redis.server=embedded} runs the suite against Redis 6.2 even where a
 * newer server is installed.
 *
 * <p>Immutable and thread-safe; {@link #get()} resolves once per JVM.
 */
public final class RedisBinary {

    /** System property naming the server: a path or {@code embedded}. */
    public static final String PROPERTY = "ratelimiter.redis.server";

    /** Environment variable naming the server: a path or {@code embedded}. */
    public static final String ENV = "RATELIMITER_REDIS_SERVER";

    /** The value of {@link #PROPERTY} or {@link #ENV} that selects the bundled binary. */
    public static final String EMBEDDED = "embedded";

    private static final Pattern VERSION = Pattern.compile("v=(\\d+)\\.(\\d+)\\.(\\d+)");

    private final Path path;
    private final String source;
    private final String version;
    private final int major;
    private final int minor;

    private RedisBinary(Path path, String source) {
        this.path = path;
        this.source = source;
        String banner = runVersion(path);
        Matcher m = VERSION.matcher(banner);
        if (!m.find()) {
            throw new IllegalStateException("cannot read the version of " + path + " (" + source
                    + "): `--version` printed: " + banner.strip());
        }
        this.version = m.group(1) + "." + m.group(2) + "." + m.group(3);
        this.major = Integer.parseInt(m.group(1));
        this.minor = Integer.parseInt(m.group(2));
    }

    // Resolved once, on first use. A failure is kept and rethrown, so every caller gets the same
    // clear message (a failing static initializer would turn later calls into NoClassDefFoundError).
    private static RedisBinary resolved;
    private static RuntimeException resolveFailure;
    private static RedisBinary extracted;
    private static RuntimeException extractFailure;

    /**
     * @return the server this JVM uses, resolved once
     * @throws IllegalStateException if none can be found or run (the message says what was tried)
     */
    public static synchronized RedisBinary get() {
        if (resolved == null && resolveFailure == null) {
            try {
                resolved = resolve(System.getProperty(PROPERTY), System.getenv(ENV), System.getenv("PATH"));
            } catch (RuntimeException e) {
                resolveFailure = e;
            }
        }
        if (resolveFailure != null) {
            throw new IllegalStateException(resolveFailure.getMessage(), resolveFailure);
        }
        return resolved;
    }

    /**
     * Resolves a server from explicit inputs (what {@link #get()} reads from the environment).
     *
     * @param property the value of {@link #PROPERTY}, or {@code null}
     * @param env      the value of {@link #ENV}, or {@code null}
     * @param pathVar  the {@code PATH}, or {@code null}
     * @return the server
     * @throws IllegalStateException if the named server is missing or not executable, or none
     *                               is found at all
     */
    static RedisBinary resolve(String property, String env, String pathVar) {
        if (property != null && !property.isBlank()) {
            return named(property.strip(), "system property " + PROPERTY);
        }
        if (env != null && !env.isBlank()) {
            return named(env.strip(), "environment variable " + ENV);
        }
        Path onPath = findOnPath(pathVar);
        if (onPath != null) {
            return new RedisBinary(onPath, "PATH");
        }
        return embedded();
    }

    /**
     * @return the binary bundled in the embedded-redis jar, extracted once per JVM
     * @throws IllegalStateException if this OS and architecture have no bundled binary
     */
    public static synchronized RedisBinary embedded() {
        if (extracted == null && extractFailure == null) {
            try {
                extracted = new RedisBinary(extractEmbedded(), "embedded-redis jar");
            } catch (RuntimeException e) {
                extractFailure = e;
            }
        }
        if (extractFailure != null) {
            throw new IllegalStateException(extractFailure.getMessage(), extractFailure);
        }
        return extracted;
    }

    private static RedisBinary named(String value, String source) {
        if (value.equalsIgnoreCase(EMBEDDED)) {
            return embedded();
        }
        Path path = Path.of(value);
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("redis-server named by " + source + " does not exist: " + value);
        }
        if (!Files.isExecutable(path)) {
            throw new IllegalStateException("redis-server named by " + source + " is not executable: " + value);
        }
        return new RedisBinary(path, source + "=" + value);
    }

    private static Path findOnPath(String pathVar) {
        if (pathVar == null) {
            return null;
        }
        String name = isWindows() ? "redis-server.exe" : "redis-server";
        for (String dir : pathVar.split(Pattern.quote(File.pathSeparator))) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** @return the jar resource holding a server for this OS and architecture */
    static String embeddedResourceName(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
        boolean arm64 = arch.equals("aarch64") || arch.equals("arm64");
        boolean x86 = arch.equals("x86") || arch.equals("i386") || arch.equals("i686");
        if (os.contains("linux")) {
            if (x64) {
                return "redis-server-6.2.6-v5-linux-amd64";
            }
            if (arm64) {
                return "redis-server-6.2.7-linux-arm64";
            }
            if (x86) {
                return "redis-server-6.2.7-linux-386";
            }
        } else if (os.contains("mac") || os.contains("darwin")) {
            if (x64) {
                return "redis-server-6.2.6-v5-darwin-amd64";
            }
            if (arm64) {
                return "redis-server-6.2.6-v5-darwin-arm64";
            }
        } else if (os.contains("windows") && x64) {
            return "redis-server-5.0.14.1-windows-amd64.exe";
        }
        throw new IllegalStateException("the embedded-redis jar has no redis-server for os.name=" + osName
                + ", os.arch=" + osArch + "; install redis-server on the PATH or set " + PROPERTY);
    }

    private static Path extractEmbedded() {
        String name = embeddedResourceName(System.getProperty("os.name"), System.getProperty("os.arch"));
        // The embedded-redis classes and their binaries live in the same jar.
        ClassLoader loader = redis.embedded.RedisServer.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " not found on the test classpath:"
                        + " is com.github.codemonstur:embedded-redis a test dependency?");
            }
            Path file = Files.createTempFile("ratelimiter-" + name + "-", isWindows() ? ".exe" : "");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            if (!file.toFile().setExecutable(true, true)) {
                throw new IllegalStateException("cannot make " + file + " executable");
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + name + ": " + e, e);
        }
    }

    private static String runVersion(Path path) {
        try {
            Process p = new ProcessBuilder(path.toString(), "--version").redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(path + " --version did not exit within 10 s");
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + path + " --version: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + path + " --version", e);
        }
    }

    private static boolean isWindows() {
        return System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("windows");
    }

    /** @return the executable */
    public Path path() {
        return path;
    }

    /** @return where it was found: {@code PATH}, {@code embedded-redis jar}, or the property or variable */
    public String source() {
        return source;
    }

    /** @return the version, for example {@code 7.0.15} */
    public String version() {
        return version;
    }

    /**
     * @param wantMajor the major version
     * @param wantMinor the minor version
     * @return whether this server is at least {@code wantMajor.wantMinor}
     */
    public boolean isAtLeast(int wantMajor, int wantMinor) {
        return major > wantMajor || (major == wantMajor && minor >= wantMinor);
    }

    @Override
    public String toString() {
        return "redis-server " + version + " (" + path + ", from " + source + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RedisBinary other && path.equals(other.path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(path);
    }
}

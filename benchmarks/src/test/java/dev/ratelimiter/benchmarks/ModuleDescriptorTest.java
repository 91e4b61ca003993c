package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.http.RateLimitHeaders;
import dev.ratelimiter.micrometer.RateLimiterMetrics;
import dev.ratelimiter.local.LocalRateLimiters;
import dev.ratelimiter.redis.RedisRateLimiters;
import io.lettuce.core.RedisClient;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Exports;
import java.lang.module.ModuleFinder;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The published modules are JPMS modules that export only their API packages: a consumer module
 * compiled with javax.tools against the built modules (their jars under {@code mvn verify}, their
 * class directories under {@code mvn test}) uses the API, and cannot see
 * {@code dev.ratelimiter.internal}. The tests themselves run on the class path; here the modules
 * are put on a module path explicitly.
 */
class ModuleDescriptorTest {

    private static final String API = "dev.ratelimiter";
    private static final String LOCAL = "dev.ratelimiter.local";
    private static final String REDIS = "dev.ratelimiter.redis";
    private static final String CONFORMANCE = "dev.ratelimiter.conformance";
    private static final String HTTP = "dev.ratelimiter.http";
    private static final String MICROMETER = "dev.ratelimiter.micrometer";
    /** The Spring Boot starter: an automatic module (Spring's jars are), named in its manifest. */
    private static final String SPRING = "dev.ratelimiter.spring";

    @TempDir
    Path dir;

    @Test
    void eachModuleExportsOnlyItsApiPackageAndInternalOnlyToTheProjectsModules() {
        ModuleFinder finder = ModuleFinder.of(
                locationOf(RateLimiter.class),
                locationOf(LocalRateLimiters.class),
                locationOf(RedisRateLimiters.class),
                locationOf(FakeClock.class),
                locationOf(RateLimitHeaders.class),
                locationOf(RateLimiterMetrics.class));

        Map<String, Map<String, Set<String>>> exports = new TreeMap<>();
        for (String name : List.of(API, LOCAL, REDIS, CONFORMANCE, HTTP, MICROMETER)) {
            ModuleDescriptor descriptor = finder.find(name)
                    .orElseThrow(() -> new AssertionError("no module named " + name))
                    .descriptor();
            assertThat(descriptor.isAutomatic()).as("%s has a module-info", name).isFalse();
            assertThat(descriptor.isOpen()).as("%s is not an open module", name).isFalse();
            assertThat(descriptor.opens()).as("%s opens nothing", name).isEmpty();
            Map<String, Set<String>> byPackage = new TreeMap<>();
            for (Exports e : descriptor.exports()) {
                byPackage.put(e.source(), e.isQualified() ? new TreeSet<>(e.targets()) : Set.of("*"));
            }
            exports.put(name, byPackage);
        }

        assertThat(exports).isEqualTo(Map.of(
                API, Map.of(
                        "dev.ratelimiter", Set.of("*"),
                        "dev.ratelimiter.internal", Set.of(CONFORMANCE, LOCAL, REDIS, SPRING)),
                LOCAL, Map.of("dev.ratelimiter.local", Set.of("*")),
                REDIS, Map.of("dev.ratelimiter.redis", Set.of("*")),
                CONFORMANCE, Map.of("dev.ratelimiter.conformance", Set.of("*")),
                HTTP, Map.of("dev.ratelimiter.http", Set.of("*")),
                MICROMETER, Map.of("dev.ratelimiter.micrometer", Set.of("*"))));
    }

    @Test
    void aConsumerModuleCompilesAgainstTheApiAndRunsOnTheModulePath() throws Exception {
        Path out = compile(
                "module consumer {\n"
                        + "    requires dev.ratelimiter.local;\n"
                        + "    requires dev.ratelimiter.redis;\n"
                        + "    exports consumer;\n"
                        + "}\n",
                "package consumer;\n"
                        + "import dev.ratelimiter.Decision;\n"
                        + "import dev.ratelimiter.RateLimiter;\n"
                        + "import dev.ratelimiter.TokenBucket;\n"
                        + "import dev.ratelimiter.local.LocalRateLimiters;\n"
                        + "import dev.ratelimiter.redis.RedisRateLimiters;\n"
                        + "import java.time.Duration;\n"
                        + "public final class Main {\n"
                        + "    private Main() {}\n"
                        + "    // Names a Lettuce type: dev.ratelimiter.redis requires lettuce.core transitively.\n"
                        + "    static RedisRateLimiters.Builder redis(\n"
                        + "            io.lettuce.core.api.async.RedisScriptingAsyncCommands<String, String> commands) {\n"
                        + "        return RedisRateLimiters.builder(commands);\n"
                        + "    }\n"
                        + "    public static String run() {\n"
                        + "        long[] now = {0};\n"
                        + "        RateLimiter limiter = LocalRateLimiters.create(\n"
                        + "                TokenBucket.of(2, 1, Duration.ofSeconds(1)), () -> now[0]);\n"
                        + "        boolean first = limiter.tryAcquire();\n"
                        + "        boolean second = limiter.tryAcquire();\n"
                        + "        Decision third = limiter.decide(1);\n"
                        + "        return first + \" \" + second + \" \" + third.isAllowed()\n"
                        + "                + \" \" + third.retryAfterNanos();\n"
                        + "    }\n"
                        + "}\n");
        assertThat(out).as("compilation succeeds").isNotNull();

        // Resolve the consumer and the library modules in a layer of their own and call it there.
        ModuleFinder finder = ModuleFinder.of(
                out, locationOf(RateLimiter.class), locationOf(LocalRateLimiters.class),
                locationOf(RedisRateLimiters.class), locationOf(RedisClient.class));
        Configuration configuration = ModuleLayer.boot().configuration()
                .resolve(finder, ModuleFinder.of(), Set.of("consumer"));
        ModuleLayer layer = ModuleLayer.boot()
                .defineModulesWithOneLoader(configuration, ClassLoader.getSystemClassLoader());
        Class<?> main = layer.findLoader("consumer").loadClass("consumer.Main");
        assertThat(main.getModule().getName()).isEqualTo("consumer");
        Class<?> limiters = layer.findLoader(LOCAL).loadClass("dev.ratelimiter.local.LocalRateLimiters");
        assertThat(limiters.getModule().getName()).as("the library runs as a named module").isEqualTo(LOCAL);

        Method run = main.getMethod("run");
        assertThat(run.invoke(null)).isEqualTo("true true false 1000000000");
    }

    @Test
    void theInternalPackageIsNotVisibleToOtherModules() throws Exception {
        String moduleInfo = "module consumer {\n"
                + "    requires dev.ratelimiter.local;\n"
                + "    requires dev.ratelimiter.redis;\n"
                + "}\n";
        String source = "package consumer;\n"
                + "public final class UsesInternal {\n"
                + "    private UsesInternal() {}\n"
                + "    static final Class<?> CHECKS = dev.ratelimiter.internal.Checks.class;\n"
                + "}\n";

        List<Diagnostic<? extends JavaFileObject>> errors = new ArrayList<>();
        Path out = compile(moduleInfo, source, errors);

        assertThat(out).as("compilation fails").isNull();
        assertThat(errors).isNotEmpty();
        assertThat(errors).allSatisfy(d -> {
            assertThat(d.getCode()).isEqualTo("compiler.err.package.not.visible");
            assertThat(d.getMessage(null))
                    .contains("package dev.ratelimiter.internal is not visible")
                    .contains("does not export it to module consumer");
        });
    }

    /** Compiles the consumer module; fails the test with the diagnostics unless it compiles. */
    private Path compile(String moduleInfo, String source) throws IOException {
        List<Diagnostic<? extends JavaFileObject>> errors = new ArrayList<>();
        Path out = compile(moduleInfo, source, errors);
        assertThat(errors).as("compiler errors").isEmpty();
        return out;
    }

    /** Compiles the consumer module: its output directory, or null with the errors collected. */
    private Path compile(String moduleInfo, String source, List<Diagnostic<? extends JavaFileObject>> errors)
            throws IOException {
        Path src = dir.resolve("src");
        Path pkg = Files.createDirectories(src.resolve("consumer"));
        Files.writeString(src.resolve("module-info.java"), moduleInfo);
        String className = source.substring(source.indexOf("class ") + 6, source.indexOf(" {"));
        Files.writeString(pkg.resolve(className + ".java"), source);
        Path out = Files.createDirectories(dir.resolve("out"));

        String modulePath = List.of(
                        locationOf(RateLimiter.class),
                        locationOf(LocalRateLimiters.class),
                        locationOf(RedisRateLimiters.class),
                        locationOf(RedisClient.class))
                .stream().map(Path::toString).collect(Collectors.joining(java.io.File.pathSeparator));

        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter log = new StringWriter();
        boolean ok;
        try (StandardJavaFileManager files = compiler.getStandardFileManager(diagnostics, null, null)) {
            // Nothing from this test's class path: the consumer sees the library only as modules.
            files.setLocation(StandardLocation.CLASS_PATH, List.of());
            ok = compiler.getTask(log, files, diagnostics,
                            List.of("--release", "17", "--module-path", modulePath, "-d", out.toString()),
                            null,
                            files.getJavaFileObjects(src.resolve("module-info.java"), pkg.resolve(className + ".java")))
                    .call();
        }
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                errors.add(d);
            }
        }
        return ok ? out : null;
    }

    /** The jar or class directory a class was loaded from: a module on the module path. */
    private static Path locationOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}

package dev.ratelimiter.benchmarks.spring;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * HTTP requests per second on one Spring MVC application (Tomcat, loopback), to an endpoint under
 * an HTTP rule of the starter ({@code limited}: a decision per request, the two fields on every
 * response) and to one without ({@code open}), in the same run; two client threads on
 * keep-alive connections. Every request is granted. A short load run: the machine's two cores
 * serve both the client and the server, so the figures are the filter's share of a request, not
 * the application's capacity.
 *
 * <p>Run: {@code java -jar benchmarks-spring/target/benchmarks-spring.jar HttpFilterOverheadBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(2)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class HttpFilterOverheadBenchmark {

    /** The endpoint: under a rule, or not. */
    @Param({"open", "limited"})
    public String path;

    private ConfigurableApplicationContext app;
    private HttpClient client;
    private HttpRequest request;

    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        String[] rule = {"server.port=0", "ratelimiter.http.rules[0].limit=bench",
                "ratelimiter.http.rules[0].paths=/limited"};
        String[] all = new String[BenchApp.PROPERTIES.length + rule.length];
        System.arraycopy(BenchApp.PROPERTIES, 0, all, 0, BenchApp.PROPERTIES.length);
        System.arraycopy(rule, 0, all, BenchApp.PROPERTIES.length, rule.length);
        app = new SpringApplicationBuilder(BenchApp.class).properties(all).run();
        String port = app.getEnvironment().getProperty("local.server.port");
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/" + path))
                .timeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> first = client.send(request, HttpResponse.BodyHandlers.ofString());
        boolean hasField = first.headers().firstValue("RateLimit").isPresent();
        if (first.statusCode() != 200 || hasField != path.equals("limited")) {
            throw new IllegalStateException("unexpected first response for path=" + path + ": " + first.statusCode()
                    + " " + first.headers().map());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        app.close();
    }

    /** @return the status, checked to be 200 */
    @Benchmark
    public int request() throws IOException, InterruptedException {
        int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status != 200) {
            throw new IllegalStateException("refused or failed: " + status);
        }
        return status;
    }
}

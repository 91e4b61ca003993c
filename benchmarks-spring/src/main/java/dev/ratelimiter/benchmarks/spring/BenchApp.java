package dev.ratelimiter.benchmarks.spring;

import dev.ratelimiter.spring.RateLimited;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The application the benchmarks measure: one service, limited three ways, and two endpoints. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({BenchApp.Service.class, BenchApp.Api.class})
public class BenchApp {

    /** Properties: a limit so high nothing is refused during a run, for each implementation. */
    static final String[] PROPERTIES = {
            "ratelimiter.limits.bench.algorithm=token-bucket",
            "ratelimiter.limits.bench.capacity=1000000000000",
            "ratelimiter.limits.bench.permits=1000000000",
            "ratelimiter.limits.bench.period=1s",
            "resilience4j.ratelimiter.instances.bench.limit-for-period=1000000000",
            "resilience4j.ratelimiter.instances.bench.limit-refresh-period=1ns",
            "resilience4j.ratelimiter.instances.bench.timeout-duration=0",
            // Resilience4j 2.4's Boot 3 starter refuses Boot 4 in a verifier; without it, its
            // annotation works here (the comparison runs the peer outside its supported range).
            "spring.autoconfigure.exclude="
                    + "io.github.resilience4j.springboot3.verifier.autoconfigure.SpringBoot3VerifierAutoConfiguration",
            "logging.level.root=warn",
            "spring.main.banner-mode=off"};

    /** The method measured: the same body, unwrapped, under our annotation, under Resilience4j's. */
    public static class Service {
        public long plain(long x) {
            return x + 1;
        }

        @RateLimited(name = "bench", key = "#x")
        public long ours(long x) {
            return x + 1;
        }

        @RateLimited(name = "bench")
        public long oursOneKey(long x) {
            return x + 1;
        }

        @io.github.resilience4j.ratelimiter.annotation.RateLimiter(name = "bench")
        public long resilience4j(long x) {
            return x + 1;
        }
    }

    @RestController
    public static class Api {
        @GetMapping("/open")
        public String open() {
            return "ok";
        }

        @GetMapping("/limited")
        public String limited() {
            return "ok";
        }
    }
}

package dev.ratelimiter.spring.it;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.spring.RateLimited;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import reactor.core.publisher.Mono;

/** A Spring MVC application on Tomcat, its time driven by a {@link FakeClock} bean. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({MvcApp.Api.class, MvcApp.Profiles.class})
public class MvcApp {

    @Bean
    FakeClock clock() {
        return new FakeClock();
    }

    @RestController
    public static class Api {
        private final Profiles profiles;

        public Api(Profiles profiles) {
            this.profiles = profiles;
        }

        @GetMapping("/ip")
        public String ip() {
            return "ok";
        }

        @GetMapping("/users/{id}")
        public String user(@PathVariable("id") String id) {
            return profiles.profile(id);
        }
    }

    /** Limited per user by the annotation, with every kind of return. */
    public static class Profiles {

        @RateLimited(name = "per-user", key = "#id", fallbackMethod = "busy")
        public String profile(String id) {
            return "profile:" + id;
        }

        String busy(String id, RateLimitExceededException refused) {
            return "busy:" + id + ":" + refused.retryAfter().toMillis();
        }

        @RateLimited(name = "per-user", key = "#id")
        public String strict(String id) {
            return "strict:" + id;
        }

        @RateLimited(name = "per-user", key = "'async:' + #id")
        public CompletionStage<String> async(String id) {
            return CompletableFuture.completedFuture("async:" + id);
        }

        @RateLimited(name = "per-user", key = "'mono:' + #id", permits = 2)
        public Mono<String> mono(String id) {
            return Mono.fromSupplier(() -> "mono:" + id);
        }
    }
}

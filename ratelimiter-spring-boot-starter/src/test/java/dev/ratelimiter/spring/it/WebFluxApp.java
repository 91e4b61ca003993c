package dev.ratelimiter.spring.it;

import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.spring.RateLimited;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A WebFlux application (run on Netty by the tests), its time driven by a {@link FakeClock} bean. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({WebFluxApp.Api.class, WebFluxApp.Service.class})
public class WebFluxApp {

    /** Tomcat is on the test class path too: the reactive server is Netty's. */
    public static final String NETTY = "spring.autoconfigure.exclude="
            + "org.springframework.boot.tomcat.autoconfigure.reactive.TomcatReactiveWebServerAutoConfiguration";

    @Bean
    FakeClock clock() {
        return new FakeClock();
    }

    @RestController
    public static class Api {
        private final Service service;

        public Api(Service service) {
            this.service = service;
        }

        @GetMapping("/hello")
        public Mono<String> hello() {
            return Mono.just("hello");
        }

        @GetMapping("/items/{user}")
        public Flux<String> items(@PathVariable("user") String user) {
            return service.items(user);
        }
    }

    public static class Service {
        @RateLimited(name = "per-user", key = "#user", fallbackMethod = "none")
        public Flux<String> items(String user) {
            return Flux.just("a:" + user, "b:" + user);
        }

        Flux<String> none(String user) {
            return Flux.just("busy:" + user);
        }
    }
}

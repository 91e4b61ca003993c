package dev.ratelimiter.example;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** Two endpoints: one limited by an HTTP rule of application.yml, one by the annotation. */
@RestController
public class GreetingController {

    private final ProfileService profiles;

    public GreetingController(ProfileService profiles) {
        this.profiles = profiles;
    }

    // Limited per client address by the rule in application.yml.
    @GetMapping("/hello")
    public String hello() {
        return "hello";
    }

    // Limited per user by @RateLimited on ProfileService.profile.
    @GetMapping("/users/{id}/profile")
    public String profile(@PathVariable("id") String id) {
        return profiles.profile(id);
    }
}

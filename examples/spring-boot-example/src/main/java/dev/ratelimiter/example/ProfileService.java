package dev.ratelimiter.example;

import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.spring.RateLimited;
import org.springframework.stereotype.Service;

/** A service method limited per user, with a fallback. */
@Service
public class ProfileService {

    @RateLimited(name = "per-user", key = "#userId", fallbackMethod = "busy")
    public String profile(String userId) {
        return "profile of " + userId;
    }

    // Called instead when the user is over the limit: same parameters, plus the refusal.
    String busy(String userId, RateLimitExceededException refused) {
        return "busy, retry in " + refused.retryAfter().toSeconds() + " s";
    }
}

/**
 * HTTP for rate limits: the IETF {@code RateLimit-Policy} and {@code RateLimit} header fields,
 * {@code Retry-After}, an RFC 9457 problem body ({@code RateLimitHeaders}, {@code ProblemDetails}),
 * and a servlet filter ({@code RateLimitFilter}). The servlet API is needed only for the filter,
 * and the container provides it.
 */
module dev.ratelimiter.http {
    requires transitive dev.ratelimiter;
    requires static transitive jakarta.servlet;

    exports dev.ratelimiter.http;
}

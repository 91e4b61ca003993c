package dev.ratelimiter.http;

import dev.ratelimiter.Decision;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * A {@link jakarta.servlet.Filter} that holds HTTP requests to a rate limit, for any servlet
 * container (Tomcat, Jetty, Undertow) and any framework on top of one.
 *
 * <p>For each request it {@linkplain #builder(String, KeyedRateLimiter) selects}, it takes a key
 * (by default the client address, {@link HttpServletRequest#getRemoteAddr()}) and a cost in permits
 * (by default 1) and asks the limiter for a {@link Decision}. Then:
 * <ul>
 *   <li>allowed: the request goes on down the chain, with the {@code RateLimit-Policy} and
 *       {@code RateLimit} fields set on the response first (unless turned off with
 *       {@link Builder#headersOnAllowed(boolean)});</li>
 *   <li>refused: the chain is not called; the response is {@code 429 Too Many Requests} with
 *       {@code Retry-After}, the two {@code RateLimit} fields and an RFC 9457
 *       {@code application/problem+json} body ({@link ProblemDetails}), or {@code 413 Content Too
 *       Large} without {@code Retry-After} when the cost exceeds what the limit ever grants.</li>
 * </ul>
 * Several filters in one chain each add their own member to the two fields (as separate field
 * lines, which HTTP combines into one list).
 *
 * <pre>{@code
 * KeyedRateLimiter<String> perClient = LocalRateLimiters.keyed(TokenBucket.of(100, 10, Duration.ofSeconds(1)));
 * Filter filter = RateLimitFilter.builder("api", perClient)
 *         .key(request -> request.getHeader("X-Api-Key"))
 *         .build();
 * }</pre>
 *
 * <p>A key function that returns {@code null} and a cost function that returns a negative number
 * are errors of the application: the filter throws {@link IllegalStateException} naming the
 * policy and the request, rather than letting the request through unlimited. A cost of 0 lets the
 * request through without a decision and without headers. Failures of the limiter itself (a
 * Redis backend's {@code RedisRateLimiterException} under a policy that throws) propagate to the
 * container.
 */
public final class RateLimitFilter implements Filter {

    private final String policyName;
    private final KeyedRateLimiter<String> limiter;
    private final Function<? super HttpServletRequest, String> key;
    private final ToLongFunction<? super HttpServletRequest> cost;
    private final Predicate<? super HttpServletRequest> selects;
    private final boolean headersOnAllowed;
    private final String problemType;
    private volatile PolicyField policy;

    private RateLimitFilter(Builder b) {
        this.policyName = b.policyName;
        this.limiter = b.limiter;
        this.key = b.key;
        this.cost = b.cost;
        this.selects = b.selects;
        this.headersOnAllowed = b.headersOnAllowed;
        this.problemType = b.problemType;
        this.policy = new PolicyField(b.limiter.limit(), policyName);
    }

    /**
     * Starts a filter with one limit per key.
     *
     * @param policyName the name the policy has in the header fields, printable ASCII
     * @param limiter    the keyed limiter
     * @return a builder
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code policyName} is not a valid name
     */
    public static Builder builder(String policyName, KeyedRateLimiter<String> limiter) {
        return new Builder(RateLimitHeaders.checkPolicyName(policyName), Objects.requireNonNull(limiter, "limiter"));
    }

    /**
     * Starts a filter with one limit shared by every request it selects (the key function is not
     * used).
     *
     * @param policyName the name the policy has in the header fields, printable ASCII
     * @param limiter    the limiter
     * @return a builder
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code policyName} is not a valid name
     */
    public static Builder builder(String policyName, RateLimiter limiter) {
        Objects.requireNonNull(limiter, "limiter");
        return builder(policyName, new Shared(limiter)).key(request -> "");
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest http) || !(response instanceof HttpServletResponse out)
                || !selects.test(http)) {
            chain.doFilter(request, response);
            return;
        }
        long permits = cost.applyAsLong(http);
        if (permits < 0) {
            throw new IllegalStateException("rate limit \"" + policyName + "\": the cost function returned "
                    + permits + " for " + describe(http) + "; a cost is >= 0");
        }
        if (permits == 0) {
            chain.doFilter(request, response);
            return;
        }
        String k = key.apply(http);
        if (k == null) {
            throw new IllegalStateException("rate limit \"" + policyName + "\": the key function returned null for "
                    + describe(http));
        }
        Decision decision = limiter.decide(k, permits);
        if (decision.isAllowed()) {
            if (headersOnAllowed) {
                addFields(out, decision);
            }
            chain.doFilter(request, response);
            return;
        }
        refuse(out, decision);
    }

    private void refuse(HttpServletResponse out, Decision decision) throws IOException {
        out.setStatus(ProblemDetails.status(decision));
        addFields(out, decision);
        if (!decision.exceedsLimit()) {
            out.setHeader(RateLimitHeaders.RETRY_AFTER, Long.toString(RateLimitHeaders.retryAfterSeconds(decision)));
        }
        byte[] body = ProblemDetails.json(problemType, policyName, decision).getBytes(StandardCharsets.UTF_8);
        out.setContentType(ProblemDetails.MEDIA_TYPE);
        out.setCharacterEncoding("UTF-8");
        out.setContentLength(body.length);
        out.getOutputStream().write(body);
    }

    private void addFields(HttpServletResponse out, Decision decision) {
        out.addHeader(RateLimitHeaders.RATE_LIMIT_POLICY, policyField());
        out.addHeader(RateLimitHeaders.RATE_LIMIT, RateLimitHeaders.rateLimit(policyName, decision));
    }

    /** The policy member, recomputed only when the limiter's limit changed (a reconfiguration). */
    private String policyField() {
        PolicyField p = policy;
        Limit now = limiter.limit();
        if (p.limit != now) {
            p = new PolicyField(now, policyName);
            policy = p;
        }
        return p.value;
    }

    private static String describe(HttpServletRequest request) {
        return request.getMethod() + " " + request.getRequestURI();
    }

    @Override
    public String toString() {
        return "RateLimitFilter{policy=" + policyName + ", limiter=" + limiter + '}';
    }

    private static final class PolicyField {
        final Limit limit;
        final String value;

        PolicyField(Limit limit, String policyName) {
            this.limit = limit;
            this.value = RateLimitHeaders.policy(policyName, limit);
        }
    }

    /** A single limiter seen as a keyed one whose every key is the same limit. */
    private static final class Shared implements KeyedRateLimiter<String> {
        private final RateLimiter limiter;

        Shared(RateLimiter limiter) {
            this.limiter = limiter;
        }

        @Override
        public boolean tryAcquire(String key, long permits) {
            return limiter.tryAcquire(permits);
        }

        @Override
        public Decision decide(String key, long permits) {
            return limiter.decide(permits);
        }

        @Override
        public boolean tryAcquire(String key, long permits, java.time.Duration timeout) throws InterruptedException {
            return limiter.tryAcquire(permits, timeout);
        }

        @Override
        public Limit limit() {
            return limiter.limit();
        }

        @Override
        public Decision peek(String key, long permits) {
            return limiter.peek(permits);
        }

        @Override
        public long availablePermits(String key) {
            return limiter.availablePermits();
        }

        @Override
        public void reset(String key) {
            limiter.reset();
        }

        @Override
        public void refund(String key, long permits) {
            limiter.refund(permits);
        }

        @Override
        public long drain(String key) {
            return limiter.drain();
        }

        @Override
        public void reconfigure(Limit limit) {
            limiter.reconfigure(limit);
        }

        @Override
        public String toString() {
            return limiter.toString();
        }
    }

    /** Configures a {@link RateLimitFilter}. */
    public static final class Builder {
        private final String policyName;
        private final KeyedRateLimiter<String> limiter;
        private Function<? super HttpServletRequest, String> key = ServletRequest::getRemoteAddr;
        private ToLongFunction<? super HttpServletRequest> cost = request -> 1;
        private Predicate<? super HttpServletRequest> selects = request -> true;
        private boolean headersOnAllowed = true;
        private String problemType = "about:blank";

        private Builder(String policyName, KeyedRateLimiter<String> limiter) {
            this.policyName = policyName;
            this.limiter = limiter;
        }

        /**
         * Sets how a request's key is found; by default the client address
         * ({@link HttpServletRequest#getRemoteAddr()}). Behind a proxy, take it from the header
         * the proxy sets, and only from a proxy you trust.
         *
         * @param key the key of a request; must not return {@code null}
         * @return this builder
         * @throws NullPointerException if {@code key} is {@code null}
         */
        public Builder key(Function<? super HttpServletRequest, String> key) {
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        /**
         * Sets the permits a request costs; by default 1. A cost of 0 lets the request through
         * without a decision.
         *
         * @param cost the permits of a request, {@code >= 0}
         * @return this builder
         * @throws NullPointerException if {@code cost} is {@code null}
         */
        public Builder cost(ToLongFunction<? super HttpServletRequest> cost) {
            this.cost = Objects.requireNonNull(cost, "cost");
            return this;
        }

        /**
         * Limits only the requests {@code selects} accepts; the others pass untouched. By default
         * every request is limited (a container's URL patterns may already select them).
         *
         * @param selects which requests are limited
         * @return this builder
         * @throws NullPointerException if {@code selects} is {@code null}
         */
        public Builder selecting(Predicate<? super HttpServletRequest> selects) {
            this.selects = Objects.requireNonNull(selects, "selects");
            return this;
        }

        /**
         * Whether allowed responses carry the {@code RateLimit-Policy} and {@code RateLimit}
         * fields too; {@code true} by default. Refusals always carry them.
         *
         * @param headersOnAllowed {@code false} to send them on refusals only
         * @return this builder
         */
        public Builder headersOnAllowed(boolean headersOnAllowed) {
            this.headersOnAllowed = headersOnAllowed;
            return this;
        }

        /**
         * Sets the problem type URI of refusal bodies; {@code about:blank} by default.
         *
         * @param type a URI reference
         * @return this builder
         * @throws NullPointerException     if {@code type} is {@code null}
         * @throws IllegalArgumentException if {@code type} is blank
         */
        public Builder problemType(String type) {
            Objects.requireNonNull(type, "type");
            if (type.isBlank()) {
                throw new IllegalArgumentException("type must be a URI reference, not blank: type=\"" + type + "\"");
            }
            this.problemType = type;
            return this;
        }

        /**
         * Builds the filter.
         *
         * @return the filter
         */
        public RateLimitFilter build() {
            return new RateLimitFilter(this);
        }
    }
}

package dev.ratelimiter.spring.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.ArrayList;
import java.util.List;

import dev.ratelimiter.Decision;
import dev.ratelimiter.http.ProblemDetails;
import dev.ratelimiter.http.RateLimitHeaders;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.server.PathContainer;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The HTTP rules in a servlet container (Spring MVC): each rule matching a request decides it;
 * the first refusal answers {@code 429} (or {@code 413} for a cost the limit can never grant)
 * with the {@code RateLimit-Policy}, {@code RateLimit} and {@code Retry-After} fields and an RFC
 * 9457 problem body; an allowed request carries the {@code RateLimit} fields of every rule that
 * decided it, unless turned off. Rules are decided in order: permits taken by an earlier rule
 * stay taken when a later one refuses.
 */
public class RateLimitServletFilter extends OncePerRequestFilter {

    private final List<HttpRule> rules;
    private final boolean headersOnAllowed;

    /**
     * @param rules            the checked rules
     * @param headersOnAllowed whether allowed responses carry the fields too
     */
    public RateLimitServletFilter(List<HttpRule> rules, boolean headersOnAllowed) {
        this.rules = List.copyOf(rules);
        this.headersOnAllowed = headersOnAllowed;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        PathContainer path = PathContainer.parsePath(request.getRequestURI().substring(request.getContextPath().length()));
        List<String[]> fields = null;
        for (HttpRule rule : rules) {
            if (rule.cost == 0 || !rule.matches(request.getMethod(), path)) {
                continue;
            }
            Principal principal = rule.keyKind == HttpRule.KeyKind.PRINCIPAL ? request.getUserPrincipal() : null;
            String key = rule.key(request.getRemoteAddr(), principal == null ? null : principal.getName(),
                    request::getHeader, request);
            Decision decision = rule.limiter().decide(key, rule.cost);
            if (!decision.isAllowed()) {
                refuse(response, rule, decision);
                return;
            }
            if (headersOnAllowed) {
                if (fields == null) {
                    fields = new ArrayList<>(2);
                }
                fields.add(new String[] {rule.policyField(), rule.rateLimitField(decision)});
            }
        }
        if (fields != null) {
            for (String[] f : fields) {
                response.addHeader(RateLimitHeaders.RATE_LIMIT_POLICY, f[0]);
                response.addHeader(RateLimitHeaders.RATE_LIMIT, f[1]);
            }
        }
        chain.doFilter(request, response);
    }

    private static void refuse(HttpServletResponse response, HttpRule rule, Decision decision) throws IOException {
        response.setStatus(ProblemDetails.status(decision));
        response.addHeader(RateLimitHeaders.RATE_LIMIT_POLICY, rule.policyField());
        response.addHeader(RateLimitHeaders.RATE_LIMIT, rule.rateLimitField(decision));
        if (!decision.exceedsLimit()) {
            response.setHeader(RateLimitHeaders.RETRY_AFTER, Long.toString(RateLimitHeaders.retryAfterSeconds(decision)));
        }
        byte[] body = rule.problem(decision).getBytes(StandardCharsets.UTF_8);
        response.setContentType(ProblemDetails.MEDIA_TYPE);
        response.setCharacterEncoding("UTF-8");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}

package dev.ratelimiter.spring.web;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.ArrayList;
import java.util.List;

import dev.ratelimiter.Decision;
import dev.ratelimiter.http.ProblemDetails;
import dev.ratelimiter.http.RateLimitHeaders;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The HTTP rules in WebFlux, with the behaviour of {@link RateLimitServletFilter}: Redis is asked
 * without blocking the event loop.
 */
public class RateLimitWebFilter implements WebFilter {

    private final List<HttpRule> rules;
    private final boolean headersOnAllowed;

    /**
     * @param rules            the checked rules
     * @param headersOnAllowed whether allowed responses carry the fields too
     */
    public RateLimitWebFilter(List<HttpRule> rules, boolean headersOnAllowed) {
        this.rules = List.copyOf(rules);
        this.headersOnAllowed = headersOnAllowed;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        PathContainer path = request.getPath().pathWithinApplication();
        List<HttpRule> matching = new ArrayList<>(1);
        for (HttpRule rule : rules) {
            if (rule.cost != 0 && rule.matches(request.getMethod().name(), path)) {
                matching.add(rule);
            }
        }
        if (matching.isEmpty()) {
            return chain.filter(exchange);
        }
        return Flux.fromIterable(matching)
                .concatMap(rule -> key(exchange, rule)
                        .flatMap(key -> Mono.fromCompletionStage(() -> rule.limiter().decideAsync(key, rule.cost)))
                        .map(decision -> new Object[] {rule, decision}))
                .takeUntil(pair -> !((Decision) pair[1]).isAllowed())
                .collectList()
                .flatMap(decided -> {
                    Object[] last = decided.get(decided.size() - 1);
                    Decision lastDecision = (Decision) last[1];
                    if (!lastDecision.isAllowed()) {
                        return refuse(exchange.getResponse(), (HttpRule) last[0], lastDecision);
                    }
                    if (headersOnAllowed) {
                        HttpHeaders headers = exchange.getResponse().getHeaders();
                        for (Object[] pair : decided) {
                            HttpRule rule = (HttpRule) pair[0];
                            headers.add(RateLimitHeaders.RATE_LIMIT_POLICY, rule.policyField());
                            headers.add(RateLimitHeaders.RATE_LIMIT, rule.rateLimitField((Decision) pair[1]));
                        }
                    }
                    return chain.filter(exchange);
                });
    }

    private static Mono<String> key(ServerWebExchange exchange, HttpRule rule) {
        ServerHttpRequest request = exchange.getRequest();
        InetSocketAddress remote = request.getRemoteAddress();
        String address = remote == null ? "unknown"
                : remote.getAddress() != null ? remote.getAddress().getHostAddress() : remote.getHostString();
        if (rule.keyKind == HttpRule.KeyKind.PRINCIPAL) {
            return exchange.getPrincipal().map(Principal::getName)
                    .map(name -> rule.key(address, name, request.getHeaders()::getFirst, request))
                    .defaultIfEmpty(HttpRule.ANONYMOUS + address);
        }
        return Mono.fromSupplier(() -> rule.key(address, null, request.getHeaders()::getFirst, request));
    }

    private static Mono<Void> refuse(ServerHttpResponse response, HttpRule rule, Decision decision) {
        response.setStatusCode(HttpStatus.valueOf(ProblemDetails.status(decision)));
        HttpHeaders headers = response.getHeaders();
        headers.add(RateLimitHeaders.RATE_LIMIT_POLICY, rule.policyField());
        headers.add(RateLimitHeaders.RATE_LIMIT, rule.rateLimitField(decision));
        if (!decision.exceedsLimit()) {
            headers.set(RateLimitHeaders.RETRY_AFTER, Long.toString(RateLimitHeaders.retryAfterSeconds(decision)));
        }
        byte[] body = rule.problem(decision).getBytes(StandardCharsets.UTF_8);
        headers.setContentType(MediaType.parseMediaType(ProblemDetails.MEDIA_TYPE));
        headers.setContentLength(body.length);
        DataBuffer buffer = response.bufferFactory().wrap(body);
        return response.writeWith(Mono.just(buffer));
    }
}

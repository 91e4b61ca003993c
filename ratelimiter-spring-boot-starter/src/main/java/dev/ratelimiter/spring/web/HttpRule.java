package dev.ratelimiter.spring.web;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import dev.ratelimiter.Decision;
import dev.ratelimiter.http.ProblemDetails;
import dev.ratelimiter.http.RateLimitHeaders;
import dev.ratelimiter.spring.NamedLimiter;
import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.autoconfigure.InvalidRateLimiterPropertyException;
import dev.ratelimiter.spring.autoconfigure.RateLimiterProperties;

import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.StandardEvaluationContext;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PatternParseException;
import org.springframework.web.util.pattern.PathPatternParser;

/**
 * An HTTP rule of {@code ratelimiter.http.rules}, checked: the requests it selects (path patterns,
 * methods), the limit it takes from, how a request's key is found, and its cost. Shared by the
 * servlet filter and the WebFlux filter.
 */
public final class HttpRule {

    /** The key of a request with no principal, or without the header: its client address. */
    public static final String ANONYMOUS = "anonymous:";

    /** How a request's key is found. */
    enum KeyKind { CLIENT_ADDRESS, PRINCIPAL, HEADER, EXPRESSION }

    private static final SpelExpressionParser PARSER = new SpelExpressionParser();

    private final NamedLimiter limiter;
    private final List<PathPattern> paths;
    private final Set<String> methods;
    final KeyKind keyKind;
    final String header;
    private final Expression expression;
    final long cost;
    /** The {@code RateLimit-Policy} member and the limit it was computed for (recomputed after a reconfiguration). */
    private volatile PolicyField policy = new PolicyField(null, null);

    private record PolicyField(dev.ratelimiter.Limit limit, String value) {
    }

    private HttpRule(NamedLimiter limiter, List<PathPattern> paths, Set<String> methods, KeyKind keyKind,
                     String header, Expression expression, long cost) {
        this.limiter = limiter;
        this.paths = paths;
        this.methods = methods;
        this.keyKind = keyKind;
        this.header = header;
        this.expression = expression;
        this.cost = cost;
    }

    /**
     * Reads and checks the rules.
     *
     * @param http     the {@code ratelimiter.http} properties
     * @param limiters the configured limiters
     * @return the rules, in order
     * @throws InvalidRateLimiterPropertyException naming the first bad property and its value
     */
    public static List<HttpRule> read(RateLimiterProperties.Http http, NamedLimiters limiters) {
        List<HttpRule> rules = new ArrayList<>();
        for (int i = 0; i < http.getRules().size(); i++) {
            rules.add(read(RateLimiterProperties.PREFIX + ".http.rules[" + i + "]", http.getRules().get(i), limiters));
        }
        return rules;
    }

    private static HttpRule read(String path, RateLimiterProperties.Rule r, NamedLimiters limiters) {
        if (r.getLimit() == null || limiters.find(r.getLimit()).isEmpty()) {
            throw new InvalidRateLimiterPropertyException(path + ".limit", r.getLimit(),
                    "must name a limit of ratelimiter.limits: "
                            + limiters.all().stream().map(NamedLimiter::name).toList());
        }
        List<PathPattern> patterns = new ArrayList<>();
        for (int j = 0; j < r.getPaths().size(); j++) {
            try {
                patterns.add(PathPatternParser.defaultInstance.parse(r.getPaths().get(j)));
            } catch (PatternParseException e) {
                throw new InvalidRateLimiterPropertyException(path + ".paths[" + j + "]", r.getPaths().get(j),
                        "not a path pattern: " + e.getMessage());
            }
        }
        Set<String> methods = new TreeSet<>();
        for (int j = 0; j < r.getMethods().size(); j++) {
            String m = r.getMethods().get(j);
            if (m == null || !m.matches("[A-Za-z]+")) {
                throw new InvalidRateLimiterPropertyException(path + ".methods[" + j + "]", m,
                        "must be an HTTP method name such as GET or POST");
            }
            methods.add(m.toUpperCase(Locale.ROOT));
        }
        if (r.getCost() < 0) {
            throw new InvalidRateLimiterPropertyException(path + ".cost", r.getCost(), "must be >= 0");
        }
        String key = r.getKey() == null ? "" : r.getKey().trim();
        KeyKind kind;
        String header = null;
        Expression expression = null;
        if (key.equals("client-address")) {
            kind = KeyKind.CLIENT_ADDRESS;
        } else if (key.equals("principal")) {
            kind = KeyKind.PRINCIPAL;
        } else if (key.startsWith("header:") && key.length() > "header:".length()) {
            kind = KeyKind.HEADER;
            header = key.substring("header:".length()).trim();
        } else if (key.startsWith("expression:")) {
            kind = KeyKind.EXPRESSION;
            try {
                expression = PARSER.parseExpression(key.substring("expression:".length()));
            } catch (ParseException e) {
                throw new InvalidRateLimiterPropertyException(path + ".key", r.getKey(),
                        "not a SpEL expression: " + e.getMessage());
            }
        } else {
            throw new InvalidRateLimiterPropertyException(path + ".key", r.getKey(),
                    "must be client-address, principal, header:<name> or expression:<SpEL over #request>");
        }
        return new HttpRule(limiters.get(r.getLimit()), List.copyOf(patterns), Set.copyOf(methods), kind, header,
                expression, r.getCost());
    }

    /** @return the limiter the rule takes from */
    public NamedLimiter limiter() {
        return limiter;
    }

    /**
     * @param method the request's method
     * @param path   the request's path within the application, parsed once for all the rules
     * @return whether the rule applies
     */
    public boolean matches(String method, PathContainer path) {
        if (!methods.isEmpty() && !methods.contains(method.toUpperCase(Locale.ROOT))) {
            return false;
        }
        if (paths.isEmpty()) {
            return true;
        }
        for (PathPattern p : paths) {
            if (p.matches(path)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The key of a request whose principal, header and expression are known.
     *
     * @param clientAddress the request's remote address
     * @param principal     the authenticated user's name, or {@code null}
     * @param headers       the request's header values by name
     * @param request       the request, {@code #request} in an expression
     * @return the key
     */
    String key(String clientAddress, String principal, Function<String, String> headers, Object request) {
        String key;
        switch (keyKind) {
            case CLIENT_ADDRESS:
                return clientAddress;
            case PRINCIPAL:
                key = principal;
                break;
            case HEADER:
                key = headers.apply(header);
                break;
            default:
                StandardEvaluationContext context = new StandardEvaluationContext(request);
                context.setVariable("request", request);
                Object value = expression.getValue(context);
                key = value == null ? null : value.toString();
        }
        return key == null || key.isEmpty() ? ANONYMOUS + clientAddress : key;
    }

    /** @return the {@code RateLimit-Policy} member of the rule's limit, as configured now */
    String policyField() {
        PolicyField p = policy;
        dev.ratelimiter.Limit now = limiter.limiter().limit();
        if (p.limit() != now) {
            p = new PolicyField(now, RateLimitHeaders.policy(limiter.name(), now));
            policy = p;
        }
        return p.value();
    }

    /** @return the {@code RateLimit} member for a decision */
    String rateLimitField(Decision decision) {
        return RateLimitHeaders.rateLimit(limiter.name(), decision);
    }

    /** @return the problem body of a refusal */
    String problem(Decision decision) {
        return ProblemDetails.json(limiter.name(), decision);
    }
}

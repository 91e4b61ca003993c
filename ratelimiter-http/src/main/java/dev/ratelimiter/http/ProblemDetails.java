package dev.ratelimiter.http;

import dev.ratelimiter.Decision;
import java.util.Objects;

/**
 * The RFC 9457 {@code application/problem+json} body of a response refused by a rate limit.
 *
 * <p>A refusal a retry can overcome is a {@code 429 Too Many Requests} (RFC 6585):
 * <pre>{@code
 * {"type":"about:blank","title":"Too Many Requests","status":429,
 *  "detail":"Rate limit \"api\" exceeded: retry after 3 s.","policy":"api","retryAfter":3}
 * }</pre>
 * A request for more permits than the limit ever grants at once is a {@code 413 Content Too
 * Large}: waiting will not help, so it has no {@code retryAfter}. The members {@code policy} and
 * {@code retryAfter} (seconds, as in the {@code Retry-After} field) are extension members, which
 * RFC 9457 allows. The type is {@code about:blank} unless a type URI of the service's own is
 * given, and the title is then the status phrase, as RFC 9457 asks.
 */
public final class ProblemDetails {

    /** The media type of the body. */
    public static final String MEDIA_TYPE = "application/problem+json";
    /** The status of a refusal a retry can overcome: Too Many Requests. */
    public static final int TOO_MANY_REQUESTS = 429;
    /** The status of a request the limit can never grant: Content Too Large. */
    public static final int CONTENT_TOO_LARGE = 413;

    private ProblemDetails() {
    }

    /**
     * The HTTP status a refusal is answered with.
     *
     * @param decision a refusal
     * @return {@link #CONTENT_TOO_LARGE} if it can never be granted, else {@link #TOO_MANY_REQUESTS}
     * @throws NullPointerException     if {@code decision} is {@code null}
     * @throws IllegalArgumentException if {@code decision} is allowed
     */
    public static int status(Decision decision) {
        requireRefusal(decision);
        return decision.exceedsLimit() ? CONTENT_TOO_LARGE : TOO_MANY_REQUESTS;
    }

    /**
     * The body for a refusal, with type {@code about:blank}.
     *
     * @param policyName the policy's name
     * @param decision   a refusal
     * @return the JSON text
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code decision} is allowed or the name is not valid
     *                                  ({@link RateLimitHeaders#checkPolicyName})
     */
    public static String json(String policyName, Decision decision) {
        return json("about:blank", policyName, decision);
    }

    /**
     * The body for a refusal, with a problem type URI of the service's own.
     *
     * @param type       the problem type, a URI reference such as
     *                   {@code https://example.com/problems/rate-limited}
     * @param policyName the policy's name
     * @param decision   a refusal
     * @return the JSON text
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code type} is blank, {@code decision} is allowed, or
     *                                  the name is not valid
     */
    public static String json(String type, String policyName, Decision decision) {
        Objects.requireNonNull(type, "type");
        if (type.isBlank()) {
            throw new IllegalArgumentException("type must be a URI reference, not blank: type=\"" + type + "\"");
        }
        RateLimitHeaders.checkPolicyName(policyName);
        int status = status(decision);
        StringBuilder sb = new StringBuilder(192);
        sb.append("{\"type\":").append(quote(type));
        if (status == TOO_MANY_REQUESTS) {
            long seconds = RateLimitHeaders.retryAfterSeconds(decision);
            sb.append(",\"title\":\"Too Many Requests\",\"status\":429,\"detail\":")
                    .append(quote("Rate limit \"" + policyName + "\" exceeded: retry after " + seconds + " s."))
                    .append(",\"policy\":").append(quote(policyName))
                    .append(",\"retryAfter\":").append(seconds);
        } else {
            sb.append(",\"title\":\"Content Too Large\",\"status\":413,\"detail\":")
                    .append(quote("The request asks for " + decision.permits() + " permits; rate limit \""
                            + policyName + "\" never grants more than " + decision.limit() + " at once."))
                    .append(",\"policy\":").append(quote(policyName));
        }
        return sb.append('}').toString();
    }

    private static void requireRefusal(Decision decision) {
        Objects.requireNonNull(decision, "decision");
        if (decision.isAllowed()) {
            throw new IllegalArgumentException("decision must be a refusal: decision=" + decision);
        }
    }

    /** A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}

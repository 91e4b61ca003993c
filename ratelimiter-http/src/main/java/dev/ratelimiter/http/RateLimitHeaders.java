package dev.ratelimiter.http;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import java.math.BigInteger;
import java.util.Objects;

/**
 * The HTTP header fields a rate-limited response carries, computed from a {@link Decision} and its
 * {@link Limit}: the {@code RateLimit-Policy} and {@code RateLimit} fields of the IETF draft
 * "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers) and
 * {@code Retry-After} (RFC 9110, section 10.2.3).
 *
 * <p>Both draft fields are Structured Field Lists (RFC 9651) whose members are Strings naming a
 * policy, with parameters:
 * <ul>
 *   <li>{@code RateLimit-Policy: "api";q=100;w=10}: the quota {@code q}, the most permits the
 *       limit grants at once ({@link Limit#maxPermits()}), and the window {@code w}, the whole
 *       seconds (rounded up, at least 1) the limit takes to grant its quota again from empty: a
 *       sliding window's length; a bucket's capacity divided by its rate.</li>
 *   <li>{@code RateLimit: "api";r=0;t=3}: the permits remaining {@code r}
 *       ({@link Decision#remaining()}) and, on a refusal, {@code t}, the whole seconds (rounded
 *       up) until the refused permits are available again ({@link Decision#retryAfterNanos()}).
 *       The draft defines {@code t} as the seconds until more quota is made available; an allowed
 *       response can use its {@code r} at once, so it carries no {@code t}; a request that can
 *       never be granted ({@link Decision#exceedsLimit()}) carries none either.</li>
 * </ul>
 * {@code Retry-After} goes with a refusal only, as the same whole seconds as {@code t}, so it never
 * points earlier than {@code t}, and a client that waits it out is not refused again for the same
 * request by this limit alone.
 *
 * <p>The methods are pure functions, thread-safe, and allocate only the strings they return.
 */
public final class RateLimitHeaders {

    /** The name of the policy field. */
    public static final String RATE_LIMIT_POLICY = "RateLimit-Policy";
    /** The name of the field with the current state of each policy. */
    public static final String RATE_LIMIT = "RateLimit";
    /** The name of the field telling a refused client when to retry. */
    public static final String RETRY_AFTER = "Retry-After";

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final BigInteger BILLION = BigInteger.valueOf(NANOS_PER_SECOND);

    private RateLimitHeaders() {
    }

    /**
     * Checks a policy name: a Structured Field String holds printable ASCII only.
     *
     * @param policyName the name
     * @return {@code policyName}
     * @throws NullPointerException     if {@code policyName} is {@code null}
     * @throws IllegalArgumentException if it is empty or holds a character outside {@code 0x20..0x7E}
     */
    public static String checkPolicyName(String policyName) {
        Objects.requireNonNull(policyName, "policyName");
        if (policyName.isEmpty()) {
            throw new IllegalArgumentException("policyName must not be empty");
        }
        for (int i = 0; i < policyName.length(); i++) {
            char c = policyName.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                throw new IllegalArgumentException("policyName must be printable ASCII (a Structured Field String):"
                        + " policyName=" + policyName + ", character U+" + String.format("%04X", (int) c)
                        + " at index " + i);
            }
        }
        return policyName;
    }

    /**
     * The quota {@code q} of a limit's policy: the most permits it grants at once.
     *
     * @param limit the limit
     * @return {@link Limit#maxPermits()}
     * @throws NullPointerException if {@code limit} is {@code null}
     */
    public static long quota(Limit limit) {
        return Objects.requireNonNull(limit, "limit").maxPermits();
    }

    /**
     * The window {@code w} of a limit's policy: the whole seconds, rounded up and at least 1, the
     * limit takes to grant its {@linkplain #quota(Limit) quota} again from empty. For a sliding
     * window its length; for a token bucket its capacity times its refill period divided by its
     * refill permits; for a leaky bucket its capacity (burst or queue) at its rate.
     *
     * @param limit the limit
     * @return the window in seconds, {@code >= 1}
     * @throws NullPointerException if {@code limit} is {@code null}
     */
    public static long windowSeconds(Limit limit) {
        Objects.requireNonNull(limit, "limit");
        long nanos;
        if (limit instanceof SlidingWindow w) {
            nanos = w.windowNanos();
            return Math.max(1, ceilDiv(BigInteger.valueOf(nanos), BILLION));
        }
        long count;
        long period;
        long permits;
        if (limit instanceof TokenBucket b) {
            count = b.capacity();
            period = b.refillPeriodNanos();
            permits = b.refillPermits();
        } else {
            LeakyBucket l = (LeakyBucket) limit;
            count = l.maxPermits();
            period = l.periodNanos();
            permits = l.permits();
        }
        BigInteger totalNanos = BigInteger.valueOf(count).multiply(BigInteger.valueOf(period));
        return Math.max(1, ceilDiv(totalNanos, BigInteger.valueOf(permits).multiply(BILLION)));
    }

    /**
     * One member of the {@code RateLimit-Policy} field: {@code "name";q=<quota>;w=<window>}.
     * Several policies (several limits on one request) are joined by {@code ", "} or sent as
     * several field lines.
     *
     * @param policyName the policy's name, printable ASCII
     * @param limit      the limit
     * @return the member, for instance {@code "api";q=100;w=10}
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code policyName} is not a valid name
     */
    public static String policy(String policyName, Limit limit) {
        return sfString(checkPolicyName(policyName)) + ";q=" + quota(limit) + ";w=" + windowSeconds(limit);
    }

    /**
     * One member of the {@code RateLimit} field: {@code "name";r=<remaining>}, with
     * {@code ;t=<seconds>} on a refusal that a retry can overcome.
     *
     * @param policyName the policy's name, printable ASCII
     * @param decision   the decision
     * @return the member, for instance {@code "api";r=0;t=3}
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code policyName} is not a valid name
     */
    public static String rateLimit(String policyName, Decision decision) {
        Objects.requireNonNull(decision, "decision");
        String member = sfString(checkPolicyName(policyName)) + ";r=" + decision.remaining();
        if (!decision.isAllowed() && !decision.exceedsLimit()) {
            member += ";t=" + retryAfterSeconds(decision);
        }
        return member;
    }

    /**
     * The {@code Retry-After} value of a refusal: its retry-after in whole seconds, rounded up, so
     * that a client waiting that long finds the permits it was refused available (as far as this
     * limit alone decides).
     *
     * @param decision a refusal that a retry can overcome
     * @return the seconds to wait, {@code >= 0}
     * @throws NullPointerException     if {@code decision} is {@code null}
     * @throws IllegalArgumentException if {@code decision} is allowed, or can never be granted
     *                                  ({@link Decision#exceedsLimit()}), which no wait mends
     */
    public static long retryAfterSeconds(Decision decision) {
        Objects.requireNonNull(decision, "decision");
        if (decision.isAllowed() || decision.exceedsLimit()) {
            throw new IllegalArgumentException("decision must be a refusal that a retry can overcome: decision="
                    + decision);
        }
        return ceilSeconds(decision.retryAfterNanos());
    }

    /**
     * Nanoseconds as whole seconds, rounded up.
     *
     * @param nanos a duration in nanoseconds, {@code >= 0}
     * @return the seconds, rounded up
     * @throws IllegalArgumentException if {@code nanos < 0}
     */
    public static long ceilSeconds(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("nanos must be >= 0: nanos=" + nanos);
        }
        return nanos / NANOS_PER_SECOND + (nanos % NANOS_PER_SECOND == 0 ? 0 : 1);
    }

    /** A Structured Field String: quoted, with {@code "} and {@code \} escaped. */
    static String sfString(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    private static long ceilDiv(BigInteger a, BigInteger b) {
        BigInteger[] qr = a.divideAndRemainder(b);
        BigInteger q = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
        return q.bitLength() < 63 ? q.longValue() : Long.MAX_VALUE;
    }
}

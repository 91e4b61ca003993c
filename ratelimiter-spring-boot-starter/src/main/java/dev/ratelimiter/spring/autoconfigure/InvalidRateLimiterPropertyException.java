package dev.ratelimiter.spring.autoconfigure;

/**
 * A {@code ratelimiter.*} property whose value cannot be used: thrown while the application
 * starts, so start-up fails naming the property and the value.
 */
public class InvalidRateLimiterPropertyException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String property;
    private final transient Object value;

    /**
     * @param property the property's full path, for example {@code ratelimiter.limits.api.capacity}
     * @param value    its value ({@code null} when missing)
     * @param reason   what is wrong and what would be right
     */
    public InvalidRateLimiterPropertyException(String property, Object value, String reason) {
        super(property + "=" + value + ": " + reason);
        this.property = property;
        this.value = value;
    }

    /** @return the property's full path */
    public String property() {
        return property;
    }

    /** @return the value refused ({@code null} when missing) */
    public Object value() {
        return value;
    }
}

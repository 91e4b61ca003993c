package dev.ratelimiter.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Limits calls of a Spring bean's method (or of every public method of a class) by the limit
 * named {@link #name()} under {@code ratelimiter.limits}.
 *
 * <pre>{@code
 * @RateLimited(name = "per-user", key = "#userId", fallbackMethod = "busy")
 * public Profile profile(String userId) { ... }
 *
 * Profile busy(String userId, RateLimitExceededException refused) { ... }
 * }</pre>
 *
 * <p>A call is decided before the method runs. A granted call runs the method; a refused one
 * runs the fallback method if there is one, else throws
 * {@link dev.ratelimiter.RateLimitExceededException} (naming the limit and the key, with the
 * retry-after). For a method returning a {@link java.util.concurrent.CompletionStage}, the
 * decision is asynchronous on Redis and a refusal completes the stage exceptionally; for a
 * Reactor {@code Mono} or {@code Flux}, each subscription is decided, and a refusal is an error
 * signal. Everything is checked when the application starts: the limit's name, the key
 * expression, the permits, and the fallback's signature; a mistake fails start-up naming the
 * method.
 *
 * <p>The fallback is a method of the same class, of any visibility, named {@link #fallbackMethod()},
 * taking the same parameters, optionally followed by one of a type the refusal's
 * {@link dev.ratelimiter.RateLimitExceededException} is assignable to, and returning a type
 * assignable to the method's (the same {@code CompletionStage}, {@code Mono} or {@code Flux} type
 * for asynchronous methods).
 *
 * <p>On a class, the annotation applies to every public method the class declares; one on a
 * method replaces it. Calls from within the bean itself ({@code this.method()}) do not pass
 * through the proxy and are not limited, as with every Spring AOP annotation.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
public @interface RateLimited {

    /** @return the limit's name, a key of {@code ratelimiter.limits} */
    String name();

    /**
     * @return a SpEL expression over the arguments giving the key (for example {@code #userId},
     *     {@code #p0}, {@code #order.tenant}); beans are {@code @name}. Empty: every call shares
     *     one key, the limit's name
     */
    String key() default "";

    /** @return the permits a call costs, {@code > 0} */
    long permits() default 1;

    /** @return the name of the method called instead when the call is refused; empty: throw */
    String fallbackMethod() default "";
}

package dev.ratelimiter;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks methods whose result must be used: ignoring the result of {@code tryAcquire} means
 * proceeding whether or not the permit was granted. Static analysers that recognise an
 * annotation of this simple name (Error Prone, SpotBugs, IntelliJ) warn when it is ignored.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.TYPE, ElementType.PACKAGE})
public @interface CheckReturnValue {
}

/**
 * The rate limiter API: interfaces and immutable values only, no dependencies.
 *
 * <p>Exports {@code dev.ratelimiter}. The helpers in {@code dev.ratelimiter.internal} are not
 * API: they are exported only to the project's own modules.
 */
// The targets of the qualified export are built after this module: "module not found" is expected.
@SuppressWarnings("module")
module dev.ratelimiter {
    exports dev.ratelimiter;

    exports dev.ratelimiter.internal to
            dev.ratelimiter.conformance,
            dev.ratelimiter.local,
            dev.ratelimiter.redis,
            dev.ratelimiter.spring;
}

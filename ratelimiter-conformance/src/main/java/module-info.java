/**
 * The conformance suite: abstract JUnit and jqwik tests that every backend runs by subclassing.
 * For test scope.
 */
module dev.ratelimiter.conformance {
    requires transitive dev.ratelimiter;
    requires transitive org.junit.jupiter.api;
    requires transitive net.jqwik.api;
    requires org.assertj.core;

    exports dev.ratelimiter.conformance;
}

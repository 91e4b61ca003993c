package dev.ratelimiter.benchmarks;

/*
 * Used by one thread at a time: the benchmark thread's iteration set-up and tear-down.
 */
/**
 * The command counts of one Redis benchmark iteration, as differences of two readings of
 * {@link RedisFixture}: the commands the client sent, and the commands Redis executed per
 * {@code INFO commandstats} (which also counts the commands scripts run). The benchmarks report
 * them through their {@code @AuxCounters} state, next to the decisions made, and
 * {@link SuiteTable} shows them per decision.
 */
final class RedisReadings {

    private long sentBefore;
    private long executedBefore;

    /**
     * Takes the first readings; every reply of the fixture's earlier commands must have arrived.
     *
     * @param redis the fixture
     */
    void begin(RedisFixture redis) {
        executedBefore = redis.executedCommands();
        sentBefore = redis.sentCommands();
    }

    /**
     * @param redis the fixture
     * @return the commands the client sent since {@link #begin}
     */
    long sent(RedisFixture redis) {
        return redis.sentCommands() - sentBefore;
    }

    /**
     * Reads {@code INFO commandstats}: call after {@link #sent}, whose reading it would
     * otherwise not disturb either (the fixture leaves its own {@code INFO} out of both).
     *
     * @param redis the fixture
     * @return the commands Redis executed since {@link #begin}
     */
    long executed(RedisFixture redis) {
        return redis.executedCommands() - executedBefore;
    }
}

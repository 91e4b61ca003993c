package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.LatencyProxy;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A call that timed out is never sent again: not even the NOSCRIPT fallback, when the EVALSHA
 * reaches Redis only after the caller gave up and finds the script cache empty.
 */
class ScriptCallerTimeoutTest {

    @Test
    void anEvalshaAnsweredNoscriptAfterTheCallerTimedOutIsNotRetriedAsEval() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             LatencyProxy proxy = LatencyProxy.to(redis);
             RespClient admin = redis.client()) {
            RedisClient client = RedisClient.create(proxy.uri());
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                KeyedRateLimiter<String> limiter = RedisRateLimiters.builder(connection.async()).failurePolicy(FailurePolicy.propagate())
                        .timeout(Duration.ofSeconds(2)).build()
                        .keyed("api", TokenBucket.of(5, 5, Duration.ofSeconds(1)));
                assertThat(limiter.tryAcquire("warm-up")).isTrue(); // the script is cached now

                proxy.blackhole(true);
                assertThatThrownBy(() -> limiter.tryAcquire("late"))
                        .isInstanceOf(RedisRateLimiterException.class).hasMessageContaining("no answer");
                admin.call("SCRIPT", "FLUSH");
                admin.call("CONFIG", "RESETSTAT");
                proxy.blackhole(false); // the held EVALSHA now reaches Redis: NOSCRIPT

                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!commandStats(admin).contains("cmdstat_evalsha") && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                String stats = commandStats(admin);
                assertThat(stats).contains("cmdstat_evalsha");
                // Give a wrongly sent EVAL every chance to arrive: one more round trip through the
                // same connection, which Redis answers in order.
                assertThat(limiter.tryAcquire("after")).isTrue();
                assertThat(admin.callLong("EXISTS", "rl:{api:late}")).as("the late call counted nothing").isZero();
            } finally {
                client.shutdown();
            }
        }
    }

    @Test
    void anInterruptedCallerSendsNothingAndItsBlockingAcquireThrowsInterruptedException() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             RespClient admin = redis.client()) {
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                KeyedRateLimiter<String> limiter = RedisRateLimiters.builder(connection.async())
                        .failurePolicy(FailurePolicy.propagate()).build()
                        .keyed("api", TokenBucket.of(5, 5, Duration.ofSeconds(1)));
                assertThat(limiter.tryAcquire("warm-up")).isTrue();
                admin.call("CONFIG", "RESETSTAT");

                Thread.currentThread().interrupt();
                assertThatThrownBy(() -> limiter.tryAcquire("k", 1, Duration.ofSeconds(1)))
                        .isInstanceOf(InterruptedException.class);
                assertThat(Thread.interrupted()).as("the interrupt was consumed by the exception").isFalse();

                Thread.currentThread().interrupt();
                assertThatThrownBy(() -> limiter.tryAcquire("k"))
                        .isInstanceOf(RedisRateLimiterException.class).hasMessageContaining("interrupted");
                assertThat(Thread.interrupted()).as("the interrupt is kept for the caller").isTrue();

                assertThat(commandStats(admin)).as("no script call was sent").doesNotContain("cmdstat_evalsha");
                assertThat(admin.callLong("EXISTS", "rl:{api:k}")).isZero();
            } finally {
                client.shutdown();
            }
        }
    }

    private static String commandStats(RespClient admin) {
        return String.valueOf(admin.call("INFO", "commandstats"));
    }
}

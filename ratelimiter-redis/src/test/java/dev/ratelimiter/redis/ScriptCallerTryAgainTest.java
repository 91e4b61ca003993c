package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandType;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * TRYAGAIN (a cluster slot migrating) is retried within the call's timeout, with a bounded
 * backoff; nothing else is. Against a scripted stand-in for Lettuce's commands, which answers
 * each EVALSHA by the attempt's number; the cluster test of the same is in
 * {@link RedisClusterReshardingTest}.
 */
class ScriptCallerTryAgainTest {

    private static final List<Object> REPLY = List.of(1L, 4L, 0L, 1000L);

    /** A stand-in's answer: the command is never answered (a Redis that went silent). */
    private static final Object SILENCE = new Object();

    /**
     * @return commands answering the n-th EVALSHA (from 0) with {@code answer.apply(n)}: a reply,
     *         an exception, or {@link #SILENCE}
     */
    @SuppressWarnings("unchecked")
    private static RedisScriptingAsyncCommands<String, String> commands(AtomicInteger sent, IntFunction<Object> answer) {
        return (RedisScriptingAsyncCommands<String, String>) Proxy.newProxyInstance(
                ScriptCallerTryAgainTest.class.getClassLoader(), new Class<?>[] {RedisScriptingAsyncCommands.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("evalsha") && !method.getName().equals("eval")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    AsyncCommand<String, String, List<Object>> command = new AsyncCommand<>(
                            new Command<>(CommandType.EVALSHA, new NestedMultiOutput<>(StringCodec.UTF8)));
                    Object a = answer.apply(sent.getAndIncrement());
                    if (a == SILENCE) {
                        return (RedisFuture<List<Object>>) command;
                    }
                    if (a instanceof Throwable t) {
                        command.completeExceptionally(t);
                    } else {
                        command.complete((List<Object>) a);
                    }
                    return (RedisFuture<List<Object>>) command;
                });
    }

    private static RedisCommandExecutionException tryAgain() {
        return new RedisCommandExecutionException("TRYAGAIN Multiple keys request during rehashing of slot");
    }

    @Test
    void tryAgainIsRetriedUntilTheCallRunsSyncAndAsync() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        ScriptCaller caller = new ScriptCaller(commands(sent, n -> n % 4 < 3 ? tryAgain() : REPLY), Duration.ofSeconds(5));
        assertThat(caller.callSync(Scripts.GCRA, "k", "a")).isEqualTo(REPLY);
        assertThat(sent.get()).isEqualTo(4);
        assertThat(caller.call(Scripts.GCRA, "k", "a").get(5, TimeUnit.SECONDS)).isEqualTo(REPLY);
        assertThat(sent.get()).isEqualTo(8);
    }

    @Test
    void tryAgainUntilTheTimeoutFailsWithinItAndStopsResending() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        Duration timeout = Duration.ofMillis(200);
        ScriptCaller caller = new ScriptCaller(commands(sent, n -> tryAgain()), timeout);
        for (boolean sync : new boolean[] {true, false}) {
            sent.set(0);
            long start = System.nanoTime();
            if (sync) {
                assertThatThrownBy(() -> caller.callSync(Scripts.GCRA, "k", "a"))
                        .isInstanceOf(RedisRateLimiterException.class).hasMessageContaining("TRYAGAIN");
            } else {
                CompletableFuture<List<Object>> call = caller.call(Scripts.GCRA, "k", "a");
                assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(RedisRateLimiterException.class).hasMessageContaining("TRYAGAIN");
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(took).as("never past the timeout").isLessThanOrEqualTo(timeout.plusSeconds(1)); // generous: a loaded machine
            int attempts = sent.get();
            // Backoff 2, 4, ..., 64 ms: a handful of sends within 200 ms, not a busy loop.
            assertThat(attempts).isBetween(3, 10);
            // Observing that no resend follows: longer than the longest backoff.
            LockSupport.parkNanos(3 * ScriptCaller.TRYAGAIN_MAX_NANOS);
            assertThat(sent.get()).as("no resend once answered").isEqualTo(attempts);
        }
    }

    /**
     * Answered TRYAGAIN, resent, and the resend never answered: the timeout's failure says that
     * Redis answered TRYAGAIN, not only that nothing came back. Drives only the timeout, not the
     * machine's speed: the second send is silent however fast the backoff runs.
     */
    @Test
    void aTimeoutWhileResendingAfterTryAgainNamesTheTryAgain() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        ScriptCaller caller = new ScriptCaller(commands(sent, n -> n == 0 ? tryAgain() : SILENCE), Duration.ofMillis(300));
        assertThatThrownBy(() -> caller.callSync(Scripts.GCRA, "k", "a"))
                .isInstanceOf(RedisRateLimiterException.class).hasMessageContaining("no answer from Redis within PT0.3S")
                .hasMessageContaining("TRYAGAIN Multiple keys").hasCauseInstanceOf(RedisCommandExecutionException.class);
        assertThat(sent.get()).isEqualTo(2);
        sent.set(0);
        CompletableFuture<List<Object>> call = caller.call(Scripts.GCRA, "k", "a");
        assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(RedisRateLimiterException.class).hasMessageContaining("TRYAGAIN Multiple keys");
    }

    @Test
    void anyOtherErrorIsNotRetried() {
        for (String error : List.of("ERR something", "READONLY You can't write against a read only replica.",
                "OOM command not allowed", "CLUSTERDOWN The cluster is down")) {
            AtomicInteger sent = new AtomicInteger();
            ScriptCaller caller = new ScriptCaller(commands(sent, n -> new RedisCommandExecutionException(error)),
                    Duration.ofSeconds(5));
            assertThatThrownBy(() -> caller.callSync(Scripts.GCRA, "k", "a")).isInstanceOf(RedisRateLimiterException.class)
                    .hasMessageContaining(error);
            assertThat(sent.get()).as(error).isEqualTo(1);
        }
    }
}

package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import dev.ratelimiter.internal.ListenedRateLimiter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DecoratorsTest {

    /** 3 permits, one more per second. */
    private static final TokenBucket LIMIT = TokenBucket.of(3, 1, Duration.ofSeconds(1));
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(7 * SECOND);
    private final TestBucket bucket = new TestBucket(LIMIT, clock);
    private final AtomicInteger calls = new AtomicInteger();

    record Request(String user, int size) {
    }

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    @Test
    void eachCallTakesTheConfiguredPermits() {
        Supplier<Integer> twoEach = Decorators.of(bucket).permits(2).supplier(calls::incrementAndGet);
        assertThat(twoEach.get()).isEqualTo(1);
        assertThat(bucket.availablePermits()).isEqualTo(1);
        assertThatThrownBy(twoEach::get).isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
            assertThat(e.decision().permits()).isEqualTo(2);
            assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(1));
        });
        assertThat(calls).hasValue(1);
    }

    @Test
    void aCallWaitsUpToItsTimeoutForItsPermits() {
        bucket.drain();
        Supplier<Integer> patient = Decorators.of(bucket).waitUpTo(Duration.ofSeconds(2)).supplier(calls::incrementAndGet);
        long before = clock.get();
        assertThat(patient.get()).isEqualTo(1);
        assertThat(clock.get() - before).as("waited for the refill").isEqualTo(SECOND);

        Supplier<Integer> hasty = Decorators.of(bucket).permits(3).waitUpTo(Duration.ofMillis(500))
                .supplier(calls::incrementAndGet);
        assertThatThrownBy(hasty::get).isInstanceOfSatisfying(RateLimitExceededException.class,
                e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(3)));
        assertThat(calls).hasValue(1);

        Supplier<Integer> noWait = Decorators.of(bucket).waitUpTo(Duration.ofSeconds(-1)).supplier(calls::incrementAndGet);
        assertThatThrownBy(noWait::get).isInstanceOf(RateLimitExceededException.class);
        assertThat(clock.get() - before).as("a negative wait does not wait").isEqualTo(SECOND);
    }

    @Test
    void aFallbackAnswersRefusalsInEveryForm() throws Exception {
        bucket.drain();
        Decorators.LimitedWithFallback<String> fb = Decorators.of(bucket).named("quotes")
                .withFallback(e -> "fallback after " + e.retryAfter() + " from " + e.limiterName());
        String expected = "fallback after PT1S from quotes";

        assertThat(fb.supplier(() -> "called").get()).isEqualTo(expected);
        assertThat(fb.callable(() -> "called").call()).isEqualTo(expected);
        assertThat(fb.<Integer>function(x -> "called " + x).apply(1)).isEqualTo(expected);
        assertThat(fb.<Integer, Integer>biFunction((x, y) -> "called").apply(1, 2)).isEqualTo(expected);
        assertThat(fb.completionStage(() -> CompletableFuture.completedFuture("called")).get()
                .toCompletableFuture().join()).isEqualTo(expected);
        AtomicInteger fallbacks = new AtomicInteger();
        Decorators.of(bucket).withFallback(e -> fallbacks.incrementAndGet()).runnable(calls::incrementAndGet).run();
        assertThat(fallbacks).hasValue(1);
        assertThat(calls).hasValue(0);

        clock.addAndGet(SECOND);
        assertThat(fb.supplier(() -> "called").get()).isEqualTo("called");
    }

    @Test
    void aFallbackThatThrowsFailsTheStageInsteadOfThrowing() {
        bucket.drain();
        IllegalStateException boom = new IllegalStateException("boom");
        CompletionStage<String> stage = Decorators.of(bucket).<String>withFallback(e -> {
            throw boom;
        }).completionStage(() -> CompletableFuture.completedFuture("called")).get();
        assertThatThrownBy(() -> stage.toCompletableFuture().join()).isInstanceOf(CompletionException.class)
                .hasCause(boom);
    }

    @Test
    void everyFormWithoutFallbackThrowsTheRefusalAndDoesNotRun() {
        bucket.drain();
        Decorators.Limited limited = Decorators.of(bucket).named("api");
        Runnable runnable = limited.runnable(calls::incrementAndGet);
        Callable<Integer> callable = limited.callable(calls::incrementAndGet);
        Function<Integer, Integer> function = limited.function(x -> calls.incrementAndGet());
        BiFunction<Integer, Integer, Integer> biFunction = limited.biFunction((x, y) -> calls.incrementAndGet());
        for (Callable<?> call : java.util.List.<Callable<?>>of(() -> {
            runnable.run();
            return null;
        }, callable, () -> function.apply(1), () -> biFunction.apply(1, 2))) {
            assertThatThrownBy(call::call).isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
                assertThat(e.limiterName()).isEqualTo("api");
                assertThat(e.key()).isNull();
                assertThat(e).hasMessage("rate limit exceeded by limiter api: retry after 1000000000 ns");
            });
        }
        AtomicInteger started = new AtomicInteger();
        CompletionStage<Integer> stage = limited.completionStage(() -> {
            started.incrementAndGet();
            return CompletableFuture.completedFuture(1);
        }).get();
        assertThatThrownBy(() -> stage.toCompletableFuture().join()).cause()
                .isInstanceOf(RateLimitExceededException.class);
        assertThat(started).hasValue(0);
        assertThat(calls).hasValue(0);
    }

    @Test
    void keyedDecoratorsTakeTheKeyFromTheArguments() {
        TestKeyed perUser = new TestKeyed(LIMIT, clock);
        Function<Request, String> handle = Decorators.of(perUser).named("per-user").key(Request::user)
                .function(r -> "ok " + r.user());
        BiFunction<String, Integer, String> bi = Decorators.of(perUser).permits(3)
                .key((String user, Integer size) -> user + "/" + size)
                .biFunction((user, size) -> "ok " + user + size);

        for (int i = 0; i < 3; i++) {
            assertThat(handle.apply(new Request("alice", 1))).isEqualTo("ok alice");
        }
        assertThatThrownBy(() -> handle.apply(new Request("alice", 1)))
                .isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
                    assertThat(e.limiterName()).isEqualTo("per-user");
                    assertThat(e.key()).isEqualTo("alice");
                    assertThat(e.keyText()).isEqualTo("alice");
                    assertThat(e).hasMessage("rate limit exceeded by limiter per-user for key alice: retry after "
                            + SECOND + " ns");
                });
        assertThat(handle.apply(new Request("bob", 1))).as("another key, another budget").isEqualTo("ok bob");
        assertThat(bi.apply("carol", 7)).isEqualTo("ok carol7");
        assertThat(perUser.bucket("carol/7").availablePermits()).isZero();
        assertThatThrownBy(() -> bi.apply("carol", 7)).isInstanceOfSatisfying(RateLimitExceededException.class,
                e -> assertThat(e.key()).isEqualTo("carol/7"));
    }

    @Test
    void keyedDecoratorsWaitAndFallBack() {
        TestKeyed perUser = new TestKeyed(LIMIT, clock);
        perUser.drain("alice");
        Function<Request, String> patient = Decorators.of(perUser).waitUpTo(Duration.ofSeconds(1))
                .key(Request::user).function(r -> "ok");
        assertThat(patient.apply(new Request("alice", 1))).isEqualTo("ok");

        Function<Request, String> withFallback = Decorators.of(perUser).key(Request::user)
                .withFallback(e -> "later, " + e.key()).function(r -> "ok");
        assertThat(withFallback.apply(new Request("alice", 1))).isEqualTo("later, alice");
        BiFunction<String, String, String> biFallback = Decorators.of(perUser)
                .key((String a, String b) -> a).withFallback(e -> "later").biFunction((a, b) -> "ok");
        assertThat(biFallback.apply("alice", "x")).isEqualTo("later");

        Function<Request, CompletionStage<String>> async = Decorators.of(perUser).key(Request::user)
                .completionStage(r -> CompletableFuture.completedFuture("ok"));
        assertThatThrownBy(() -> async.apply(new Request("alice", 1)).toCompletableFuture().join()).cause()
                .isInstanceOf(RateLimitExceededException.class);
        Function<Request, CompletionStage<String>> asyncFallback = Decorators.of(perUser).key(Request::user)
                .withFallback(e -> "later").completionStage(r -> CompletableFuture.completedFuture("ok"));
        assertThat(asyncFallback.apply(new Request("alice", 1)).toCompletableFuture().join()).isEqualTo("later");
        assertThat(asyncFallback.apply(new Request("dave", 1)).toCompletableFuture().join()).isEqualTo("ok");
    }

    @Test
    void aNullKeyFailsTheCall() {
        Function<Request, String> handle = Decorators.of(new TestKeyed(LIMIT, clock)).key(Request::user)
                .function(r -> "ok");
        assertThatThrownBy(() -> handle.apply(new Request(null, 1))).isInstanceOf(NullPointerException.class)
                .hasMessage("key");
    }

    @Test
    void aListenedLimiterIsNamedByDefault() {
        bucket.drain();
        RateLimiter listened = new ListenedRateLimiter("search", bucket, new RateLimiterListener() { }, clock::get);
        assertThatThrownBy(() -> Decorators.of(listened).runnable(calls::incrementAndGet).run())
                .isInstanceOfSatisfying(RateLimitExceededException.class,
                        e -> assertThat(e.limiterName()).isEqualTo("search"));
        KeyedRateLimiter<String> keyed = new ListenedKeyedRateLimiter<>("per-user", new TestKeyed(LIMIT, clock),
                new RateLimiterListener() { }, clock::get);
        Function<String, String> f = Decorators.of(keyed).permits(4).key((String s) -> s).function(s -> s);
        assertThatThrownBy(() -> f.apply("k")).isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
            assertThat(e.limiterName()).isEqualTo("per-user");
            assertThat(e.decision().exceedsLimit()).isTrue();
            assertThat(e).hasMessage("rate limit exceeded by limiter per-user for key k: 4 permits can never be "
                    + "granted (limit 3)");
        });
    }

    @Test
    void anInterruptedWaitDoesNotRunTheCallNorTheFallback() {
        Decorators.Limited patient = Decorators.of(bucket).named("api").waitUpTo(Duration.ofSeconds(1));
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> patient.callable(calls::incrementAndGet).call())
                .isInstanceOf(InterruptedException.class);

        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> patient.withFallback(e -> -1).supplier(calls::incrementAndGet).get())
                .isInstanceOf(CancellationException.class)
                .hasMessage("interrupted while waiting for 1 permits of limiter api")
                .hasCauseInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).as("the interrupt status is restored").isTrue();

        Thread.currentThread().interrupt();
        CompletionStage<Integer> stage = patient.completionStage(() -> CompletableFuture.completedFuture(1)).get();
        assertThat(Thread.interrupted()).isTrue();
        assertThatThrownBy(() -> stage.toCompletableFuture().join()).isInstanceOf(CancellationException.class)
                .hasCauseInstanceOf(InterruptedException.class);
        assertThat(calls).hasValue(0);
    }

    @Test
    void badArgumentsAreRefusedNamingTheParameter() {
        assertThatThrownBy(() -> Decorators.of((RateLimiter) null)).isInstanceOf(NullPointerException.class)
                .hasMessage("limiter");
        assertThatThrownBy(() -> Decorators.of((KeyedRateLimiter<String>) null))
                .isInstanceOf(NullPointerException.class).hasMessage("limiter");
        assertThatThrownBy(() -> Decorators.of(bucket).permits(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> Decorators.of(bucket).waitUpTo(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("timeout");
        assertThatThrownBy(() -> Decorators.of(bucket).named(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("name");
        assertThatThrownBy(() -> Decorators.of(bucket).withFallback(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("fallback");
        assertThatThrownBy(() -> Decorators.of(bucket).supplier(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("call");
        assertThatThrownBy(() -> Decorators.of(new TestKeyed(LIMIT, clock)).key((Function<String, String>) null))
                .isInstanceOf(NullPointerException.class).hasMessage("keyOf");
    }

    @Test
    void theDecoratorStepsAreImmutable() {
        Decorators.Limited base = Decorators.of(bucket);
        Supplier<Integer> three = base.permits(3).supplier(calls::incrementAndGet);
        Supplier<Integer> one = base.supplier(calls::incrementAndGet);
        assertThat(one.get()).isEqualTo(1);
        assertThat(bucket.availablePermits()).isEqualTo(2);
        assertThatThrownBy(three::get).isInstanceOf(RateLimitExceededException.class);
    }

    @Test
    void theExceptionSurvivesSerializationWithItsNameKeyAndRetryAfter() throws Exception {
        RateLimitExceededException e = new RateLimitExceededException("api", new StringBuilder("user-1"),
                Decision.denied(1, 0, 2_500, 3_000, 5));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(e);
        }
        RateLimitExceededException copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (RateLimitExceededException) in.readObject();
        }
        assertThat(copy).hasMessage(e.getMessage())
                .hasMessage("rate limit exceeded by limiter api for key user-1: retry after 2500 ns");
        assertThat(copy.limiterName()).isEqualTo("api");
        assertThat(copy.keyText()).isEqualTo("user-1");
        assertThat(copy.retryAfter()).isEqualTo(Duration.ofNanos(2_500));
        assertThat(copy.retryAfterNanos()).isEqualTo(2_500);
        assertThat(copy.key()).isNull();
        assertThat(copy.decision()).isNull();
        assertThat(e.getStackTrace()).isEmpty();
    }
}

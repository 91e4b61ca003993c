package dev.ratelimiter;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Wraps calls so that each one first takes one permit from a {@link RateLimiter}. A refused
 * call does not run: it throws {@link RateLimitExceededException} (or, for calls returning a
 * {@link CompletionStage}, returns a stage failed with it), which carries the
 * {@link Decision} and so the retry-after time.
 *
 * <p>The wrappers are thread-safe when the wrapped call is. They never wait: use
 * {@link RateLimiter#tryAcquire(long, java.time.Duration)} directly to wait for a permit.
 *
 * <pre>{@code
 * Supplier<Quote> limited = Decorators.supplier(limiter, quoteService::fetch);
 * try {
 *     Quote q = limited.get();
 * } catch (RateLimitExceededException e) {
 *     return tooManyRequests(e.retryAfter());
 * }
 * }</pre>
 */
public final class Decorators {

    private Decorators() {
    }

    /**
     * Takes one permit, or throws the refusal.
     *
     * @param limiter the limiter
     * @throws RateLimitExceededException if the permit is refused
     */
    static void acquireOrThrow(RateLimiter limiter) {
        Decision decision = limiter.decide(1);
        if (!decision.isAllowed()) {
            throw new RateLimitExceededException(decision);
        }
    }

    /**
     * @param limiter  the limiter
     * @param runnable the call to limit
     * @return a runnable that takes a permit, then runs {@code runnable}
     * @throws NullPointerException if an argument is {@code null}
     */
    public static Runnable runnable(RateLimiter limiter, Runnable runnable) {
        Objects.requireNonNull(limiter, "limiter");
        Objects.requireNonNull(runnable, "runnable");
        return () -> {
            acquireOrThrow(limiter);
            runnable.run();
        };
    }

    /**
     * @param limiter  the limiter
     * @param callable the call to limit
     * @param <T>      the result type
     * @return a callable that takes a permit, then calls {@code callable}
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <T> Callable<T> callable(RateLimiter limiter, Callable<T> callable) {
        Objects.requireNonNull(limiter, "limiter");
        Objects.requireNonNull(callable, "callable");
        return () -> {
            acquireOrThrow(limiter);
            return callable.call();
        };
    }

    /**
     * @param limiter  the limiter
     * @param supplier the call to limit
     * @param <T>      the result type
     * @return a supplier that takes a permit, then calls {@code supplier}
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <T> Supplier<T> supplier(RateLimiter limiter, Supplier<T> supplier) {
        Objects.requireNonNull(limiter, "limiter");
        Objects.requireNonNull(supplier, "supplier");
        return () -> {
            acquireOrThrow(limiter);
            return supplier.get();
        };
    }

    /**
     * @param limiter  the limiter
     * @param function the call to limit
     * @param <T>      the argument type
     * @param <R>      the result type
     * @return a function that takes a permit, then applies {@code function}
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <T, R> Function<T, R> function(RateLimiter limiter, Function<T, R> function) {
        Objects.requireNonNull(limiter, "limiter");
        Objects.requireNonNull(function, "function");
        return t -> {
            acquireOrThrow(limiter);
            return function.apply(t);
        };
    }

    /**
     * Limits an asynchronous call. When the permit is refused the call is not started and the
     * returned stage is already failed with {@link RateLimitExceededException}; nothing is thrown.
     *
     * @param limiter the limiter
     * @param call    the asynchronous call to limit
     * @param <T>     the result type
     * @return a supplier that takes a permit, then starts {@code call}
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <T> Supplier<CompletionStage<T>> completionStage(RateLimiter limiter,
                                                                   Supplier<? extends CompletionStage<T>> call) {
        Objects.requireNonNull(limiter, "limiter");
        Objects.requireNonNull(call, "call");
        return () -> {
            Decision decision = limiter.decide(1);
            if (!decision.isAllowed()) {
                return CompletableFuture.failedFuture(new RateLimitExceededException(decision));
            }
            return call.get();
        };
    }
}

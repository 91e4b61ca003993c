package dev.ratelimiter;

import dev.ratelimiter.internal.Checks;
import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import dev.ratelimiter.internal.ListenedRateLimiter;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Wraps calls so that each one first takes permits from a {@link RateLimiter} (or, for a
 * {@link KeyedRateLimiter}, from the key its arguments name). A refused call does not run: it
 * throws {@link RateLimitExceededException} (or, for calls returning a {@link CompletionStage},
 * returns a stage failed with it), which names the limiter and the key and carries the refused
 * {@link Decision}, so the retry-after time; or, with a fallback, returns what the fallback makes
 * of that exception.
 *
 * <p>The static methods {@link #runnable}, {@link #callable}, {@link #supplier},
 * {@link #function} and {@link #completionStage} take one permit and never wait. The fluent
 * form, from {@link #of(RateLimiter)} and {@link #of(KeyedRateLimiter)}, also sets the permits
 * per call, a wait for them and a fallback; each of its steps returns a new immutable value, so
 * a partly configured decorator can be shared and extended.
 *
 * <pre>{@code
 * Supplier<Quote> limited = Decorators.supplier(limiter, quoteService::fetch);
 *
 * Supplier<Quote> patient = Decorators.of(limiter)
 *         .permits(2)
 *         .waitUpTo(Duration.ofMillis(100))
 *         .withFallback(refused -> Quote.CACHED)
 *         .supplier(quoteService::fetch);
 *
 * Function<Request, Response> perUser = Decorators.of(perUserLimiter)
 *         .key((Request r) -> r.user())
 *         .function(service::handle);
 * try {
 *     return perUser.apply(request);
 * } catch (RateLimitExceededException e) {
 *     return tooManyRequests(e.retryAfter());
 * }
 * }</pre>
 *
 * <h2>Waiting</h2>
 * With {@code waitUpTo(timeout)} a call waits up to the timeout for its permits
 * ({@link RateLimiter#tryAcquire(long, Duration)}), on the calling thread (also for
 * {@code completionStage}: the stage is started once the permits are had). If the wait times
 * out, one more non-blocking decision is made: granted, the call runs; refused, that decision is
 * the one the exception carries (a {@link RateLimiterListener} hears of both: the wait, then that
 * decision). If the waiting thread is interrupted, the call does not run and
 * no fallback is made: a {@link Callable} throws the {@link InterruptedException}; the other
 * forms restore the thread's interrupt status and throw (or fail the stage with) a
 * {@link CancellationException} whose cause is the {@code InterruptedException}.
 *
 * <h2>Names</h2>
 * The exception names the limiter by {@link Limited#named(String)}; a limiter made by a
 * {@link RateLimiterFactory} with a listener is named by default with its factory name.
 *
 * <p>The wrappers are thread-safe when the wrapped call (and the fallback) is.
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

    /**
     * Starts a fluent decorator on {@code limiter}: one permit per call, no wait, no fallback,
     * named as described in the class comment.
     *
     * @param limiter the limiter
     * @return the decorator
     * @throws NullPointerException if {@code limiter} is {@code null}
     */
    public static Limited of(RateLimiter limiter) {
        Objects.requireNonNull(limiter, "limiter");
        String name = limiter instanceof ListenedRateLimiter l ? l.name() : null;
        return new Limited(new Gate(limiter, null, name, 1, null));
    }

    /**
     * Starts a fluent decorator on {@code limiter}, whose key is taken from each call's
     * arguments ({@link KeyedLimited#key(Function)}): one permit per call, no wait, no fallback.
     *
     * @param limiter the keyed limiter
     * @param <K>     the key type
     * @return the decorator
     * @throws NullPointerException if {@code limiter} is {@code null}
     */
    public static <K> KeyedLimited<K> of(KeyedRateLimiter<K> limiter) {
        Objects.requireNonNull(limiter, "limiter");
        String name = limiter instanceof ListenedKeyedRateLimiter<?> l ? l.name() : null;
        return new KeyedLimited<>(new Gate(null, limiter, name, 1, null));
    }

    /**
     * What every fluent decorator shares: the limiter (single or keyed), its name, the permits
     * per call and the wait. Immutable.
     */
    private static final class Gate {
        private final RateLimiter single;
        private final KeyedRateLimiter<?> keyed;
        private final String name;
        private final long permits;
        /** The wait, or {@code null} for none (a zero or negative wait is stored as none). */
        private final Duration wait;

        Gate(RateLimiter single, KeyedRateLimiter<?> keyed, String name, long permits, Duration wait) {
            this.single = single;
            this.keyed = keyed;
            this.name = name;
            this.permits = permits;
            this.wait = wait;
        }

        Gate named(String name) {
            return new Gate(single, keyed, Objects.requireNonNull(name, "name"), permits, wait);
        }

        Gate permits(long permits) {
            return new Gate(single, keyed, name, Checks.requested(permits), wait);
        }

        Gate waitUpTo(Duration timeout) {
            long nanos = Checks.timeoutNanos(timeout);
            return new Gate(single, keyed, name, permits, nanos == 0 ? null : timeout);
        }

        /**
         * Takes the permits for {@code key} (ignored by a single limiter).
         *
         * @return {@code null} if granted, else the refusal
         */
        @SuppressWarnings("unchecked")
        RateLimitExceededException acquire(Object key) throws InterruptedException {
            Decision decision;
            if (single != null) {
                if (wait != null && single.tryAcquire(permits, wait)) {
                    return null;
                }
                decision = single.decide(permits);
            } else {
                KeyedRateLimiter<Object> k = (KeyedRateLimiter<Object>) keyed;
                if (wait != null && k.tryAcquire(key, permits, wait)) {
                    return null;
                }
                decision = k.decide(key, permits);
            }
            return decision.isAllowed() ? null : new RateLimitExceededException(name, key, decision);
        }

        /** Like {@link #acquire}, an interrupt turned into a {@link CancellationException}. */
        RateLimitExceededException acquireUninterruptibly(Object key) {
            try {
                return acquire(key);
            } catch (InterruptedException e) {
                throw interrupted(e);
            }
        }

        CancellationException interrupted(InterruptedException e) {
            Thread.currentThread().interrupt();
            CancellationException c = new CancellationException("interrupted while waiting for "
                    + permits + " permits of limiter " + (name == null ? (single != null ? single : keyed) : name));
            c.initCause(e);
            return c;
        }

        /** Takes the permits, or throws the refusal. */
        void acquireOrThrow(Object key) {
            RateLimitExceededException refused = acquireUninterruptibly(key);
            if (refused != null) {
                throw refused;
            }
        }

        <T> CompletionStage<T> stage(Object key, Supplier<? extends CompletionStage<T>> call,
                                     Function<? super RateLimitExceededException, ? extends T> fallback) {
            RateLimitExceededException refused;
            try {
                refused = acquireUninterruptibly(key);
            } catch (CancellationException e) {
                return CompletableFuture.failedFuture(e);
            }
            if (refused == null) {
                return call.get();
            }
            if (fallback == null) {
                return CompletableFuture.failedFuture(refused);
            }
            try {
                return CompletableFuture.completedFuture(fallback.apply(refused));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
    }

    /**
     * A fluent decorator on a {@link RateLimiter}, without a fallback: a refused call throws
     * {@link RateLimitExceededException}. Immutable and thread-safe.
     */
    public static final class Limited {
        private final Gate gate;

        private Limited(Gate gate) {
            this.gate = gate;
        }

        /**
         * @param name the name the exception gives the limiter
         * @return a decorator naming the limiter so
         * @throws NullPointerException if {@code name} is {@code null}
         */
        public Limited named(String name) {
            return new Limited(gate.named(name));
        }

        /**
         * @param permits the permits each call takes, {@code > 0}
         * @return a decorator taking that many
         * @throws IllegalArgumentException if {@code permits <= 0}
         */
        public Limited permits(long permits) {
            return new Limited(gate.permits(permits));
        }

        /**
         * @param timeout the longest a call waits for its permits; zero or negative: no wait
         * @return a decorator waiting so
         * @throws NullPointerException if {@code timeout} is {@code null}
         */
        public Limited waitUpTo(Duration timeout) {
            return new Limited(gate.waitUpTo(timeout));
        }

        /**
         * @param fallback makes a refused call's result from its refusal
         * @param <T>      the result type of the calls to decorate
         * @return a decorator answering refusals with {@code fallback}
         * @throws NullPointerException if {@code fallback} is {@code null}
         */
        public <T> LimitedWithFallback<T> withFallback(Function<? super RateLimitExceededException, ? extends T> fallback) {
            return new LimitedWithFallback<>(gate, Objects.requireNonNull(fallback, "fallback"));
        }

        /**
         * @param call the call to limit
         * @return a runnable that takes the permits, then runs {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public Runnable runnable(Runnable call) {
            Objects.requireNonNull(call, "call");
            return () -> {
                gate.acquireOrThrow(null);
                call.run();
            };
        }

        /**
         * @param call the call to limit
         * @param <T>  the result type
         * @return a callable that takes the permits, then calls {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <T> Callable<T> callable(Callable<? extends T> call) {
            Objects.requireNonNull(call, "call");
            return () -> {
                RateLimitExceededException refused = gate.acquire(null);
                if (refused != null) {
                    throw refused;
                }
                return call.call();
            };
        }

        /**
         * @param call the call to limit
         * @param <T>  the result type
         * @return a supplier that takes the permits, then calls {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <T> Supplier<T> supplier(Supplier<? extends T> call) {
            Objects.requireNonNull(call, "call");
            return () -> {
                gate.acquireOrThrow(null);
                return call.get();
            };
        }

        /**
         * @param call the call to limit
         * @param <A>  the argument type
         * @param <R>  the result type
         * @return a function that takes the permits, then applies {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <A, R> Function<A, R> function(Function<? super A, ? extends R> call) {
            Objects.requireNonNull(call, "call");
            return a -> {
                gate.acquireOrThrow(null);
                return call.apply(a);
            };
        }

        /**
         * @param call the call to limit
         * @param <A>  the first argument's type
         * @param <B>  the second argument's type
         * @param <R>  the result type
         * @return a function that takes the permits, then applies {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <A, B, R> BiFunction<A, B, R> biFunction(BiFunction<? super A, ? super B, ? extends R> call) {
            Objects.requireNonNull(call, "call");
            return (a, b) -> {
                gate.acquireOrThrow(null);
                return call.apply(a, b);
            };
        }

        /**
         * Limits an asynchronous call: a refused call is not started, and the stage returned is
         * already failed with the refusal; nothing is thrown.
         *
         * @param call the asynchronous call to limit
         * @param <T>  the result type
         * @return a supplier that takes the permits, then starts {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <T> Supplier<CompletionStage<T>> completionStage(Supplier<? extends CompletionStage<T>> call) {
            Objects.requireNonNull(call, "call");
            return () -> gate.stage(null, call, null);
        }
    }

    /**
     * A fluent decorator on a {@link RateLimiter} whose refused calls return what a fallback
     * makes of the refusal (the call itself does not run). Immutable and thread-safe.
     *
     * @param <T> the result type of the decorated calls
     */
    public static final class LimitedWithFallback<T> {
        private final Gate gate;
        private final Function<? super RateLimitExceededException, ? extends T> fallback;

        private LimitedWithFallback(Gate gate, Function<? super RateLimitExceededException, ? extends T> fallback) {
            this.gate = gate;
            this.fallback = fallback;
        }

        /**
         * @param call the call to limit; on a refusal the fallback runs instead and its result is
         *             dropped
         * @return a runnable that takes the permits, then runs {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public Runnable runnable(Runnable call) {
            Objects.requireNonNull(call, "call");
            return () -> {
                RateLimitExceededException refused = gate.acquireUninterruptibly(null);
                if (refused != null) {
                    fallback.apply(refused);
                    return;
                }
                call.run();
            };
        }

        /**
         * @param call the call to limit
         * @return a callable that takes the permits, then calls {@code call}, or answers by the
         *     fallback
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public Callable<T> callable(Callable<? extends T> call) {
            Objects.requireNonNull(call, "call");
            return () -> {
                RateLimitExceededException refused = gate.acquire(null);
                return refused != null ? fallback.apply(refused) : call.call();
            };
        }

        /**
         * @param call the call to limit
         * @return a supplier that takes the permits, then calls {@code call}, or answers by the
         *     fallback
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public Supplier<T> supplier(Supplier<? extends T> call) {
            Objects.requireNonNull(call, "call");
            return () -> {
                RateLimitExceededException refused = gate.acquireUninterruptibly(null);
                return refused != null ? fallback.apply(refused) : call.get();
            };
        }

        /**
         * @param call the call to limit
         * @param <A>  the argument type
         * @return a function that takes the permits, then applies {@code call}, or answers by the
         *     fallback
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <A> Function<A, T> function(Function<? super A, ? extends T> call) {
            Objects.requireNonNull(call, "call");
            return a -> {
                RateLimitExceededException refused = gate.acquireUninterruptibly(null);
                return refused != null ? fallback.apply(refused) : call.apply(a);
            };
        }

        /**
         * @param call the call to limit
         * @param <A>  the first argument's type
         * @param <B>  the second argument's type
         * @return a function that takes the permits, then applies {@code call}, or answers by the
         *     fallback
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <A, B> BiFunction<A, B, T> biFunction(BiFunction<? super A, ? super B, ? extends T> call) {
            Objects.requireNonNull(call, "call");
            return (a, b) -> {
                RateLimitExceededException refused = gate.acquireUninterruptibly(null);
                return refused != null ? fallback.apply(refused) : call.apply(a, b);
            };
        }

        /**
         * Limits an asynchronous call: a refused call is not started, and the stage returned is
         * already completed with the fallback's result (or failed with what the fallback threw).
         *
         * @param call the asynchronous call to limit
         * @return a supplier that takes the permits, then starts {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public Supplier<CompletionStage<T>> completionStage(Supplier<? extends CompletionStage<T>> call) {
            Objects.requireNonNull(call, "call");
            return () -> gate.stage(null, call, fallback);
        }
    }

    /**
     * A fluent decorator on a {@link KeyedRateLimiter}; {@link #key(Function)} says how a call's
     * arguments name its key. Immutable and thread-safe.
     *
     * @param <K> the key type
     */
    public static final class KeyedLimited<K> {
        private final Gate gate;

        private KeyedLimited(Gate gate) {
            this.gate = gate;
        }

        /**
         * @param name the name the exception gives the limiter
         * @return a decorator naming the limiter so
         * @throws NullPointerException if {@code name} is {@code null}
         */
        public KeyedLimited<K> named(String name) {
            return new KeyedLimited<>(gate.named(name));
        }

        /**
         * @param permits the permits each call takes, {@code > 0}
         * @return a decorator taking that many
         * @throws IllegalArgumentException if {@code permits <= 0}
         */
        public KeyedLimited<K> permits(long permits) {
            return new KeyedLimited<>(gate.permits(permits));
        }

        /**
         * @param timeout the longest a call waits for its permits; zero or negative: no wait
         * @return a decorator waiting so
         * @throws NullPointerException if {@code timeout} is {@code null}
         */
        public KeyedLimited<K> waitUpTo(Duration timeout) {
            return new KeyedLimited<>(gate.waitUpTo(timeout));
        }

        /**
         * Takes each call's key from its argument. With a lambda, give the argument's type
         * ({@code key((Request r) -> r.user())}) or a method reference ({@code key(Request::user)}).
         *
         * @param keyOf the key of a call's argument; a {@code null} key fails the call with
         *              {@link NullPointerException}
         * @param <A>   the argument type
         * @return a decorator of one-argument calls
         * @throws NullPointerException if {@code keyOf} is {@code null}
         */
        public <A> ByArgument<K, A> key(Function<? super A, ? extends K> keyOf) {
            return new ByArgument<>(gate, Objects.requireNonNull(keyOf, "keyOf"));
        }

        /**
         * Takes each call's key from its two arguments.
         *
         * @param keyOf the key of a call's arguments; a {@code null} key fails the call with
         *              {@link NullPointerException}
         * @param <A>   the first argument's type
         * @param <B>   the second argument's type
         * @return a decorator of two-argument calls
         * @throws NullPointerException if {@code keyOf} is {@code null}
         */
        public <A, B> ByArguments<K, A, B> key(BiFunction<? super A, ? super B, ? extends K> keyOf) {
            return new ByArguments<>(gate, Objects.requireNonNull(keyOf, "keyOf"));
        }
    }

    /**
     * Decorates one-argument calls, each taking its permits from the key of its argument.
     * Immutable and thread-safe.
     *
     * @param <K> the key type
     * @param <A> the argument type
     */
    public static final class ByArgument<K, A> {
        private final Gate gate;
        private final Function<? super A, ? extends K> keyOf;

        private ByArgument(Gate gate, Function<? super A, ? extends K> keyOf) {
            this.gate = gate;
            this.keyOf = keyOf;
        }

        /**
         * @param fallback makes a refused call's result from its refusal
         * @param <R>      the result type
         * @return a decorator answering refusals with {@code fallback}
         * @throws NullPointerException if {@code fallback} is {@code null}
         */
        public <R> ByArgumentWithFallback<K, A, R> withFallback(
                Function<? super RateLimitExceededException, ? extends R> fallback) {
            return new ByArgumentWithFallback<>(this, Objects.requireNonNull(fallback, "fallback"));
        }

        /**
         * @param call the call to limit
         * @param <R>  the result type
         * @return a function that takes the permits of its argument's key, then applies {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <R> Function<A, R> function(Function<? super A, ? extends R> call) {
            Objects.requireNonNull(call, "call");
            return a -> {
                gate.acquireOrThrow(keyOf.apply(a));
                return call.apply(a);
            };
        }

        /**
         * Limits an asynchronous call: a refused call is not started, and the stage returned is
         * already failed with the refusal; nothing is thrown.
         *
         * @param call the asynchronous call to limit
         * @param <R>  the result type
         * @return a function that takes the permits of its argument's key, then starts {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <R> Function<A, CompletionStage<R>> completionStage(
                Function<? super A, ? extends CompletionStage<R>> call) {
            Objects.requireNonNull(call, "call");
            return a -> gate.stage(keyOf.apply(a), () -> call.apply(a), null);
        }
    }

    /**
     * Decorates one-argument calls keyed by their argument, answering refusals with a fallback.
     * Immutable and thread-safe.
     *
     * @param <K> the key type
     * @param <A> the argument type
     * @param <R> the result type
     */
    public static final class ByArgumentWithFallback<K, A, R> {
        private final ByArgument<K, A> by;
        private final Function<? super RateLimitExceededException, ? extends R> fallback;

        private ByArgumentWithFallback(ByArgument<K, A> by,
                                       Function<? super RateLimitExceededException, ? extends R> fallback) {
            this.by = by;
            this.fallback = fallback;
        }

        /**
         * @param call the call to limit
         * @return a function that takes the permits of its argument's key, then applies
         *     {@code call}, or answers by the fallback
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public Function<A, R> function(Function<? super A, ? extends R> call) {
            Objects.requireNonNull(call, "call");
            return a -> {
                RateLimitExceededException refused = by.gate.acquireUninterruptibly(by.keyOf.apply(a));
                return refused != null ? fallback.apply(refused) : call.apply(a);
            };
        }

        /**
         * Limits an asynchronous call: a refused call is not started, and the stage returned is
         * already completed with the fallback's result (or failed with what the fallback threw).
         *
         * @param call the asynchronous call to limit
         * @return a function that takes the permits of its argument's key, then starts {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public Function<A, CompletionStage<R>> completionStage(Function<? super A, ? extends CompletionStage<R>> call) {
            Objects.requireNonNull(call, "call");
            return a -> by.gate.stage(by.keyOf.apply(a), () -> call.apply(a), fallback);
        }
    }

    /**
     * Decorates two-argument calls, each taking its permits from the key of its arguments.
     * Immutable and thread-safe.
     *
     * @param <K> the key type
     * @param <A> the first argument's type
     * @param <B> the second argument's type
     */
    public static final class ByArguments<K, A, B> {
        private final Gate gate;
        private final BiFunction<? super A, ? super B, ? extends K> keyOf;

        private ByArguments(Gate gate, BiFunction<? super A, ? super B, ? extends K> keyOf) {
            this.gate = gate;
            this.keyOf = keyOf;
        }

        /**
         * @param fallback makes a refused call's result from its refusal
         * @param <R>      the result type
         * @return a decorator answering refusals with {@code fallback}
         * @throws NullPointerException if {@code fallback} is {@code null}
         */
        public <R> ByArgumentsWithFallback<K, A, B, R> withFallback(
                Function<? super RateLimitExceededException, ? extends R> fallback) {
            return new ByArgumentsWithFallback<>(this, Objects.requireNonNull(fallback, "fallback"));
        }

        /**
         * @param call the call to limit
         * @param <R>  the result type
         * @return a function that takes the permits of its arguments' key, then applies {@code call}
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public <R> BiFunction<A, B, R> biFunction(BiFunction<? super A, ? super B, ? extends R> call) {
            Objects.requireNonNull(call, "call");
            return (a, b) -> {
                gate.acquireOrThrow(keyOf.apply(a, b));
                return call.apply(a, b);
            };
        }
    }

    /**
     * Decorates two-argument calls keyed by their arguments, answering refusals with a fallback.
     * Immutable and thread-safe.
     *
     * @param <K> the key type
     * @param <A> the first argument's type
     * @param <B> the second argument's type
     * @param <R> the result type
     */
    public static final class ByArgumentsWithFallback<K, A, B, R> {
        private final ByArguments<K, A, B> by;
        private final Function<? super RateLimitExceededException, ? extends R> fallback;

        private ByArgumentsWithFallback(ByArguments<K, A, B> by,
                                        Function<? super RateLimitExceededException, ? extends R> fallback) {
            this.by = by;
            this.fallback = fallback;
        }

        /**
         * @param call the call to limit
         * @return a function that takes the permits of its arguments' key, then applies
         *     {@code call}, or answers by the fallback
         * @throws NullPointerException if {@code call} is {@code null}
         */
        public BiFunction<A, B, R> biFunction(BiFunction<? super A, ? super B, ? extends R> call) {
            Objects.requireNonNull(call, "call");
            return (a, b) -> {
                RateLimitExceededException refused = by.gate.acquireUninterruptibly(by.keyOf.apply(a, b));
                return refused != null ? fallback.apply(refused) : call.apply(a, b);
            };
        }
    }
}

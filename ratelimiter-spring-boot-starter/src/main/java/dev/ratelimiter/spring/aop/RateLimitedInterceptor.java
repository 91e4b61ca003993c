package dev.ratelimiter.spring.aop;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import dev.ratelimiter.Decision;
import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.spring.NamedLimiter;
import dev.ratelimiter.spring.NamedLimiters;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ObjectProvider;

/** Decides each call of a {@code @RateLimited} method before it runs. */
final class RateLimitedInterceptor implements MethodInterceptor {

    private final Map<Method, RateLimitedMethod> methods;
    private final ObjectProvider<NamedLimiters> limiters;
    private final Map<Method, RateLimitedMethod> bySpecific = new ConcurrentHashMap<>();

    /**
     * @param methods  the checked methods, by their declaration in the bean's class
     * @param limiters the limiters, looked up on the first call
     */
    RateLimitedInterceptor(Map<Method, RateLimitedMethod> methods, ObjectProvider<NamedLimiters> limiters) {
        this.methods = methods;
        this.limiters = limiters;
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Object target = invocation.getThis();
        RateLimitedMethod m = find(invocation.getMethod(), target);
        if (m == null) {
            return invocation.proceed();
        }
        Object[] args = invocation.getArguments();
        String key = m.key(target, args);
        NamedLimiter limiter = m.limiter;
        if (limiter == null) {
            // Named limiters never change identity (a refresh reconfigures them): look up once.
            limiter = limiters.getObject().get(m.limitName);
            m.limiter = limiter;
        }
        switch (m.kind) {
            case COMPLETION_STAGE:
                return stage(invocation, m, limiter, key, target, args);
            case MONO:
                return Reactive.mono(invocation, m, limiter, key, target, args);
            case FLUX:
                return Reactive.flux(invocation, m, limiter, key, target, args);
            default:
                Decision decision = limiter.decide(key, m.permits);
                if (decision.isAllowed()) {
                    return invocation.proceed();
                }
                RateLimitExceededException refusal = new RateLimitExceededException(m.limitName, key, decision);
                if (m.hasFallback()) {
                    return m.fallback(target, args, refusal);
                }
                throw refusal;
        }
    }

    private RateLimitedMethod find(Method method, Object target) {
        RateLimitedMethod m = methods.get(method);
        if (m != null || target == null) {
            return m;
        }
        return bySpecific.computeIfAbsent(method,
                k -> methods.get(AopUtils.getMostSpecificMethod(k, target.getClass())));
    }

    private static Object stage(MethodInvocation invocation, RateLimitedMethod m, NamedLimiter limiter, String key,
                                Object target, Object[] args) {
        CompletableFuture<Decision> decided = limiter.decideAsync(key, m.permits).toCompletableFuture();
        if (decided.isDone()) {
            return after(invocation, m, key, target, args, decided.join());
        }
        // A Redis reply completes on Lettuce's event loop: the method runs elsewhere.
        return decided.thenComposeAsync(decision -> after(invocation, m, key, target, args, decision));
    }

    @SuppressWarnings("unchecked")
    private static CompletionStage<Object> after(MethodInvocation invocation, RateLimitedMethod m, String key,
                                                 Object target, Object[] args, Decision decision) {
        try {
            if (decision.isAllowed()) {
                return (CompletionStage<Object>) invocation.proceed();
            }
            RateLimitExceededException refusal = new RateLimitExceededException(m.limitName, key, decision);
            if (m.hasFallback()) {
                return (CompletionStage<Object>) m.fallback(target, args, refusal);
            }
            return CompletableFuture.failedFuture(refusal);
        } catch (Throwable t) {
            return CompletableFuture.failedFuture(t);
        }
    }

    /** The Reactor returns, named only when Reactor is on the class path. */
    static final class Reactive {
        private Reactive() {
        }

        static Object mono(MethodInvocation invocation, RateLimitedMethod m, NamedLimiter limiter, String key,
                           Object target, Object[] args) throws Throwable {
            reactor.core.publisher.Mono<?> body = (reactor.core.publisher.Mono<?>) invocation.proceed();
            return reactor.core.publisher.Mono.defer(() -> reactor.core.publisher.Mono.fromCompletionStage(
                            limiter.decideAsync(key, m.permits)))
                    .flatMap(decision -> {
                        if (decision.isAllowed()) {
                            return body;
                        }
                        RateLimitExceededException refusal = new RateLimitExceededException(m.limitName, key, decision);
                        if (!m.hasFallback()) {
                            return reactor.core.publisher.Mono.error(refusal);
                        }
                        try {
                            return (reactor.core.publisher.Mono<?>) m.fallback(target, args, refusal);
                        } catch (Throwable t) {
                            return reactor.core.publisher.Mono.error(t);
                        }
                    });
        }

        static Object flux(MethodInvocation invocation, RateLimitedMethod m, NamedLimiter limiter, String key,
                           Object target, Object[] args) throws Throwable {
            reactor.core.publisher.Flux<?> body = (reactor.core.publisher.Flux<?>) invocation.proceed();
            return reactor.core.publisher.Mono.defer(() -> reactor.core.publisher.Mono.fromCompletionStage(
                            limiter.decideAsync(key, m.permits)))
                    .flatMapMany(decision -> {
                        if (decision.isAllowed()) {
                            return body;
                        }
                        RateLimitExceededException refusal = new RateLimitExceededException(m.limitName, key, decision);
                        if (!m.hasFallback()) {
                            return reactor.core.publisher.Flux.error(refusal);
                        }
                        try {
                            return (reactor.core.publisher.Flux<?>) m.fallback(target, args, refusal);
                        } catch (Throwable t) {
                            return reactor.core.publisher.Flux.error(t);
                        }
                    });
        }
    }
}

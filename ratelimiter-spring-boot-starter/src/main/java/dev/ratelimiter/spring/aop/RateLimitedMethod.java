package dev.ratelimiter.spring.aop;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionStage;

import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.spring.RateLimited;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelCompilerMode;
import org.springframework.expression.spel.SpelParserConfiguration;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.StandardEvaluationContext;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * One method under {@link RateLimited}, checked once when its bean is made: the parsed key
 * expression, the kind of its return, the fallback method resolved.
 */
final class RateLimitedMethod {

    /** What the method returns, which decides how a refusal is signalled. */
    enum Kind { PLAIN, COMPLETION_STAGE, MONO, FLUX }

    /** Compiles an expression to bytecode once it has run a few times with the same types. */
    private static final SpelExpressionParser PARSER = new SpelExpressionParser(
            new SpelParserConfiguration(SpelCompilerMode.MIXED, RateLimitedMethod.class.getClassLoader()));
    private static final ParameterNameDiscoverer NAMES = new DefaultParameterNameDiscoverer();

    final Method method;
    final String limitName;
    final long permits;
    final Kind kind;
    private final Expression key;
    /** The argument a key of the form {@code #name} or {@code #p0} is, or -1: no SpEL at all then. */
    private final int keyArgument;
    /** The parameters' names, read once, and their aliases {@code p0} and {@code a0}. */
    private final String[] parameterNames;
    private final String[] pAliases;
    private final String[] aAliases;
    private final BeanFactoryResolver beans;
    /** The limiter, looked up at the first call. */
    volatile dev.ratelimiter.spring.NamedLimiter limiter;
    private final Method fallback;
    private final boolean fallbackTakesRefusal;

    private RateLimitedMethod(Method method, RateLimited annotation, Kind kind, Expression key, Method fallback,
                              boolean fallbackTakesRefusal, BeanFactory beanFactory) {
        this.method = method;
        this.limitName = annotation.name();
        this.permits = annotation.permits();
        this.kind = kind;
        this.key = key;
        String[] names = NAMES.getParameterNames(method);
        this.parameterNames = names != null ? names : new String[0];
        int n = method.getParameterCount();
        this.pAliases = new String[n];
        this.aAliases = new String[n];
        for (int i = 0; i < n; i++) {
            pAliases[i] = "p" + i;
            aAliases[i] = "a" + i;
        }
        this.keyArgument = key == null ? -1 : argumentOf(annotation.key().strip(), this.parameterNames);
        this.beans = beanFactory == null ? null : new BeanFactoryResolver(beanFactory);
        this.fallback = fallback;
        this.fallbackTakesRefusal = fallbackTakesRefusal;
    }

    static String describe(Method m) {
        StringBuilder sb = new StringBuilder(m.getDeclaringClass().getName()).append('.').append(m.getName()).append('(');
        Class<?>[] types = m.getParameterTypes();
        for (int i = 0; i < types.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(types[i].getSimpleName());
        }
        return sb.append(')').toString();
    }

    /**
     * @throws IllegalStateException naming the method if the annotation cannot work on it
     */
    static RateLimitedMethod of(Method method, RateLimited annotation, BeanFactory beanFactory) {
        String where = "@RateLimited on " + describe(method) + ": ";
        if (annotation.name().isBlank()) {
            throw new IllegalStateException(where + "name must name a limit of ratelimiter.limits: name=\""
                    + annotation.name() + "\"");
        }
        if (annotation.permits() <= 0) {
            throw new IllegalStateException(where + "permits must be > 0: permits=" + annotation.permits());
        }
        Kind kind = kindOf(method.getReturnType());
        Expression key = null;
        if (!annotation.key().isEmpty()) {
            try {
                key = PARSER.parseExpression(annotation.key());
            } catch (ParseException e) {
                throw new IllegalStateException(where + "key is not a valid SpEL expression: key=\"" + annotation.key()
                        + "\": " + e.getMessage(), e);
            }
        }
        Method fallback = null;
        boolean takesRefusal = false;
        if (!annotation.fallbackMethod().isEmpty()) {
            fallback = findFallback(method, annotation.fallbackMethod(), where);
            takesRefusal = fallback.getParameterCount() == method.getParameterCount() + 1;
            ReflectionUtils.makeAccessible(fallback);
        }
        return new RateLimitedMethod(method, annotation, kind, key, fallback, takesRefusal, beanFactory);
    }

    private static Kind kindOf(Class<?> type) {
        if (CompletionStage.class.isAssignableFrom(type)) {
            return Kind.COMPLETION_STAGE;
        }
        if (Reactive.PRESENT && Reactive.isMono(type)) {
            return Kind.MONO;
        }
        if (Reactive.PRESENT && Reactive.isFlux(type)) {
            return Kind.FLUX;
        }
        return Kind.PLAIN;
    }

    private static Method findFallback(Method method, String name, String where) {
        Class<?>[] params = method.getParameterTypes();
        List<Method> sameName = new ArrayList<>();
        for (Class<?> c = method.getDeclaringClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && !m.isBridge() && !m.isSynthetic()) {
                    sameName.add(m);
                }
            }
        }
        for (Method m : sameName) {
            Class<?>[] p = m.getParameterTypes();
            boolean plain = Arrays.equals(p, params);
            boolean withRefusal = p.length == params.length + 1
                    && Arrays.equals(Arrays.copyOf(p, params.length), params)
                    && p[params.length].isAssignableFrom(RateLimitExceededException.class);
            if (!plain && !withRefusal) {
                continue;
            }
            if (!ClassUtils.isAssignable(method.getReturnType(), m.getReturnType())) {
                throw new IllegalStateException(where + "fallbackMethod \"" + name + "\" returns "
                        + m.getReturnType().getName() + ", which is not assignable to the method's return type "
                        + method.getReturnType().getName() + ": " + describe(m));
            }
            return m;
        }
        String expected = name + "(" + names(params) + ") or " + name + "(" + names(params)
                + (params.length == 0 ? "" : ", ") + "RateLimitExceededException) returning "
                + method.getReturnType().getSimpleName();
        throw new IllegalStateException(where + "fallbackMethod \"" + name + "\" does not fit: expected "
                + expected + (sameName.isEmpty() ? "; no method has that name"
                : "; found " + sameName.stream().map(RateLimitedMethod::describe).toList()));
    }

    private static String names(Class<?>[] types) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < types.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(types[i].getSimpleName());
        }
        return sb.toString();
    }

    /** The index of the argument {@code expression} names alone ({@code #id}, {@code #p0}, {@code #a0}), or -1. */
    private static int argumentOf(String expression, String[] names) {
        if (!expression.startsWith("#")) {
            return -1;
        }
        String name = expression.substring(1);
        for (int i = 0; i < names.length; i++) {
            if (name.equals(names[i])) {
                return i;
            }
        }
        if (name.matches("[pa][0-9]{1,3}")) {
            int i = Integer.parseInt(name.substring(1));
            return i < names.length ? i : -1;
        }
        return -1;
    }

    /** The key of a call: the expression's value as a string, or the limit's name without one. */
    String key(Object target, Object[] args) {
        if (key == null) {
            return limitName;
        }
        Object value;
        if (keyArgument >= 0) {
            value = args[keyArgument];
        } else {
            StandardEvaluationContext context = new StandardEvaluationContext(target);
            for (int i = 0; i < args.length; i++) {
                if (i < parameterNames.length) {
                    context.setVariable(parameterNames[i], args[i]);
                }
                context.setVariable(pAliases[i], args[i]);
                context.setVariable(aAliases[i], args[i]);
            }
            if (beans != null) {
                context.setBeanResolver(beans);
            }
            value = key.getValue(context);
        }
        if (value == null) {
            throw new IllegalArgumentException("@RateLimited on " + describe(method) + ": the key expression \""
                    + key.getExpressionString() + "\" gave null for the arguments " + Arrays.toString(args));
        }
        return value.toString();
    }

    boolean hasFallback() {
        return fallback != null;
    }

    /** Calls the fallback with the call's arguments (and the refusal, if it takes it). */
    Object fallback(Object target, Object[] args, RateLimitExceededException refusal) throws Throwable {
        Object[] actual = args;
        if (fallbackTakesRefusal) {
            actual = Arrays.copyOf(args, args.length + 1);
            actual[args.length] = refusal;
        }
        try {
            return fallback.invoke(Modifier.isStatic(fallback.getModifiers()) ? null : target, actual);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Reactor is optional: its types are named only when it is on the class path. */
    static final class Reactive {
        static final boolean PRESENT = ClassUtils.isPresent("reactor.core.publisher.Mono",
                RateLimitedMethod.class.getClassLoader());

        static boolean isMono(Class<?> type) {
            return reactor.core.publisher.Mono.class.isAssignableFrom(type);
        }

        static boolean isFlux(Class<?> type) {
            return reactor.core.publisher.Flux.class.isAssignableFrom(type);
        }
    }
}

package dev.ratelimiter.spring.aop;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ratelimiter.spring.NamedLimiters;
import dev.ratelimiter.spring.RateLimited;

import org.springframework.aop.framework.ProxyFactory;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Proxies every bean with a {@link RateLimited} method (or class), checking each annotation when
 * the bean is made: a limit's name, the key expression, the permits and the fallback's
 * signature. A mistake fails start-up naming the method. The names are checked against the
 * configured limits once every bean is made.
 */
public class RateLimitedBeanPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor
        implements SmartInitializingSingleton {

    private static final long serialVersionUID = 1L;

    private final transient ObjectProvider<NamedLimiters> limiters;
    private final transient List<RateLimitedMethod> checked = new ArrayList<>();
    private transient BeanFactory beanFactory;

    /**
     * @param limiters the configured limiters, looked up once beans are made
     */
    public RateLimitedBeanPostProcessor(ObjectProvider<NamedLimiters> limiters) {
        this.limiters = limiters;
        setBeforeExistingAdvisors(true);
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        super.setBeanFactory(beanFactory);
        this.beanFactory = beanFactory;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        Class<?> type = AopUtils.getTargetClass(bean);
        Map<Method, RateLimitedMethod> methods;
        try {
            methods = annotated(type);
        } catch (IllegalStateException e) {
            throw new BeanCreationException(beanName, e.getMessage(), e);
        }
        if (methods.isEmpty()) {
            return bean;
        }
        synchronized (checked) {
            checked.addAll(methods.values());
        }
        RateLimitedInterceptor interceptor = new RateLimitedInterceptor(methods, limiters);
        DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(new StaticMethodMatcherPointcut() {
            @Override
            public boolean matches(Method method, Class<?> targetClass) {
                return methods.containsKey(method)
                        || methods.containsKey(AopUtils.getMostSpecificMethod(method, targetClass));
            }
        }, interceptor);
        if (bean instanceof org.springframework.aop.framework.Advised advised && !advised.isFrozen()
                && isEligible(AopUtils.getTargetClass(bean))) {
            advised.addAdvisor(0, advisor);
            return bean;
        }
        ProxyFactory factory = prepareProxyFactory(bean, beanName);
        if (!factory.isProxyTargetClass()) {
            evaluateProxyInterfaces(bean.getClass(), factory);
        }
        factory.addAdvisor(advisor);
        customizeProxyFactory(factory);
        ClassLoader loader = ClassUtils.getDefaultClassLoader();
        return factory.getProxy(loader);
    }

    private Map<Method, RateLimitedMethod> annotated(Class<?> type) {
        Map<Method, RateLimitedMethod> found = new LinkedHashMap<>();
        RateLimited onClass = AnnotatedElementUtils.findMergedAnnotation(type, RateLimited.class);
        ReflectionUtils.doWithMethods(type, method -> {
            RateLimited on = AnnotatedElementUtils.findMergedAnnotation(method, RateLimited.class);
            if (on == null && onClass != null && Modifier.isPublic(method.getModifiers())
                    && !Modifier.isStatic(method.getModifiers()) && method.getDeclaringClass() != Object.class
                    && !method.isSynthetic()) {
                on = onClass;
            }
            if (on != null && !found.containsKey(method)) {
                if (Modifier.isPrivate(method.getModifiers()) || Modifier.isStatic(method.getModifiers())
                        || Modifier.isFinal(method.getModifiers())) {
                    throw new IllegalStateException("@RateLimited on " + RateLimitedMethod.describe(method)
                            + ": a private, static or final method cannot be intercepted by a Spring proxy");
                }
                found.put(method, RateLimitedMethod.of(method, on, beanFactory));
            }
        }, ReflectionUtils.USER_DECLARED_METHODS);
        return found;
    }

    /** Checks every annotation's limit name against {@code ratelimiter.limits}, once beans are made. */
    @Override
    public void afterSingletonsInstantiated() {
        List<RateLimitedMethod> all;
        synchronized (checked) {
            all = List.copyOf(checked);
        }
        if (all.isEmpty()) {
            return;
        }
        NamedLimiters named = limiters.getObject();
        for (RateLimitedMethod m : all) {
            if (named.find(m.limitName).isEmpty()) {
                throw new IllegalStateException("@RateLimited on " + RateLimitedMethod.describe(m.method)
                        + ": name=\"" + m.limitName + "\" is not a limit of ratelimiter.limits; the limits are "
                        + named.all().stream().map(l -> l.name()).toList());
            }
        }
    }
}

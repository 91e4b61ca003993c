package dev.ratelimiter.spring.autoconfigure;

import java.util.List;

import dev.ratelimiter.spring.NamedLimiters;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;

/**
 * Reads {@code ratelimiter.limits} from the environment again and reconfigures the running
 * limiters whose limit changed, keeping each key's state: on {@link #refresh()} (the Actuator
 * endpoint's write operation), and on Spring Cloud's {@code EnvironmentChangeEvent} when the
 * application has Spring Cloud (an {@code /actuator/refresh}, a config-server push).
 */
public class RateLimiterPropertiesRefresher implements ApplicationListener<ApplicationEvent> {

    private static final String ENVIRONMENT_CHANGE = "org.springframework.cloud.context.environment.EnvironmentChangeEvent";

    private final Environment environment;
    private final NamedLimiters limiters;

    /**
     * @param environment the application's environment
     * @param limiters    the running limiters
     */
    public RateLimiterPropertiesRefresher(Environment environment, NamedLimiters limiters) {
        this.environment = environment;
        this.limiters = limiters;
    }

    /**
     * @return the names of the limits reconfigured or added
     * @throws InvalidRateLimiterPropertyException if a property is bad now; nothing is changed
     * @throws IllegalArgumentException            if a change cannot be made at run time; nothing is changed
     */
    public List<String> refresh() {
        RateLimiterProperties now = Binder.get(environment)
                .bind(RateLimiterProperties.PREFIX, RateLimiterProperties.class)
                .orElseGet(RateLimiterProperties::new);
        return limiters.apply(LimitDefinition.read(now));
    }

    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        if (event.getClass().getName().equals(ENVIRONMENT_CHANGE)) {
            refresh();
        }
    }
}

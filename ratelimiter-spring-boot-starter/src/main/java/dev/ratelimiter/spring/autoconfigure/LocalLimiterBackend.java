package dev.ratelimiter.spring.autoconfigure;

import java.util.List;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.Ticker;
import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import dev.ratelimiter.local.LocalCompositeKeyedRateLimiter;
import dev.ratelimiter.local.LocalKeyedRateLimiter;
import dev.ratelimiter.local.LocalRateLimiterFactory;
import dev.ratelimiter.local.LocalRateLimiters;
import dev.ratelimiter.spring.LimiterBackend;
import dev.ratelimiter.spring.NamedLimiter;

/** The in-process limiters, on the application's {@link Ticker} (the system clock by default). */
final class LocalLimiterBackend implements LimiterBackend {

    private final Ticker ticker;
    private final RateLimiterListener listener;

    /**
     * @param ticker   the clock of every limiter
     * @param listener told of every limiter's events, or {@code null}
     */
    LocalLimiterBackend(Ticker ticker, RateLimiterListener listener) {
        this.ticker = ticker;
        this.listener = listener;
    }

    @Override
    public NamedLimiter create(LimitDefinition d) {
        if (d.composite()) {
            LocalCompositeKeyedRateLimiter<String, String> composite = LocalCompositeKeyedRateLimiter
                    .<String, String>builder(key -> key, List.of(), d.limits())
                    .ticker(ticker).maxKeys(d.maxKeys()).build();
            KeyedRateLimiter<String> limiter = listener == null ? composite
                    : new ListenedKeyedRateLimiter<>(d.name(), composite, listener, ticker);
            return new NamedLimiter(d, limiter, null, composite::size);
        }
        LocalRateLimiterFactory.Builder factory = LocalRateLimiters.factoryBuilder().ticker(ticker).maxKeys(d.maxKeys());
        if (listener != null) {
            factory.listener(listener);
        }
        KeyedRateLimiter<String> limiter = factory.build().keyed(d.name(), d.limits().get(0));
        LocalKeyedRateLimiter<?> local = limiter instanceof ListenedKeyedRateLimiter<?> listened
                ? (LocalKeyedRateLimiter<?>) listened.delegate() : (LocalKeyedRateLimiter<?>) limiter;
        return new NamedLimiter(d, limiter, null, local::size);
    }
}

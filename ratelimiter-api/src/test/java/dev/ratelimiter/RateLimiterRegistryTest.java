package dev.ratelimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterRegistryTest {

    private static final TokenBucket TEN = TokenBucket.of(10, 10, Duration.ofSeconds(1));
    private static final TokenBucket TWENTY = TokenBucket.of(20, 20, Duration.ofSeconds(1));

    /** Makes {@link TestBucket}s and counts what it made. */
    static class CountingFactory implements RateLimiterFactory {
        final AtomicLong clock = new AtomicLong();
        final AtomicInteger created = new AtomicInteger();

        @Override
        public RateLimiter create(String name, Limit limit) {
            created.incrementAndGet();
            return new TestBucket((TokenBucket) limit, clock);
        }

        @Override
        public KeyedRateLimiter<String> keyed(String name, Limit limit) {
            created.incrementAndGet();
            return new TestKeyed((TokenBucket) limit, clock);
        }

        @Override
        public RateLimiterFactory withListener(RateLimiterListener listener) {
            return this;
        }
    }

    private final CountingFactory factory = new CountingFactory();
    private final RateLimiterRegistry registry = RateLimiterRegistry.of(factory);

    @Test
    void aNameIsCreatedOnceAndReturnedEverAfter() {
        RateLimiter first = registry.limiter("search", TEN);
        RateLimiter again = registry.limiter("search", TokenBucket.of(10, 10, Duration.ofMillis(1000)));
        KeyedRateLimiter<String> keyed = registry.keyed("per-user", TEN);

        assertThat(again).isSameAs(first);
        assertThat(registry.keyed("per-user", TEN)).isSameAs(keyed);
        assertThat(factory.created).hasValue(2);
        assertThat(registry.find("search")).containsSame(first);
        assertThat(registry.findKeyed("per-user")).containsSame(keyed);
        assertThat(registry.find("nope")).isEmpty();
        assertThat(registry.find("per-user")).as("a keyed name is not a single limiter").isEmpty();
        assertThat(registry.findKeyed("search")).isEmpty();
        assertThat(registry.factory()).isSameAs(factory);
    }

    @Test
    void aNameReusedWithAnotherLimitIsRefusedNamingTheNameAndBothLimits() {
        registry.limiter("search", TEN);
        assertThatThrownBy(() -> registry.limiter("search", TWENTY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name search is already registered with another limit (use reconfigure to change it): "
                        + "name=search, limit=" + TWENTY + ", registered limit=" + TEN);
        registry.keyed("per-user", TEN);
        assertThatThrownBy(() -> registry.keyed("per-user", TWENTY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("name=per-user, limit=" + TWENTY + ", registered limit=" + TEN);
        assertThat(factory.created).hasValue(2);
    }

    @Test
    void aNameHoldsOneKindOfLimiter() {
        registry.limiter("search", TEN);
        assertThatThrownBy(() -> registry.keyed("search", TEN))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name search holds a single limiter, not a keyed one: name=search, limit=" + TEN
                        + ", registered limit=" + TEN);
        registry.keyed("per-user", TEN);
        assertThatThrownBy(() -> registry.limiter("per-user", TEN))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("name per-user holds a keyed limiter, not a single one");
    }

    @Test
    void entriesListEveryLimiterByNameWithItsCurrentLimit() {
        registry.limiter("b-search", TEN);
        registry.keyed("a-per-user", TWENTY);
        assertThat(registry.entries()).containsExactly(
                new RateLimiterRegistry.Entry("a-per-user", TWENTY, RateLimiterRegistry.Kind.KEYED),
                new RateLimiterRegistry.Entry("b-search", TEN, RateLimiterRegistry.Kind.SINGLE));
    }

    @Test
    void reconfigureGoesToTheLimiterAndTheNewLimitIsTheRegisteredOne() {
        RateLimiter search = registry.limiter("search", TEN);
        KeyedRateLimiter<String> perUser = registry.keyed("per-user", TEN);
        registry.reconfigure("search", TWENTY);
        registry.reconfigure("per-user", TWENTY);

        assertThat(search.limit()).isEqualTo(TWENTY);
        assertThat(perUser.limit()).isEqualTo(TWENTY);
        assertThat(registry.limiter("search", TWENTY)).isSameAs(search);
        assertThat(registry.keyed("per-user", TWENTY)).isSameAs(perUser);
        assertThatThrownBy(() -> registry.limiter("search", TEN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("registered limit=" + TWENTY);
        assertThat(registry.entries()).extracting(RateLimiterRegistry.Entry::limit).containsOnly(TWENTY);
    }

    @Test
    void reconfigureRefusesAnUnknownNameAndPassesOnTheLimitersRefusal() {
        assertThatThrownBy(() -> registry.reconfigure("nope", TEN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must be a registered limiter's: name=nope");
        registry.keyed("per-user", TEN);
        assertThatThrownBy(() -> registry.reconfigure("per-user", SlidingWindow.log(1, Duration.ofSeconds(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("limit must be of the same family");
    }

    @Test
    void badArgumentsAreRefusedNamingTheParameter() {
        assertThatThrownBy(() -> RateLimiterRegistry.of(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("factory");
        assertThatThrownBy(() -> registry.limiter(null, TEN)).isInstanceOf(NullPointerException.class)
                .hasMessage("name");
        assertThatThrownBy(() -> registry.limiter("x", null)).isInstanceOf(NullPointerException.class)
                .hasMessage("limit");
        assertThatThrownBy(() -> registry.keyed("", TEN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not be empty: name=\"\"");
        assertThatThrownBy(() -> registry.reconfigure("x", null)).isInstanceOf(NullPointerException.class)
                .hasMessage("limit");
        assertThat(factory.created).hasValue(0);
    }

    @Test
    void aFactoryThatFailsRegistersNothing() {
        RateLimiterRegistry failing = RateLimiterRegistry.of(new CountingFactory() {
            @Override
            public RateLimiter create(String name, Limit limit) {
                throw new IllegalArgumentException("refused: name=" + name);
            }
        });
        assertThatThrownBy(() -> failing.limiter("x", TEN)).hasMessage("refused: name=x");
        assertThat(failing.entries()).isEmpty();
    }

    @Test
    void eightThreadsAskingForOneNameAtOnceGetOneLimiter() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 50; round++) {
                String name = "limiter-" + round;
                CountDownLatch start = new CountDownLatch(1);
                List<Future<RateLimiter>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await();
                        return registry.limiter(name, TEN);
                    }));
                }
                start.countDown();
                Set<RateLimiter> distinct = ConcurrentHashMap.newKeySet();
                for (Future<RateLimiter> f : results) {
                    distinct.add(f.get(10, TimeUnit.SECONDS));
                }
                assertThat(distinct).hasSize(1);
            }
            assertThat(factory.created).hasValue(50);
        } finally {
            pool.shutdownNow();
        }
    }
}

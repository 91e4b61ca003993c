package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Decorators;
import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.RateLimitExceededException;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.RateLimiterFactory;
import dev.ratelimiter.RateLimiterListener;
import dev.ratelimiter.RateLimiterRegistry;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.internal.ListenedKeyedRateLimiter;
import dev.ratelimiter.internal.ListenedRateLimiter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class LocalRateLimiterFactoryTest {

    /** 2 permits, one more every second. */
    private static final TokenBucket LIMIT = TokenBucket.of(2, 1, Duration.ofSeconds(1));
    private static final long SECOND = 1_000_000_000L;

    private final FakeClock clock = new FakeClock();
    private final ListenedEvents events = new ListenedEvents();
    private final LocalRateLimiterFactory bare = LocalRateLimiters.factoryBuilder().ticker(clock).sleeper(clock).build();
    private final RateLimiterFactory listened = bare.withListener(events);

    @Test
    void withoutAListenerTheFactoryMakesTheBareLimiters() {
        RateLimiter limiter = bare.create("api", LIMIT);
        KeyedRateLimiter<String> keyed = bare.keyed("per-user", LIMIT);
        assertThat(limiter).isExactlyInstanceOf(LocalRateLimiters.create(LIMIT).getClass());
        assertThat(keyed).isInstanceOf(LocalKeyedRateLimiter.class);
        assertThat(LocalRateLimiters.factory().create("api", LIMIT)).isExactlyInstanceOf(ReconfigurableLimiter.class);
        assertThat(listened.create("api", LIMIT)).isInstanceOf(ListenedRateLimiter.class);
        assertThat(listened.keyed("per-user", LIMIT)).isInstanceOf(ListenedKeyedRateLimiter.class);
    }

    @Test
    void theBuilderSettingsReachTheLimiters() {
        LocalRateLimiterFactory factory = LocalRateLimiterFactory.builder().ticker(clock).sleeper(clock).maxKeys(3)
                .build();
        LocalKeyedRateLimiter<Integer> keyed = (LocalKeyedRateLimiter<Integer>) factory.keyed("ids", LIMIT,
                Integer.class);
        assertThat(keyed.maxKeys()).isEqualTo(3);
        RateLimiter limiter = factory.create("api", LIMIT);
        assertThat(limiter.tryAcquire(2)).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(SECOND);
        assertThat(limiter.tryAcquire()).as("the factory's clock drives the limiter").isTrue();
    }

    @Test
    void singleLimiterDecisionsAreReportedWithTheirName() throws InterruptedException {
        RateLimiter limiter = listened.create("api", LIMIT);
        Decision granted = limiter.decide(2);
        Decision denied = limiter.decide();
        assertThat(limiter.tryAcquire()).isFalse();
        assertThat(limiter.tryAcquire(1, Duration.ofSeconds(5))).isTrue();
        assertThat(limiter.tryAcquire(2, Duration.ofMillis(100))).isFalse();
        assertThat(limiter.tryAcquire(3, Duration.ofSeconds(100))).as("more than the limit").isFalse();

        assertThat(events.lines).containsExactly(
                "granted api null 2 remaining=0",
                "denied api null 1 retryAfter=" + SECOND,
                "denied api null 1",
                "waited api null 1 granted after " + SECOND,
                "waited api null 2 refused after 0",
                "waited api null 3 refused after 0");
        assertThat(events.decisions).containsExactly(granted, denied);
        assertThat(events.decisions.get(0)).isSameAs(granted);
    }

    @Test
    void keyedLimiterDecisionsAreReportedWithTheirKey() throws InterruptedException {
        KeyedRateLimiter<String> perUser = listened.keyed("per-user", LIMIT);
        assertThat(perUser.decide("alice", 2).isAllowed()).isTrue();
        assertThat(perUser.tryAcquire("alice")).isFalse();
        assertThat(perUser.tryAcquire("bob", 1, Duration.ZERO)).isTrue();
        assertThat(perUser.forKey("alice").decide().isAllowed()).isFalse();
        assertThat(events.lines).containsExactly(
                "granted per-user alice 2 remaining=0",
                "denied per-user alice 1",
                "waited per-user bob 1 granted after 0",
                "denied per-user alice 1 retryAfter=" + SECOND);
    }

    @Test
    void decoratedCallsAreReportedLikeAnyOtherDecision() {
        RateLimiter limiter = listened.create("quotes", LIMIT);
        Supplier<String> quote = Decorators.of(limiter).supplier(() -> "quote");
        assertThat(quote.get()).isEqualTo("quote");
        Supplier<String> big = Decorators.of(limiter).permits(2).withFallback(e -> "busy " + e.limiterName())
                .supplier(() -> "quote");
        assertThat(big.get()).isEqualTo("busy quotes");
        Supplier<String> patient = Decorators.of(limiter).waitUpTo(Duration.ofSeconds(1)).supplier(() -> "quote");
        assertThat(patient.get()).isEqualTo("quote");
        assertThat(patient.get()).as("waited 1 s for the refill").isEqualTo("quote");

        KeyedRateLimiter<String> perUser = listened.keyed("per-user", LIMIT);
        Function<String, String> perUserCall = Decorators.of(perUser).permits(2).key((String user) -> user)
                .function(user -> "hello " + user);
        assertThat(perUserCall.apply("alice")).isEqualTo("hello alice");
        AtomicReference<RateLimitExceededException> refused = new AtomicReference<>();
        assertThatThrownBy(() -> perUserCall.apply("alice")).isInstanceOfSatisfying(RateLimitExceededException.class,
                refused::set);

        assertThat(refused.get().limiterName()).isEqualTo("per-user");
        assertThat(refused.get().key()).isEqualTo("alice");
        assertThat(events.lines).containsExactly(
                "granted quotes null 1 remaining=1",
                "denied quotes null 2 retryAfter=" + SECOND,
                "waited quotes null 1 granted after 0",
                "waited quotes null 1 granted after " + SECOND,
                "granted per-user alice 2 remaining=0",
                "denied per-user alice 2 retryAfter=" + 2 * SECOND);
        assertThat(events.decisions.get(events.decisions.size() - 1)).isSameAs(refused.get().decision());
    }

    @Test
    void aKeyFoundFullByASweepIsReportedDroppedAsIdle() {
        KeyedRateLimiter<String> perUser = listened.keyed("per-user", LIMIT);
        assertThat(perUser.tryAcquire("alice")).isTrue();
        assertThat(perUser.tryAcquire("bob", 2)).isTrue();
        LocalKeyedRateLimiter<?> inner = (LocalKeyedRateLimiter<?>) ((ListenedKeyedRateLimiter<String>) perUser).delegate();
        inner.cleanUp();
        clock.advance(SECOND);
        inner.cleanUp(); // alice is full again, bob not yet
        clock.advance(SECOND);
        inner.cleanUp();
        assertThat(events.lines).containsExactly(
                "granted per-user alice 1",
                "granted per-user bob 2",
                "dropped per-user alice IDLE",
                "dropped per-user bob IDLE");
        assertThat(inner.size()).isZero();
    }

    @Test
    void aKeyDroppedToMakeRoomAtTheBoundIsReportedAsSuch() {
        LocalRateLimiterFactory bounded = LocalRateLimiterFactory.builder().ticker(clock).sleeper(clock).maxKeys(1)
                .listener(events).build();
        KeyedRateLimiter<String> perUser = bounded.keyed("per-user", LIMIT);
        assertThat(perUser.tryAcquire("alice")).isTrue();
        assertThat(perUser.tryAcquire("bob")).as("alice is still active: no room").isFalse();
        clock.advance(SECOND);
        assertThat(perUser.tryAcquire("bob")).as("alice is full again: dropped for bob").isTrue();
        assertThat(events.lines).containsExactly(
                "granted per-user alice 1",
                "denied per-user bob 1",
                "dropped per-user alice BOUND",
                "granted per-user bob 1");
    }

    @Test
    void anUnlistenedKeyedLimiterDropsKeysSilently() {
        LocalKeyedRateLimiter<String> perUser = (LocalKeyedRateLimiter<String>) bare.keyed("per-user", LIMIT);
        assertThat(perUser.tryAcquire("alice")).isTrue();
        clock.advance(SECOND);
        perUser.cleanUp();
        assertThat(perUser.size()).isZero();
        assertThat(events.lines).isEmpty();
    }

    @Test
    void aThrowingListenerDoesNotChangeAnyDecision() throws InterruptedException {
        FakeClock twinClock = new FakeClock();
        RateLimiter twin = LocalRateLimiters.create(SlidingWindow.log(3, Duration.ofSeconds(1)), twinClock, twinClock);
        RateLimiterListener thrower = new RateLimiterListener() {
            @Override
            public void onGranted(String limiter, Object key, long permits, Decision decision) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void onDenied(String limiter, Object key, long permits, Decision decision) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
                throw new IllegalStateException("boom");
            }
        };
        RateLimiter limiter = bare.withListener(thrower).withListener(events)
                .create("log", SlidingWindow.log(3, Duration.ofSeconds(1)));
        for (int i = 0; i < 10; i++) {
            assertThat(limiter.decide(1)).isEqualTo(twin.decide(1));
            assertThat(limiter.tryAcquire(2)).isEqualTo(twin.tryAcquire(2));
            assertThat(limiter.tryAcquire(1, Duration.ofMillis(400))).isEqualTo(twin.tryAcquire(1, Duration.ofMillis(400)));
            clock.advance(300_000_000L);
            twinClock.advance(300_000_000L);
        }
        assertThat(events.lines).as("the second listener still hears everything").hasSize(30);
    }

    @Test
    void underContentionEveryDecisionIsReportedOnceWithItsOutcome() throws Exception {
        java.util.concurrent.atomic.LongAdder grantedEvents = new java.util.concurrent.atomic.LongAdder();
        java.util.concurrent.atomic.LongAdder deniedEvents = new java.util.concurrent.atomic.LongAdder();
        RateLimiter limiter = bare.withListener(new RateLimiterListener() {
            @Override
            public void onGranted(String limiter, Object key, long permits, Decision decision) {
                grantedEvents.add(permits);
            }

            @Override
            public void onDenied(String limiter, Object key, long permits, Decision decision) {
                deniedEvents.increment();
            }
        }).create("shared", TokenBucket.of(5_000, 1, Duration.ofDays(1)));
        int threads = 4;
        int calls = 5_000;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            java.util.List<java.util.concurrent.Future<long[]>> results = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    long granted = 0;
                    long denied = 0;
                    for (int i = 0; i < calls; i++) {
                        if (limiter.tryAcquire()) {
                            granted++;
                        } else {
                            denied++;
                        }
                    }
                    return new long[] {granted, denied};
                }));
            }
            long granted = 0;
            long denied = 0;
            for (java.util.concurrent.Future<long[]> f : results) {
                long[] r = f.get(30, java.util.concurrent.TimeUnit.SECONDS);
                granted += r[0];
                denied += r[1];
            }
            assertThat(granted).as("the clock stands still: exactly the capacity").isEqualTo(5_000);
            assertThat(grantedEvents.sum()).isEqualTo(granted);
            assertThat(deniedEvents.sum()).isEqualTo(denied).isEqualTo((long) threads * calls - 5_000);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aListenerAddedLaterDoesNotReachLimitersMadeBefore() {
        RateLimiter before = bare.create("api", LIMIT);
        ListenedEvents second = new ListenedEvents();
        RateLimiterFactory both = listened.withListener(second);
        RateLimiter after = both.create("api", LIMIT);
        assertThat(before.tryAcquire()).isTrue();
        assertThat(after.tryAcquire()).isTrue();
        assertThat(events.lines).containsExactly("granted api null 1");
        assertThat(second.lines).containsExactly("granted api null 1");
    }

    @Test
    void theOtherOperationsPassThroughTheListenedWrapper() {
        RateLimiter limiter = listened.create("api", LIMIT);
        RateLimiter twin = bare.create("api", LIMIT);
        // Whatever the local limiters answer (a value, or UnsupportedOperationException while they
        // do not implement an operation), the listened one answers the same and reports nothing.
        assertThat(outcome(limiter::availablePermits)).isEqualTo(outcome(twin::availablePermits));
        assertThat(outcome(() -> limiter.peek(1))).isEqualTo(outcome(() -> twin.peek(1)));
        assertThat(outcome(limiter::drain)).isEqualTo(outcome(twin::drain));
        assertThat(events.lines).isEmpty();
    }

    private static Object outcome(Supplier<?> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            return e.getClass();
        }
    }

    @Test
    void aRegistryOnTheFactoryNamesItsLimitersInTheEvents() {
        RateLimiterRegistry registry = RateLimiterRegistry.of(listened);
        assertThat(registry.limiter("search", LIMIT).tryAcquire()).isTrue();
        assertThat(registry.keyed("per-user", LIMIT).tryAcquire("u1")).isTrue();
        assertThat(registry.limiter("search", LIMIT)).isSameAs(registry.find("search").orElseThrow());
        assertThat(events.lines).containsExactly("granted search null 1", "granted per-user u1 1");
    }

    @Test
    void badArgumentsAreRefusedNamingTheParameter() {
        assertThatThrownBy(() -> LocalRateLimiterFactory.builder().maxKeys(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxKeys must be > 0: maxKeys=0");
        assertThatThrownBy(() -> LocalRateLimiterFactory.builder().ticker(null))
                .isInstanceOf(NullPointerException.class).hasMessage("ticker");
        assertThatThrownBy(() -> LocalRateLimiterFactory.builder().sleeper(null))
                .isInstanceOf(NullPointerException.class).hasMessage("sleeper");
        assertThatThrownBy(() -> LocalRateLimiterFactory.builder().listener(null))
                .isInstanceOf(NullPointerException.class).hasMessage("listener");
        assertThatThrownBy(() -> bare.withListener(null))
                .isInstanceOf(NullPointerException.class).hasMessage("listener");
        assertThatThrownBy(() -> bare.create("", LIMIT))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("name must not be empty: name=\"\"");
        assertThatThrownBy(() -> bare.create(null, LIMIT)).isInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> bare.keyed("x", null)).isInstanceOf(NullPointerException.class).hasMessage("limit");
        assertThatThrownBy(() -> bare.create("x", null)).isInstanceOf(NullPointerException.class).hasMessage("limit");
    }

    /** The last event an event-object listener kept: it escapes, so it is really allocated. */
    private volatile dev.ratelimiter.RateLimiterEvent lastEvent;

    @Test
    void anEventObjectListenerAllocatesOneSmallRecordPerDecision() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        RateLimiter limiter = bare.withListener(RateLimiterListener.of(e -> lastEvent = e))
                .create("api", TokenBucket.of(1_000_000, 1, Duration.ofSeconds(7)));
        long id = Thread.currentThread().getId();
        int sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += limiter.tryAcquire(1 + (i & 7)) ? 1 : 0;
        }
        int calls = 100_000;
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < calls; i++) {
            sink += limiter.tryAcquire(1 + (i & 7)) ? 1 : 0;
        }
        double perDecision = (threads.getThreadAllocatedBytes(id) - before) / (double) calls;
        assertThat(sink).isPositive();
        System.out.printf("RateLimiterListener.of: %.1f bytes allocated per listened tryAcquire%n", perDecision);
        assertThat(lastEvent).isInstanceOf(dev.ratelimiter.RateLimiterEvent.class);
        // One record of four fields (a Granted or Denied event): 24 to 40 bytes by JVM layout.
        assertThat(perDecision).isBetween(16.0, 48.0);
    }

    @Test
    void aListenedDecisionAllocatesNothingWhenTheListenerIgnoresOrCountsIt() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long[] counts = new long[2];
        RateLimiterListener counting = new RateLimiterListener() {
            @Override
            public void onGranted(String limiter, Object key, long permits, Decision decision) {
                counts[0]++;
            }

            @Override
            public void onDenied(String limiter, Object key, long permits, Decision decision) {
                counts[1]++;
            }
        };
        TokenBucket big = TokenBucket.of(1_000_000, 1, Duration.ofSeconds(7));
        for (RateLimiterListener listener : new RateLimiterListener[] {new RateLimiterListener() { }, counting}) {
            LocalRateLimiterFactory factory = bare.withListener(listener);
            RateLimiter limiter = factory.create("api", big);
            KeyedRateLimiter<String> keyed = factory.keyed("per-user", big);
            assertThat(keyed.tryAcquire("k")).isTrue();
            long id = Thread.currentThread().getId();
            int sink = 0;
            for (int i = 0; i < 20_000; i++) {
                sink += limiter.tryAcquire(1 + (i & 7)) ? 1 : 0;
                sink += keyed.tryAcquire("k", 1 + (i & 7)) ? 1 : 0;
            }
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 100_000; i++) {
                sink += limiter.tryAcquire(1 + (i & 7)) ? 1 : 0;
                sink += keyed.tryAcquire("k", 1 + (i & 7)) ? 1 : 0;
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            assertThat(sink).isPositive();
            // One object per call would be at least 3.2 MB; allow for the measurement's own noise.
            assertThat(allocated).as("bytes allocated by 200,000 listened decisions").isLessThan(10_000);
        }
        assertThat(counts[0] + counts[1]).as("every decision counted, the first keyed one too").isEqualTo(240_001);
    }
}

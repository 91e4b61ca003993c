package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ratelimiter.KeyedRateLimiter;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import dev.ratelimiter.local.LocalCompositeKeyedRateLimiter;
import dev.ratelimiter.local.LocalRateLimiters;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The local composites and the Redis composite (client time, in nanoseconds, on the same fake
 * readings) decide alike on random sequences: every field of every decision, every
 * {@code tryAcquire}, every blocking acquire's outcome and wait.
 *
 * <p>The single-key composite is compared with the clock stepping backwards too. The keyed one is
 * compared with a clock that never goes back: a local key created after the keyed composite swept
 * its map at a later reading is full only from that reading on (so that a dropped key never comes
 * back fuller than it was), where an absent Redis key is full at every reading; with a clock going
 * back the local keyed composite may therefore refuse where Redis grants, never the other way.
 * Sliding window logs are not compared: the local composite does not hold them.
 */
class LocalRedisCompositeDifferentialTest {

    private static final long START = 1_000_000_000_000L;

    /** One operation: a time step, then a call on one key. */
    record Step(long deltaNanos, int kind, String key, long permits, long timeoutNanos) {
        @Override
        public String toString() {
            String call = switch (kind) {
                case 0 -> "decide(" + key + ", " + permits + ")";
                case 1 -> "tryAcquire(" + key + ", " + permits + ")";
                default -> "tryAcquire(" + key + ", " + permits + ", " + timeoutNanos + " ns)";
            };
            return (deltaNanos >= 0 ? "+" : "") + deltaNanos + " ns, " + call;
        }
    }

    private static Arbitrary<Limit> limits() {
        Arbitrary<Long> periods = Arbitraries.longs().between(1, 7).map(ms -> ms * 1_000_000L);
        Arbitrary<Integer> small = Arbitraries.integers().between(1, 5);
        Arbitrary<Integer> rates = Arbitraries.integers().between(1, 7);
        return Arbitraries.oneOf(
                Combinators.combine(small, rates, periods).as((c, r, p) -> (Limit) TokenBucket.of(c, r, Duration.ofNanos(p))),
                Combinators.combine(small, rates, periods).as((b, r, p) -> (Limit) LeakyBucket.meter(r, Duration.ofNanos(p), b)),
                Combinators.combine(small, rates, periods).as((q, r, p) -> (Limit) LeakyBucket.queue(r, Duration.ofNanos(p), q)),
                Combinators.combine(small, periods).as((l, w) -> (Limit) SlidingWindow.counter(l, Duration.ofNanos(w))));
    }

    private static Arbitrary<List<Step>> steps(boolean backwards, List<String> keys) {
        long scale = 7_000_000L;
        Arbitrary<Long> deltas = backwards
                ? Arbitraries.oneOf(Arbitraries.longs().between(-scale, 2 * scale), Arbitraries.longs().between(-3, 3),
                        Arbitraries.of(0L, 1_000_000L, -1L, 333_334L))
                : Arbitraries.oneOf(Arbitraries.longs().between(0, 2 * scale), Arbitraries.longs().between(0, 3),
                        Arbitraries.of(0L, 1_000_000L, 333_334L));
        return Combinators.combine(deltas, Arbitraries.integers().between(0, 9).map(i -> i < 5 ? 0 : i < 8 ? 1 : 2),
                        Arbitraries.of(keys), Arbitraries.longs().between(1, 6), Arbitraries.longs().between(-1, 2 * scale))
                .as(Step::new).list().ofMinSize(1).ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<Limit>> limitLists() {
        return limits().list().ofMinSize(1).ofMaxSize(3);
    }

    @Provide
    Arbitrary<List<Limit>> maybeNoLimits() {
        return limits().list().ofMinSize(0).ofMaxSize(2);
    }

    @Provide
    Arbitrary<List<Step>> oneKeySteps() {
        return steps(true, List.of("k"));
    }

    @Provide
    Arbitrary<List<Step>> keyedSteps() {
        return steps(false, List.of("a:1", "a:2", "b:1"));
    }

    private static RedisRateLimiters redis(FakeClock clock) {
        return RedisRateLimiters.builder(SharedConnection.get().async())
                .prefix(SharedConnection.freshPrefix())
                .clientTime(clock, TimeUnit.NANOSECONDS, clock.read())
                .ttlGrace(Duration.ofHours(1))
                .timeout(Duration.ofSeconds(30))
                .sleeper(clock)
                .failurePolicy(FailurePolicy.propagate())
                .build();
    }

    @Property(tries = 200)
    void singleKeyCompositeDecidesAsTheRedisComposite(@ForAll("limitLists") List<Limit> limits,
                                                      @ForAll("oneKeySteps") List<Step> steps)
            throws InterruptedException {
        FakeClock localClock = new FakeClock(START);
        FakeClock redisClock = new FakeClock(START);
        RateLimiter local = LocalRateLimiters.composite(limits, localClock, localClock);
        RateLimiter redis = redis(redisClock).composite("c", limits.toArray(new Limit[0])).forKey("k");
        replay(limits.toString(), steps, localClock, redisClock, key -> local, key -> redis);
    }

    @Property(tries = 200)
    void keyedCompositeDecidesAsTheRedisComposite(@ForAll("maybeNoLimits") List<Limit> groupLimits,
                                                  @ForAll("limitLists") List<Limit> keyLimits,
                                                  @ForAll("keyedSteps") List<Step> steps)
            throws InterruptedException {
        FakeClock localClock = new FakeClock(START);
        FakeClock redisClock = new FakeClock(START);
        Function<String, String> groupOf = key -> key.substring(0, key.indexOf(':'));
        KeyedRateLimiter<String> local = LocalCompositeKeyedRateLimiter.<String, String>builder(groupOf, groupLimits,
                keyLimits).ticker(localClock).sleeper(localClock).build();
        KeyedRateLimiter<String> redis = redis(redisClock).composite("k", groupOf, groupLimits, keyLimits);
        replay("group " + groupLimits + ", key " + keyLimits, steps, localClock, redisClock, local::forKey,
                redis::forKey);
    }

    private static void replay(String limits, List<Step> steps, FakeClock localClock, FakeClock redisClock,
                               Function<String, RateLimiter> local, Function<String, RateLimiter> redis)
            throws InterruptedException {
        StringBuilder history = new StringBuilder(limits);
        for (Step step : steps) {
            localClock.advance(step.deltaNanos());
            redisClock.set(localClock.read());
            history.append("\n  ").append(step);
            String label = history.toString();
            RateLimiter l = local.apply(step.key());
            RateLimiter r = redis.apply(step.key());
            switch (step.kind()) {
                case 0 -> assertThat(r.decide(step.permits())).as(label).isEqualTo(l.decide(step.permits()));
                case 1 -> assertThat(r.tryAcquire(step.permits())).as(label).isEqualTo(l.tryAcquire(step.permits()));
                default -> {
                    long before = localClock.read();
                    boolean expected = l.tryAcquire(step.permits(), Duration.ofNanos(step.timeoutNanos()));
                    boolean actual = r.tryAcquire(step.permits(), Duration.ofNanos(step.timeoutNanos()));
                    assertThat(actual).as(label).isEqualTo(expected);
                    assertThat(redisClock.read() - before).as("waited, " + label).isEqualTo(localClock.read() - before);
                }
            }
        }
    }
}

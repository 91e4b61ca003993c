package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalKeyedRateLimiterTest {

    private final FakeClock clock = new FakeClock();

    private LocalKeyedRateLimiter<Object> keyed(Limit limit, long maxKeys) {
        return LocalKeyedRateLimiter.builder(limit).maxKeys(maxKeys).ticker(clock).sleeper(clock).build();
    }

    @Test
    void buildWithAKeyTypeGivesVarItsType() {
        var perUser = LocalKeyedRateLimiter.builder(TokenBucket.of(1, 1, Duration.ofSeconds(1)))
                .ticker(clock).sleeper(clock).build(String.class);
        // Compiles only because perUser is a LocalKeyedRateLimiter<String>, not <Object>.
        LocalKeyedRateLimiter<String> typed = perUser;
        assertThat(typed.tryAcquire("alice")).isTrue();
        assertThat(perUser.tryAcquire("alice")).isFalse();
        assertThatThrownBy(() -> LocalKeyedRateLimiter.builder(TokenBucket.of(1, 1, Duration.ofSeconds(1))).build(null))
                .isInstanceOf(NullPointerException.class).hasMessage("keyType");
    }

    @Test
    void keysAreIndependent() {
        LocalKeyedRateLimiter<Object> perUser = keyed(TokenBucket.of(2, 2, Duration.ofSeconds(1)), 10);
        assertThat(perUser.tryAcquire("alice", 2)).isTrue();
        assertThat(perUser.tryAcquire("alice")).isFalse();
        assertThat(perUser.tryAcquire("bob", 2)).isTrue();
        assertThat(perUser.decide("carol", 1).remaining()).isEqualTo(1);
        assertThat(perUser.size()).isEqualTo(3);
    }

    @Test
    void millionDistinctKeysShrinkBackToNothingOnceIdlePastRefill() {
        LocalKeyedRateLimiter<Object> perUser = keyed(TokenBucket.of(5, 5, Duration.ofSeconds(1)),
                LocalKeyedRateLimiter.DEFAULT_MAX_KEYS);
        for (int i = 0; i < 1_000_000; i++) {
            assertThat(perUser.tryAcquire(i)).isTrue();
        }
        assertThat(perUser.size()).isLessThanOrEqualTo(LocalKeyedRateLimiter.DEFAULT_MAX_KEYS).isPositive();

        clock.advance(Duration.ofMillis(100)); // half a permit back per key: not yet full
        perUser.cleanUp();
        assertThat(perUser.size()).as("keys not yet full are kept").isEqualTo(1_000_000);

        clock.advance(Duration.ofSeconds(1));
        perUser.cleanUp();
        assertThat(perUser.size()).isZero();
        assertThat(perUser.tryAcquire(42, 5)).as("a dropped key comes back full").isTrue();
    }

    @Test
    void millionKeysThroughABoundedMapNeverExceedTheBoundAndShrinkWhenIdle() {
        // 1 permit per 10 ms; the clock moves 1 us per new key, so keys older than 10 ms are full
        // again and can make room. The bound is never exceeded and every first request is granted.
        long maxKeys = 20_000;
        LocalKeyedRateLimiter<Object> perUser = keyed(TokenBucket.of(1, 1, Duration.ofMillis(10)), maxKeys);
        long maxSeen = 0;
        for (int i = 0; i < 1_000_000; i++) {
            assertThat(perUser.tryAcquire(i)).as("first request of key %d", i).isTrue();
            maxSeen = Math.max(maxSeen, perUser.size());
            clock.advance(1_000);
        }
        assertThat(maxSeen).isLessThanOrEqualTo(maxKeys);

        long heldBeforeIdle = perUser.size();
        clock.advance(Duration.ofSeconds(1));
        for (int i = 0; i < 20_000; i++) {
            perUser.tryAcquire("after-" + i); // ordinary traffic on new keys triggers the sweeps
        }
        assertThat(perUser.size()).as("the idle keys were dropped by sweeps that new keys triggered")
                .isLessThanOrEqualTo(20_000).isLessThan(heldBeforeIdle + 20_000);
        perUser.cleanUp();
        clock.advance(Duration.ofSeconds(1));
        perUser.cleanUp();
        assertThat(perUser.size()).isZero();
    }

    @Test
    void aNewKeyAtTheBoundIsGrantedWheneverAHeldKeyCanBeDropped() {
        // 1,000 keys each take one permit of a bucket of 2 refilled at 2 per second; 500 ms later
        // every one of them is full again (an empty one would need 1 s), so every new key must
        // find room.
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(2, 2, Duration.ofSeconds(1)), 1_000);
        for (int i = 0; i < 1_000; i++) {
            assertThat(keyed.tryAcquire("old-" + i)).isTrue();
        }
        assertThat(keyed.size()).isEqualTo(1_000);
        clock.advance(Duration.ofMillis(499));
        assertThat(keyed.tryAcquire("too-soon")).as("no key is full yet: fail closed").isFalse();
        clock.advance(Duration.ofMillis(1));
        for (int i = 0; i < 200; i++) {
            assertThat(keyed.tryAcquire("new-" + i)).as("new key %d", i).isTrue();
            assertThat(keyed.size()).isLessThanOrEqualTo(1_000);
        }
        for (int i = 0; i < 200; i++) {
            assertThat(keyed.decide("late-" + i, 1).isAllowed()).as("new key %d by decide", i).isTrue();
        }
    }

    @Test
    void noCallExaminesMoreThanABoundedNumberOfHeldKeys() {
        // 200,000 keys inserted one after another, then refused new keys at the bound: a single
        // call's sweep work stays bounded whatever the size of the map.
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(1, 1, Duration.ofHours(1)), 200_000);
        long worst = 0;
        for (int i = 0; i < 200_000; i++) {
            long before = keyed.examinedBySweeps();
            assertThat(keyed.tryAcquire(i)).isTrue();
            worst = Math.max(worst, keyed.examinedBySweeps() - before);
        }
        for (int i = 0; i < 1_000; i++) {
            long before = keyed.examinedBySweeps();
            assertThat(keyed.tryAcquire("refused-" + i)).as("every key is active: fail closed").isFalse();
            worst = Math.max(worst, keyed.examinedBySweeps() - before);
        }
        assertThat(worst).isLessThanOrEqualTo(LocalKeyedRateLimiter.CAPACITY_STEP);
        assertThat(keyed.examinedBySweeps()).as("the growth sweeps did run")
                .isGreaterThanOrEqualTo(200_000L * LocalKeyedRateLimiter.GROWTH_STEP / 2);
    }

    @Test
    void anActiveKeyNeverLosesItsStateWhileOtherKeysChurn() {
        // 10 per second, capacity 10. The hot key asks every 100 us, so it is never full; 200,000
        // other keys come and go through a map of 1,000. If the hot key's state were ever dropped
        // it would get a fresh full bucket and exceed 10 + 10/s exactly.
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(10, 10, Duration.ofSeconds(1)), 1_000);
        long start = clock.read();
        long hotGranted = 0;
        for (int i = 0; i < 200_000; i++) {
            if (keyed.tryAcquire("hot")) {
                hotGranted++;
            }
            keyed.tryAcquire(i);
            clock.advance(100_000);
            assertThat(keyed.size()).isLessThanOrEqualTo(1_000);
        }
        long elapsedNanos = clock.read() - start - 100_000; // the last call was one step before now
        assertThat(hotGranted).isEqualTo(10 + elapsedNanos * 10 / 1_000_000_000L);
    }

    @Test
    void newKeysAreRefusedAtTheBoundUntilAHeldKeyIsFullAgain() {
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(1, 1, Duration.ofMinutes(1)), 3);
        assertThat(keyed.tryAcquire("a")).isTrue();
        assertThat(keyed.tryAcquire("b")).isTrue();
        assertThat(keyed.tryAcquire("c")).isTrue();

        assertThat(keyed.tryAcquire("d")).isFalse();
        Decision refused = keyed.decide("d", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofMinutes(1));
        assertThat(keyed.decide("d", 2).exceedsLimit()).isTrue();
        assertThat(keyed.size()).isEqualTo(3);
        assertThat(keyed.tryAcquire("a")).as("held keys keep their state").isFalse();

        clock.advance(Duration.ofMinutes(1));
        assertThat(keyed.tryAcquire("d")).isTrue();
        assertThat(keyed.size()).isLessThanOrEqualTo(3);
    }

    @Test
    void aKeyDroppedAtALaterReadingComesBackNoFullerWhenTheClockStepsBack() {
        Limit limit = TokenBucket.of(1, 1, Duration.ofSeconds(1));
        LocalKeyedRateLimiter<Object> keyed = keyed(limit, 10);
        dev.ratelimiter.RateLimiter plain = LocalRateLimiters.create(limit, clock, clock);
        clock.advance(Duration.ofSeconds(10));
        assertThat(keyed.tryAcquire("a")).isTrue();
        assertThat(plain.tryAcquire()).isTrue();
        clock.advance(Duration.ofSeconds(1));
        keyed.cleanUp();
        assertThat(keyed.size()).as("full again at 11 s, so dropped").isZero();

        clock.advance(Duration.ofMillis(-500));
        assertThat(plain.tryAcquire()).as("at 10.5 s the bucket is half full").isFalse();
        assertThat(keyed.tryAcquire("a")).as("the re-created key is no fuller than the dropped one").isFalse();
        clock.advance(Duration.ofMillis(500));
        assertThat(keyed.tryAcquire("a")).isTrue();
    }

    @Test
    void aRefusedNewKeyReportsTheRefillTimeAsItsReset() {
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(2, 1, Duration.ofSeconds(1)), 1);
        assertThat(keyed.tryAcquire("a")).isTrue();
        Decision refused = keyed.decide("b", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(2));
        assertThat(refused.reset()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void slidingWindowKeysAreDroppedOnlyWhenTheirWindowIsEmpty() {
        LocalKeyedRateLimiter<Object> keyed = keyed(SlidingWindow.log(2, Duration.ofSeconds(10)), 100);
        assertThat(keyed.tryAcquire("a", 2)).isTrue();
        clock.advance(Duration.ofSeconds(9));
        keyed.cleanUp();
        assertThat(keyed.size()).isEqualTo(1);
        assertThat(keyed.tryAcquire("a")).isFalse();
        clock.advance(Duration.ofSeconds(1));
        keyed.cleanUp();
        assertThat(keyed.size()).isZero();
        assertThat(keyed.tryAcquire("a", 2)).isTrue();
    }

    @Test
    void blockingAcquireWaitsOnTheKeysOwnLimit() throws InterruptedException {
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(1, 1, Duration.ofSeconds(1)), 10);
        assertThat(keyed.tryAcquire("a", 1, Duration.ZERO)).isTrue();
        long before = clock.read();
        assertThat(keyed.tryAcquire("a", 1, Duration.ofMillis(500))).isFalse();
        assertThat(clock.read()).as("a refusal does not wait").isEqualTo(before);
        assertThat(keyed.tryAcquire("a", 1, Duration.ofSeconds(2))).isTrue();
        assertThat(clock.read() - before).isEqualTo(1_000_000_000L);
    }

    @Test
    void forKeyViewDelegatesToTheKey() {
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(1, 1, Duration.ofSeconds(1)), 10);
        assertThat(keyed.forKey("a").tryAcquire()).isTrue();
        assertThat(keyed.tryAcquire("a")).isFalse();
        assertThat(keyed.forKey("a").limit()).isEqualTo(keyed.limit());
    }

    @Test
    void badArgumentsAreRejectedWithTheirNameAndValue() {
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(1, 1, Duration.ofSeconds(1)), 10);
        assertThatThrownBy(() -> keyed.tryAcquire(null)).isInstanceOf(NullPointerException.class).hasMessage("key");
        assertThatThrownBy(() -> keyed.tryAcquire("a", 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> keyed.tryAcquire("a", 1, null))
                .isInstanceOf(NullPointerException.class).hasMessage("timeout");
        assertThatThrownBy(() -> LocalKeyedRateLimiter.builder(TokenBucket.of(1, 1, Duration.ofSeconds(1))).maxKeys(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxKeys must be > 0: maxKeys=0");
        assertThatThrownBy(() -> LocalKeyedRateLimiter.builder(null))
                .isInstanceOf(NullPointerException.class).hasMessage("limit");
        assertThat(keyed.size()).isZero();
    }

    @Test
    void sweepsRacingWithDecisionsNeverLoseAGrant() throws Exception {
        // Capacity 4, refilled at 2 per 50 ms round. Key k is hammered only in rounds r with
        // r % 4 == k % 4, so it sits idle for three rounds, is full again (and so droppable) when
        // its turn comes, and must then grant exactly 4: never 8 (a decision lost to a drop, or
        // a fresh bucket handed out while the old one was in use), never fewer. A fifth thread
        // sweeps all the time, racing the decisions.
        LocalKeyedRateLimiter<Object> keyed = keyed(TokenBucket.of(4, 2, Duration.ofMillis(50)), 64);
        int threads = 4;
        int rounds = 400;
        int keys = 8;
        AtomicLong[][] granted = new AtomicLong[keys][rounds];
        for (int k = 0; k < keys; k++) {
            for (int r = 0; r < rounds; r++) {
                granted[k][r] = new AtomicLong();
            }
        }
        CyclicBarrier barrier = new CyclicBarrier(threads, () -> clock.advance(Duration.ofMillis(50)));
        AtomicLong dropped = new AtomicLong();
        Thread sweeper = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                long before = keyed.size();
                keyed.cleanUp();
                dropped.addAndGet(Math.max(0, before - keyed.size()));
            }
        });
        sweeper.start();
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    for (int r = 0; r < rounds; r++) {
                        for (int i = 0; i < 24; i++) {
                            int k = (r % 4) + 4 * (i % 2);
                            if (keyed.tryAcquire(k)) {
                                granted[k][r].incrementAndGet();
                            }
                        }
                        barrier.await();
                    }
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        sweeper.interrupt();
        sweeper.join();
        assertThat(failures).isEmpty();
        for (int k = 0; k < keys; k++) {
            for (int r = 0; r < rounds; r++) {
                long expected = r % 4 == k % 4 ? 4 : 0;
                assertThat(granted[k][r].get()).as("key %d round %d", k, r).isEqualTo(expected);
            }
        }
        // Drops race the decisions whoever makes them: the sweeper thread, or the incremental
        // sweeps a re-created key's insertion runs (with 8 keys, those cover the whole map).
        assertThat(keyed.droppedBySweeps()).as("keys really were dropped during the run").isPositive();
        assertThat(dropped.get()).as("what the sweeper saw dropped is among them")
                .isLessThanOrEqualTo(keyed.droppedBySweeps());
    }
}

package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.LeakyBucket;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiter;
import dev.ratelimiter.Sleeper;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Scripted, fake-clock scenarios for the token bucket and the leaky bucket meter. */
class GcraLimiterTest {

    static final long MS = 1_000_000L;
    static final long SECOND = 1_000_000_000L;
    static final long DAY = 24 * 3600 * SECOND;
    static final long HALF_MAX = Long.MAX_VALUE / 2;

    final FakeClock clock = new FakeClock();

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    /** The limiter the library builds: GcraLimiter, or ExactGcraLimiter for fractional ns per permit. */
    LocalLimiter tokenBucket(long capacity, long permits, Duration period) {
        return LocalRateLimiters.newLimiter(TokenBucket.of(capacity, permits, period), clock, clock);
    }

    /** 10 permits, 5 per second: one every 200 ms. */
    LocalLimiter tenAtFivePerSecond() {
        return tokenBucket(10, 5, Duration.ofSeconds(1));
    }

    @Test
    void tokenBucketStartsFullAndGrantsItsCapacityAtOnce() {
        RateLimiter limiter = tenAtFivePerSecond();
        for (int i = 0; i < 10; i++) {
            assertThat(limiter.tryAcquire()).as("permit %d", i).isTrue();
        }
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void drainedBucketRefillsOnePermitEvery200Millis() {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.tryAcquire(10)).isTrue();
        clock.advance(199 * MS);
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(MS);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(600 * MS);
        assertThat(limiter.tryAcquire(3)).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void requestOfExactlyTheCapacityIsGrantedFromFull() {
        assertThat(tenAtFivePerSecond().tryAcquire(10)).isTrue();
        assertThat(tokenBucket(3, 1, Duration.ofSeconds(1)).tryAcquire(3)).isTrue();
    }

    @Test
    void decisionsReportRemainingRetryAfterAndReset() {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.decide(1)).isEqualTo(Decision.allowed(1, 9, 200 * MS, 10));
        assertThat(limiter.decide(9)).isEqualTo(Decision.allowed(9, 0, 2 * SECOND, 10));
        assertThat(limiter.decide(1)).isEqualTo(Decision.denied(1, 0, 200 * MS, 2 * SECOND, 10));
        clock.advance(50 * MS);
        assertThat(limiter.decide(1)).isEqualTo(Decision.denied(1, 0, 150 * MS, 1950 * MS, 10));
        clock.advance(250 * MS);
        // 300 ms after draining: 1.5 permits refilled, one whole permit available.
        assertThat(limiter.decide(3)).isEqualTo(Decision.denied(3, 1, 300 * MS, 1700 * MS, 10));
        assertThat(limiter.decide(1)).isEqualTo(Decision.allowed(1, 0, 1900 * MS, 10));
        clock.advance(10 * SECOND);
        assertThat(limiter.decide(2)).isEqualTo(Decision.allowed(2, 8, 400 * MS, 10));
    }

    @Test
    void rejectedRequestConsumesNothing() {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.tryAcquire(8)).isTrue();
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.decide(3).isAllowed()).isFalse();
            assertThat(limiter.tryAcquire(3)).isFalse();
        }
        assertThat(limiter.decide(2)).isEqualTo(Decision.allowed(2, 0, 2 * SECOND, 10));
    }

    @Test
    void retryAfterIsExactForIntegerAndNonIntegerPeriods() {
        Limit[] limits = {
            TokenBucket.of(10, 5, Duration.ofSeconds(1)),
            TokenBucket.of(7, 3, Duration.ofSeconds(1)),
            TokenBucket.of(5, 7, Duration.ofMillis(13)),
            TokenBucket.of(3, 999_999_937, Duration.ofSeconds(1)),
            TokenBucket.of(4, 1, Duration.ofDays(30)),
            LeakyBucket.meter(3, Duration.ofSeconds(1), 2),
            LeakyBucket.queue(3, Duration.ofSeconds(1), 4),
        };
        SplittableRandom random = new SplittableRandom(3);
        for (Limit limit : limits) {
            RateLimiter limiter = LocalRateLimiters.create(limit, clock, clock);
            int denials = 0;
            for (int step = 0; step < 300; step++) {
                long n = 1 + random.nextLong(limit.maxPermits() < 4 ? limit.maxPermits() : 4);
                Decision d = limiter.decide(n);
                if (d.isAllowed()) {
                    continue;
                }
                denials++;
                long wait = d.retryAfterNanos();
                assertThat(wait).isPositive();
                clock.advance(wait - 1);
                assertThat(limiter.tryAcquire(n)).as("%s: %d permits, 1 ns early", limit, n).isFalse();
                clock.advance(1);
                assertThat(limiter.tryAcquire(n)).as("%s: %d permits, on time", limit, n).isTrue();
            }
            assertThat(denials).as("%s is exercised", limit).isGreaterThan(10);
        }
    }

    @Test
    void requestAboveTheCapacityIsRefusedAtOnceAndSaysSo() throws InterruptedException {
        RateLimiter limiter = tenAtFivePerSecond();
        Decision d = limiter.decide(11);
        assertThat(d.exceedsLimit()).isTrue();
        assertThat(d).isEqualTo(Decision.exceeding(11, 10, 0, 10));
        long before = clock.read();
        assertThat(limiter.tryAcquire(11, Duration.ofDays(365))).isFalse();
        assertThat(limiter.tryAcquire(Long.MAX_VALUE)).isFalse();
        assertThat(clock.read()).isEqualTo(before);
        assertThat(limiter.tryAcquire(10)).isTrue();
        assertThat(limiter.decide(11)).isEqualTo(Decision.exceeding(11, 0, 2 * SECOND, 10));
    }

    @Test
    void permitsMustBePositive() {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThatThrownBy(() -> limiter.tryAcquire(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> limiter.decide(-3))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=-3");
        assertThatThrownBy(() -> limiter.tryAcquire(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("permits must be > 0: permits=0");
        assertThat(limiter.tryAcquire(10)).isTrue();
    }

    @Test
    void factoriesRejectNulls() {
        TokenBucket limit = TokenBucket.of(1, 1, Duration.ofSeconds(1));
        assertThatThrownBy(() -> GcraLimiter.tokenBucket(null, clock, clock))
                .isInstanceOf(NullPointerException.class).hasMessage("limit");
        assertThatThrownBy(() -> GcraLimiter.leakyBucket(null, clock, clock))
                .isInstanceOf(NullPointerException.class).hasMessage("limit");
        assertThatThrownBy(() -> GcraLimiter.tokenBucket(limit, null, clock))
                .isInstanceOf(NullPointerException.class).hasMessage("ticker");
        assertThatThrownBy(() -> GcraLimiter.tokenBucket(limit, clock, null))
                .isInstanceOf(NullPointerException.class).hasMessage("sleeper");
    }

    @Test
    void reportsItsLimit() {
        TokenBucket limit = TokenBucket.of(10, 5, Duration.ofSeconds(1));
        RateLimiter limiter = LocalRateLimiters.create(limit, clock, clock);
        assertThat(limiter.limit()).isSameAs(limit);
        assertThat(limiter.decide().limit()).isEqualTo(10);
        assertThat(limiter).hasToString("GcraLimiter{" + limit + "}");
    }

    @Test
    void steadyClientAtANonIntegerRateIsGrantedExactlyOverAMillionSeconds() {
        // T = 1/3 s is not a whole number of nanoseconds: the exact limiter keeps the fraction.
        RateLimiter limiter = tokenBucket(10, 3, Duration.ofSeconds(1));
        assertThat(limiter).isInstanceOf(ExactGcraLimiter.class);
        long granted = 0;
        for (int second = 0; second < 1_000_000; second++) {
            for (int i = 0; i < 3; i++) {
                if (limiter.tryAcquire()) {
                    granted++;
                }
            }
            clock.advance(SECOND);
        }
        assertThat(granted).isEqualTo(3_000_000);
        // No rounding is carried as debt: the whole 10-permit burst is still there.
        long burst = 0;
        while (limiter.tryAcquire()) {
            burst++;
        }
        assertThat(burst).isEqualTo(10);
    }

    @Test
    void greedyClientAtANonIntegerRateGetsExactlyTheBound() {
        RateLimiter limiter = tokenBucket(10, 3, Duration.ofSeconds(1));
        long step = 777_777_777L;
        long granted = 0;
        for (long elapsed = 0; elapsed <= 1_000_000 * SECOND; elapsed += step) {
            while (limiter.tryAcquire()) {
                granted++;
            }
            long bound = 10 + elapsed * 3 / SECOND; // C + floor(t * R / P)
            if (granted != bound) {
                assertThat(granted).as("at %d ns", elapsed).isEqualTo(bound);
            }
            clock.advance(step);
        }
    }

    @Test
    void singlePermitsJustBelowABillionPerSecondGetTheWholeRate() {
        // 999,999,999 per second: a permit costs 1.000000001 ns. Rounding each grant up to 2 ns
        // would halve the rate; counted exactly, a client asking once per nanosecond with one
        // permit of slack (capacity 2) is granted every time over 10 ms: the bound,
        // 2 + floor((10^7 - 1) * 0.999999999) = 10^7, allows all of them.
        RateLimiter limiter = tokenBucket(2, 999_999_999, Duration.ofSeconds(1));
        long granted = 0;
        for (long t = 0; t < 10_000_000; t++) {
            if (limiter.tryAcquire()) {
                granted++;
            }
            clock.advance(1);
        }
        assertThat(granted).isEqualTo(10_000_000L);
        // Then the slack is gone: one more at the same instant is refused.
        assertThat(limiter.tryAcquire(2)).isFalse();
    }

    @Test
    void aReadingBeforeTheLimitersCreationFindsItFull() {
        // As an absent Redis key: full at every reading, so a clock that steps back before the
        // creation reading changes nothing.
        RateLimiter bucket = tokenBucket(2, 1, Duration.ofSeconds(1));
        RateLimiter exact = tokenBucket(2, 3, Duration.ofSeconds(1));
        clock.advance(-1);
        assertThat(bucket.decide(1)).isEqualTo(Decision.allowed(1, 1, SECOND, 2));
        assertThat(exact.decide(1)).isEqualTo(Decision.allowed(1, 1, 333_333_334L, 2));
    }

    @Test
    void onePermitPerDay() {
        RateLimiter limiter = tokenBucket(2, 1, Duration.ofDays(1));
        assertThat(limiter.tryAcquire(2)).isTrue();
        assertThat(limiter.decide()).isEqualTo(Decision.denied(1, 0, DAY, 2 * DAY, 2));
        clock.advance(DAY - 1);
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(1);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void aBillionPermitsPerSecond() {
        RateLimiter limiter = tokenBucket(SECOND, SECOND, Duration.ofSeconds(1));
        assertThat(limiter.tryAcquire(SECOND)).isTrue();
        assertThat(limiter.decide()).isEqualTo(Decision.denied(1, 0, 1, SECOND, SECOND));
        clock.advance(1);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(SECOND / 2);
        assertThat(limiter.tryAcquire(SECOND / 2)).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(5 * SECOND);
        assertThat(limiter.decide(SECOND)).isEqualTo(Decision.allowed(SECOND, 0, SECOND, SECOND));
    }

    @Test
    void capacityOfHalfLongMaxValueDoesNotOverflow() {
        RateLimiter limiter = tokenBucket(HALF_MAX, SECOND, Duration.ofSeconds(1));
        assertThat(limiter.decide(1)).isEqualTo(Decision.allowed(1, HALF_MAX - 1, 1, HALF_MAX));
        clock.advance(1);
        assertThat(limiter.decide(HALF_MAX)).isEqualTo(Decision.allowed(HALF_MAX, 0, HALF_MAX, HALF_MAX));
        assertThat(limiter.decide(1)).isEqualTo(Decision.denied(1, 0, 1, HALF_MAX, HALF_MAX));
        assertThat(limiter.decide(HALF_MAX)).isEqualTo(Decision.denied(HALF_MAX, 0, HALF_MAX, HALF_MAX, HALF_MAX));
        clock.advance(1000);
        assertThat(limiter.tryAcquire(1001)).isFalse();
        assertThat(limiter.tryAcquire(1000)).isTrue();
        assertThat(limiter.decide(HALF_MAX + 1).exceedsLimit()).isTrue();
    }

    @Test
    void theLargestBucketRefillsExactlyAfterAYear() {
        // Long.MAX_VALUE / 2 permits at 10^9 per second: refilling from empty takes ~146 years,
        // the longest a limit may take (2^62 ns). Draining and a year of refill stay exact.
        RateLimiter limiter = tokenBucket(HALF_MAX, 1_000_000_000L, Duration.ofSeconds(1));
        assertThat(limiter.decide(HALF_MAX - 1).isAllowed()).isTrue();
        assertThat(limiter.tryAcquire(2)).isFalse();
        clock.advance(Duration.ofDays(365));
        long yearOfPermits = 365 * DAY;
        Decision d = limiter.decide(yearOfPermits + 1);
        assertThat(d).isEqualTo(Decision.allowed(yearOfPermits + 1, 0, HALF_MAX, HALF_MAX));
        assertThat(limiter.decide(1).retryAfterNanos()).isEqualTo(1);
    }

    @Test
    void thirtyDaysIdleRefillsToCapacityWithoutOverflow() {
        RateLimiter slow = tokenBucket(1_000, 1, Duration.ofDays(30)); // ~82 years to refill
        assertThat(slow.tryAcquire(3)).isTrue();
        clock.advance(Duration.ofDays(30));
        assertThat(slow.decide(1)).isEqualTo(Decision.allowed(1, 997, 3 * 30 * DAY, 1_000));

        RateLimiter fast = tokenBucket(10, 5, Duration.ofSeconds(1));
        assertThat(fast.tryAcquire(10)).isTrue();
        clock.advance(Duration.ofDays(30));
        assertThat(fast.decide(10)).isEqualTo(Decision.allowed(10, 0, 2 * SECOND, 10));
        assertThat(fast.tryAcquire()).isFalse();
    }

    @Test
    void clockGoingBackwardsCreatesNoPermits() {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.tryAcquire(10)).isTrue();
        long drainedAt = clock.read();
        clock.advance(Duration.ofHours(-1));
        assertThat(limiter.tryAcquire()).isFalse();
        assertThat(limiter.decide().resetNanos()).isEqualTo(3600 * SECOND + 2 * SECOND);
        clock.set(drainedAt + 199 * MS);
        assertThat(limiter.tryAcquire()).isFalse();
        clock.set(drainedAt + 200 * MS);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void grantsWhileTheClockIsBehindStillCountAgainstTheBucket() {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.tryAcquire(5)).isTrue();
        long start = clock.read();
        clock.advance(-100 * MS);
        // The debt looks 100 ms larger: 5 permits remain minus half a permit, so 4.
        assertThat(limiter.decide(4)).isEqualTo(Decision.allowed(4, 0, 1900 * MS, 10));
        clock.set(start);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void tickerWrappingAroundLongMaxValueKeepsMeasuringTime() {
        FakeClock wrapping = new FakeClock(Long.MAX_VALUE - 100 * MS);
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(10, 5, Duration.ofSeconds(1)), wrapping, wrapping);
        assertThat(limiter.tryAcquire(10)).isTrue();
        wrapping.advance(200 * MS);
        assertThat(wrapping.read()).isNegative();
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void meterBehavesExactlyLikeATokenBucketWithCapacityEqualToTheBurst() {
        FakeClock other = new FakeClock(-77);
        RateLimiter bucket = LocalRateLimiters.create(TokenBucket.of(4, 3, Duration.ofMillis(1000)), clock, clock);
        RateLimiter meter = LocalRateLimiters.create(LeakyBucket.meter(3, Duration.ofSeconds(1), 4), other, other);
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 20_000; i++) {
            long n = 1 + random.nextLong(5);
            assertThat(meter.decide(n)).as("step %d", i).isEqualTo(bucket.decide(n));
            long dt = random.nextLong(-50 * MS, 400 * MS);
            clock.advance(dt);
            other.advance(dt);
        }
    }

    @Test
    void blockingAcquireWaitsExactlyUntilThePermitsExist() throws InterruptedException {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.tryAcquire(10)).isTrue();
        long start = clock.read();
        assertThat(limiter.tryAcquire(1, Duration.ofMillis(199))).isFalse();
        assertThat(clock.read()).isEqualTo(start);
        assertThat(limiter.tryAcquire(1, Duration.ofMillis(200))).isTrue();
        assertThat(clock.read()).isEqualTo(start + 200 * MS);
        assertThat(limiter.tryAcquire(3, Duration.ofSeconds(1))).isTrue();
        assertThat(clock.read()).isEqualTo(start + 800 * MS);
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void blockingAcquireWithZeroOrNegativeTimeoutDoesNotWait() throws InterruptedException {
        RateLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.tryAcquire(10, Duration.ZERO)).isTrue();
        long start = clock.read();
        assertThat(limiter.tryAcquire(1, Duration.ofSeconds(-1))).isFalse();
        assertThat(limiter.tryAcquire(1, Duration.ZERO)).isFalse();
        assertThat(clock.read()).isEqualTo(start);
    }

    @Test
    void blockingReservationsQueueBehindEachOtherBeyondTheBurst() {
        // Two reservations made at the same instant take slots 200 ms and 400 ms ahead.
        RecordingSleeper sleeper = new RecordingSleeper(clock);
        LocalLimiter paced = LocalRateLimiters.newLimiter(TokenBucket.of(2, 5, Duration.ofSeconds(1)), clock, sleeper);
        assertThat(paced.tryAcquireAt(2, clock.read())).isEqualTo(LocalLimiter.ALLOWED);
        assertThat(sleeper.reserveOnly(paced, 1)).isEqualTo(200 * MS);
        assertThat(sleeper.reserveOnly(paced, 1)).isEqualTo(400 * MS);
        assertThat(paced.decide(1)).isEqualTo(Decision.denied(1, 0, 600 * MS, 800 * MS, 2));
    }

    @Test
    void interruptedBlockingAcquireGivesItsReservationBack() {
        Sleeper interrupting = nanos -> {
            throw new InterruptedException();
        };
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(10, 5, Duration.ofSeconds(1)), clock, interrupting);
        assertThat(limiter.tryAcquire(10)).isTrue();
        assertThatThrownBy(() -> limiter.tryAcquire(2, Duration.ofSeconds(1))).isInstanceOf(InterruptedException.class);
        assertThat(limiter.decide(1)).isEqualTo(Decision.denied(1, 0, 200 * MS, 2 * SECOND, 10));
        clock.advance(200 * MS);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void waitInterruptedHalfwayGivesItsReservationBack() {
        Sleeper halfway = nanos -> {
            clock.advance(nanos / 2);
            throw new InterruptedException();
        };
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(10, 5, Duration.ofSeconds(1)), clock, halfway);
        assertThat(limiter.tryAcquire(10)).isTrue();
        long start = clock.read();
        assertThatThrownBy(() -> limiter.tryAcquire(1, Duration.ofSeconds(1))).isInstanceOf(InterruptedException.class);
        assertThat(clock.read()).isEqualTo(start + 100 * MS);
        clock.advance(100 * MS);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void sleeperFailureGivesTheReservationBackToo() {
        Sleeper failing = nanos -> {
            throw new IllegalStateException("sleeper broken");
        };
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(10, 5, Duration.ofSeconds(1)), clock, failing);
        assertThat(limiter.tryAcquire(10)).isTrue();
        assertThatThrownBy(() -> limiter.tryAcquire(1, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class).hasMessage("sleeper broken");
        clock.advance(200 * MS);
        assertThat(limiter.tryAcquire()).isTrue();
    }

    @Test
    void interruptArrivingAfterTheSlotKeepsThePermitsAndTheInterruptFlag() throws InterruptedException {
        Sleeper lateInterrupt = nanos -> {
            clock.advance(nanos);
            throw new InterruptedException();
        };
        RateLimiter limiter = LocalRateLimiters.create(TokenBucket.of(10, 5, Duration.ofSeconds(1)), clock, lateInterrupt);
        assertThat(limiter.tryAcquire(10)).isTrue();
        assertThat(limiter.tryAcquire(1, Duration.ofSeconds(1))).isTrue();
        assertThat(Thread.interrupted()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
    }

    @Test
    void retiresOnlyWhenFullAndARetiredLimiterConsumesNothing() throws InterruptedException {
        LocalLimiter limiter = tenAtFivePerSecond();
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        clock.advance(199 * MS);
        assertThat(limiter.retireIfFull(clock.read())).isFalse();
        // The failed attempts left the state alone: the bucket is 1 ms short of full.
        assertThat(limiter.decide(10)).isEqualTo(Decision.denied(10, 9, MS, MS, 10));
        clock.advance(MS);
        assertThat(limiter.retireIfFull(clock.read())).isTrue();
        assertThat(limiter.retireIfFull(clock.read())).isTrue();

        long now = clock.read();
        assertThat(limiter.tryAcquireAt(1, now)).isEqualTo(LocalLimiter.RETIRED);
        assertThat(limiter.tryAcquireAt(11, now)).isEqualTo(LocalLimiter.RETIRED);
        assertThat(limiter.decideAt(1, now)).isSameAs(LocalLimiter.RETIRED_DECISION);
        assertThat(limiter.decideAt(11, now)).isSameAs(LocalLimiter.RETIRED_DECISION);
        assertThat(limiter.acquireBlocking(1, SECOND)).isEqualTo(LocalLimiter.RETIRED);
        assertThat(limiter.tryAcquire()).isFalse();
        assertThat(clock.read()).isEqualTo(now);
        clock.advance(Duration.ofDays(1));
        assertThat(limiter.tryAcquireAt(1, clock.read())).isEqualTo(LocalLimiter.RETIRED);
    }

    @Test
    void concurrentCallersNeverShareOnePermit() throws InterruptedException {
        // The clock does not move: exactly the capacity is granted, however the CASes interleave.
        RateLimiter limiter = tokenBucket(10_000, 1, Duration.ofSeconds(1));
        int threads = 4;
        long[] granted = new long[threads];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    if (limiter.tryAcquire()) {
                        granted[id]++;
                    }
                }
            });
            workers[t].start();
        }
        long total = 0;
        for (int t = 0; t < threads; t++) {
            workers[t].join();
            total += granted[t];
        }
        assertThat(total).isEqualTo(10_000);
    }

    @Test
    void tryAcquireAllocatesNothing() {
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        assertThat(bean).as("HotSpot thread allocation counters").isInstanceOf(com.sun.management.ThreadMXBean.class);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        assertThat(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled())
                .as("thread allocation counting").isTrue();
        LocalLimiter limiter = tokenBucket(1_000_000, 1, Duration.ofSeconds(7));
        assertThat(limiter).isInstanceOf(GcraLimiter.class);
        long id = Thread.currentThread().getId();
        int sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += limiter.tryAcquireAt(1 + (i & 7), i * 1000L);
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++) {
            sink += limiter.tryAcquireAt(1 + (i & 7), i * 1000L);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertThat(sink).isPositive();
        // A single boxed long per call would be 1.6 MB; allow for the measurement's own noise.
        assertThat(allocated).isLessThan(10_000);
    }

    @Test
    void theExactLimiterAllocatesOneSmallStatePerGrantAndNothingPerRefusal() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        LocalLimiter limiter = tokenBucket(1_000, 3, Duration.ofSeconds(7));
        assertThat(limiter).isInstanceOf(ExactGcraLimiter.class);
        long id = Thread.currentThread().getId();
        int sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += limiter.tryAcquireAt(1, 0);
        }
        // Empty now: every call below is refused.
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++) {
            sink += limiter.tryAcquireAt(1 + (i & 7), 0);
        }
        assertThat(threads.getThreadAllocatedBytes(id) - before).as("refusals").isLessThan(10_000);
        // One grant every 7/3 s: each allocates one State (at most 32 bytes).
        before = threads.getThreadAllocatedBytes(id);
        for (int i = 1; i <= 100_000; i++) {
            sink += limiter.tryAcquireAt(1, i * 2_333_333_334L);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertThat(sink).isPositive();
        assertThat(allocated).as("grants").isBetween(100_000L * 16, 100_000L * 32 + 10_000);
    }

    /** A sleeper that lets a test reserve a slot without waiting for it. */
    static final class RecordingSleeper implements Sleeper {
        private final FakeClock clock;
        private long lastSleep;

        RecordingSleeper(FakeClock clock) {
            this.clock = clock;
        }

        @Override
        public void sleepNanos(long nanos) {
            lastSleep = nanos;
            // Jump to the slot, then come back: the reservation stays, time does not move.
            clock.advance(nanos);
        }

        /** Reserves {@code n} permits by a blocking acquire, rewinds the clock, returns the wait. */
        long reserveOnly(LocalLimiter limiter, long n) {
            long before = clock.read();
            lastSleep = 0;
            try {
                assertThat(limiter.acquireBlocking(n, Long.MAX_VALUE)).isEqualTo(LocalLimiter.ALLOWED);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            clock.set(before);
            return lastSleep;
        }
    }
}

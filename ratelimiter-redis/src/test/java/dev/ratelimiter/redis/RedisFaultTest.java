package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.ratelimiter.Decision;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.redis.testing.LatencyProxy;
import dev.ratelimiter.redis.testing.RedisProcess;
import dev.ratelimiter.redis.testing.RespClient;
import io.lettuce.core.RedisCommandTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fault tests: Redis killed and restarted mid-run, latency and a black hole injected by a TCP
 * proxy, the script cache flushed under load. Each test starts its own Redis.
 *
 * <p>Durations here are measured with the real clock because the faults are real: they are
 * bounds (every call answers within its timeout plus a generous margin on a loaded machine),
 * never speed claims. Waits for the server or the client to change state poll with a bound.
 */
class RedisFaultTest {

    private static final Duration TIMEOUT = Duration.ofMillis(300);
    /** Generous on purpose: a bound check on a shared, loaded machine. */
    private static final Duration MARGIN = Duration.ofSeconds(1);
    private static final Duration BLOCKING_WAIT = Duration.ofMillis(100);
    private static final Duration CLOSED_RETRY = Duration.ofMillis(250);

    /** One call of a worker: when it ran and how it was answered. */
    private record Call(String key, String kind, long startNanos, long endNanos, Decision decision, boolean granted,
                        Throwable failure) {
        long nanos() {
            return endNanos - startNanos;
        }
    }

    static Stream<Arguments> killCases() {
        return Stream.of(
                arguments("fail open", FailurePolicy.failOpen(), true, false),
                arguments("fail open, refusal cache on", FailurePolicy.failOpen(), true, true),
                arguments("fail closed", FailurePolicy.failClosed(CLOSED_RETRY), true, false),
                arguments("local fallback for 2 instances", FailurePolicy.fallbackToLocal(2), true, false),
                arguments("local fallback, Lettuce default options", FailurePolicy.fallbackToLocal(2), false, false));
    }

    /**
     * The longest a refusal is remembered in the kill test's case with the refusal cache: the
     * longest retry-after of its limit, 2 per second (one permit per 0.5 s).
     */
    private static final Duration REMEMBERED = Duration.ofMillis(500);

    @ParameterizedTest(name = "{0}")
    @MethodSource("killCases")
    public void redisKilledMidRunEveryCallAnswersByItsPolicyInTimeAndRestartBringsCorrectDecisionsBack(
            String name, FailurePolicy policy, boolean recommendedOptions, boolean refusalCache) throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, recommendedOptions)) {
            AtomicInteger failures = new AtomicInteger();
            // The refusal cache off but in one case: a refusal remembered before the kill answers
            // during the outage without a call (RedisRefusalCacheTest), for at most its retry-after;
            // with it on, those answers are told apart from the policy's below.
            RedisRateLimiters limiters = RedisRateLimiters.builder(client.connection().async())
                    .refusalCache(refusalCache ? RedisRateLimiters.Builder.DEFAULT_REFUSAL_CACHE : 0)
                    .timeout(TIMEOUT).failurePolicy(policy).failureListener(f -> failures.incrementAndGet()).build();
            // 20 per second per key; the local fallback for 2 instances holds 10, refilled at 10/s.
            // With the cache: 2 per second, so that the workers are refused before the kill.
            RedisRateLimiters.KeyedLimiter limiter = limiters.keyed("fault", refusalCache
                    ? TokenBucket.of(2, 2, Duration.ofSeconds(1)) : TokenBucket.of(20, 20, Duration.ofSeconds(1)));
            RedisRateLimiters.KeyedLimiter probe = RedisRateLimiters.builder(client.connection().async())
                    .timeout(TIMEOUT).failurePolicy(FailurePolicy.propagate()).build()
                    .keyed("probe", TokenBucket.of(1_000_000, 1_000_000, Duration.ofSeconds(1)));

            int threads = 6;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong issued = new AtomicLong();
            Queue<Call> calls = new ConcurrentLinkedQueue<>();
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String key = "user" + t;
                workers.add(pool.submit(() -> work(limiter, key, stop, issued, calls)));
            }

            awaitCalls(calls, c -> true, 100, "calls before the kill");
            redis.kill();
            long killed = System.nanoTime();
            awaitCalls(calls, c -> c.startNanos() > killed, 60, "calls while Redis is down");
            long restarting = System.nanoTime();
            redis.restart();
            awaitDeciding(probe);
            long recovered = System.nanoTime();
            awaitCalls(calls, c -> c.startNanos() > recovered, 60, "calls after the recovery");
            // Every worker has begun a call since: none still runs one that began before.
            await(() -> calls.stream().filter(c -> c.startNanos() > recovered).map(Call::key).distinct().count() == threads,
                    Duration.ofSeconds(20), "every worker calling after the recovery");
            int failuresAfterSettling = failures.get();
            awaitCalls(calls, c -> c.startNanos() > recovered, 150, "more calls after the recovery");
            int failuresAtTheEnd = failures.get();

            stop.set(true);
            pool.shutdown();
            assertThat(pool.awaitTermination(TIMEOUT.plus(BLOCKING_WAIT).plus(MARGIN).toMillis() * 2, TimeUnit.MILLISECONDS))
                    .as("every worker's last call answered").isTrue();
            for (Future<?> w : workers) {
                w.get(); // a worker's own failure surfaces here
            }
            assertThat(calls).as("no call left unanswered").hasSize((int) issued.get());
            assertThat(FaultClient.threadsInsideTheLimiters()).as("threads still inside a limiter").isEmpty();

            // Every call answered, without an exception, within its bound.
            for (Call c : calls) {
                assertThat(c.failure()).as("%s", c).isNull();
                Duration bound = TIMEOUT.plus(MARGIN).plus(c.kind().equals("blocking") ? BLOCKING_WAIT : Duration.ZERO);
                assertThat(Duration.ofNanos(c.nanos())).as("duration of %s", c).isLessThanOrEqualTo(bound);
            }

            // While Redis was down, every call answered by the policy.
            List<Call> outage = calls.stream().filter(c -> c.startNanos() > killed && c.endNanos() < restarting).toList();
            assertThat(outage).hasSizeGreaterThanOrEqualTo(threads);
            // With the cache on, a refusal made just before the kill may be answered from memory
            // (no call, no failure), within its retry-after of the kill; every other is the policy's.
            long rememberedUntil = killed + REMEMBERED.toNanos();
            List<Call> byPolicy = outage.stream()
                    .filter(c -> !(refusalCache && !c.granted() && c.startNanos() < rememberedUntil)).toList();
            assertThat(failures.get()).isGreaterThanOrEqualTo(byPolicy.size());
            if (refusalCache) {
                assertThat(calls.stream().filter(c -> c.startNanos() < killed && !c.granted()))
                        .as("refusals the cache could remember before the kill").isNotEmpty();
            }
            switch (policy.kind()) {
                case FAIL_OPEN -> assertThat(byPolicy).allSatisfy(c -> {
                    assertThat(c.granted()).isTrue();
                    if (c.decision() != null) {
                        assertThat(FailurePolicy.isUnchecked(c.decision())).isTrue();
                    }
                });
                case FAIL_CLOSED -> assertThat(outage).allSatisfy(c -> {
                    assertThat(c.granted()).isFalse();
                    if (c.decision() != null) {
                        assertThat(c.decision().retryAfter()).isEqualTo(CLOSED_RETRY);
                    }
                });
                default -> {
                    // The local share: at most 10 + 10/s per key over the outage (plus one for rounding).
                    double seconds = (restarting - killed) / 1e9;
                    Map<String, Integer> granted = new HashMap<>();
                    for (Call c : outage) {
                        assertThat(c.decision() == null || !FailurePolicy.isUnchecked(c.decision())).isTrue();
                        if (c.granted()) {
                            granted.merge(c.key(), 1, Integer::sum);
                        }
                    }
                    assertThat(granted.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo((int) (11 + 10 * seconds)));
                }
            }

            // After the restart: Redis decides again, for the workers and exactly for a new key.
            assertThat(failuresAtTheEnd).as("failures once recovered").isEqualTo(failuresAfterSettling);
            for (Call c : calls) {
                if (c.startNanos() > recovered && c.decision() != null) {
                    assertThat(FailurePolicy.isUnchecked(c.decision())).isFalse();
                    assertThat(c.decision().retryAfter()).isNotEqualTo(CLOSED_RETRY);
                }
            }
            RedisRateLimiters.KeyedLimiter fresh = limiters.keyed("after-restart", TokenBucket.of(5, 1, Duration.ofHours(1)));
            for (int i = 1; i <= 5; i++) {
                Decision d = fresh.decide("k", 1);
                assertThat(d.isAllowed()).isTrue();
                assertThat(d.remaining()).isEqualTo(5 - i);
                assertThat(d.resetNanos()).isPositive();
            }
            Decision refused = fresh.decide("k", 1);
            assertThat(refused.isAllowed()).isFalse();
            assertThat(refused.retryAfter()).isBetween(Duration.ofMinutes(59), Duration.ofHours(1));
            assertThat(failures.get()).isEqualTo(failuresAtTheEnd);
        }
    }

    /** One decision of the hot-key test: when it began and ended, and how it was answered. */
    private record Answer(long startNanos, long endNanos, Decision decision, Throwable failure) {
    }

    @Test
    public void redisKilledUnderAHotKeyCoalescedEveryCallerIsAnsweredByThePolicyInTimeAndNoLaneIsLeft()
            throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, true)) {
            AtomicInteger failures = new AtomicInteger();
            // No refusal cache: every decision reaches Redis or the policy. A limit that always
            // grants, so that any refusal is the policy's.
            RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(client.connection().async())
                    .refusalCache(0).timeout(TIMEOUT).failurePolicy(FailurePolicy.failClosed(CLOSED_RETRY))
                    .failureListener(f -> failures.incrementAndGet()).build()
                    .keyed("hot", TokenBucket.of(1_000_000_000, 1_000_000_000, Duration.ofSeconds(1)));
            RedisRateLimiters.KeyedLimiter probe = RedisRateLimiters.builder(client.connection().async())
                    .timeout(TIMEOUT).failurePolicy(FailurePolicy.propagate()).build()
                    .keyed("probe", TokenBucket.of(1_000_000, 1_000_000, Duration.ofSeconds(1)));
            int threads = 8;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            AtomicBoolean stop = new AtomicBoolean();
            Queue<Answer> answers = new ConcurrentLinkedQueue<>();
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                boolean async = t % 2 == 1; // half wait on their own thread, half on the timer
                workers.add(pool.submit(() -> {
                    while (!stop.get()) {
                        long start = System.nanoTime();
                        Decision d = null;
                        Throwable failed = null;
                        try {
                            d = async ? limiter.decideAsync("k", 1).toCompletableFuture().get(30, TimeUnit.SECONDS)
                                    : limiter.decide("k", 1);
                        } catch (Exception | Error e) {
                            failed = e;
                        }
                        answers.add(new Answer(start, System.nanoTime(), d, failed));
                    }
                    return null;
                }));
            }
            await(() -> answers.size() >= 500, Duration.ofSeconds(20), "decisions before the kill");
            redis.kill();
            long killed = System.nanoTime();
            await(() -> answers.stream().filter(a -> a.startNanos() > killed).count() >= 4L * threads,
                    Duration.ofSeconds(20), "decisions while Redis is down");
            long restarting = System.nanoTime();
            redis.restart();
            awaitDeciding(probe);
            long recovered = System.nanoTime();
            await(() -> answers.stream().filter(a -> a.startNanos() > recovered).count() >= 200,
                    Duration.ofSeconds(20), "decisions after the recovery");
            long settled = System.nanoTime();
            int failuresSettled = failures.get();
            await(() -> answers.stream().filter(a -> a.startNanos() > settled).count() >= 500,
                    Duration.ofSeconds(20), "more decisions after the recovery");
            stop.set(true);
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("every worker's last decision answered").isTrue();
            for (Future<?> w : workers) {
                w.get();
            }

            Duration bound = TIMEOUT.plus(MARGIN);
            for (Answer a : answers) {
                assertThat(a.failure()).as("%s", a).isNull();
                assertThat(Duration.ofNanos(a.endNanos() - a.startNanos())).as("duration of %s", a)
                        .isLessThanOrEqualTo(bound);
            }
            List<Answer> outage = answers.stream()
                    .filter(a -> a.startNanos() > killed && a.endNanos() < restarting).toList();
            assertThat(outage).as("decisions while Redis was down").isNotEmpty().allSatisfy(a -> {
                assertThat(a.decision().isAllowed()).isFalse();
                assertThat(a.decision().retryAfter()).isEqualTo(CLOSED_RETRY);
            });
            assertThat(failures.get()).as("policy answers once settled after the recovery").isEqualTo(failuresSettled);
            assertThat(answers.stream().filter(a -> a.startNanos() > settled))
                    .as("decided by Redis again").allSatisfy(a -> assertThat(a.decision().isAllowed()).isTrue());
            assertThat(limiter.delegate().coalescer().lanes()).as("lanes left once nothing is in flight").isZero();
            assertThat(FaultClient.threadsInsideTheLimiters()).as("threads still inside a limiter").isEmpty();
        }
    }

    /** One worker: sync, async and blocking calls in turn, paced so that six do not flood the machine. */
    private static void work(RedisRateLimiters.KeyedLimiter limiter, String key, AtomicBoolean stop, AtomicLong issued,
                             Queue<Call> calls) {
        for (int i = 0; !stop.get(); i++) {
            String kind = switch (i % 3) {
                case 0 -> "sync";
                case 1 -> "async";
                default -> "blocking";
            };
            issued.incrementAndGet();
            long start = System.nanoTime();
            Decision decision = null;
            boolean granted = false;
            Throwable failure = null;
            try {
                switch (kind) {
                    case "sync" -> decision = limiter.decide(key, 1);
                    case "async" -> decision = limiter.decideAsync(key, 1).toCompletableFuture()
                            .get(TIMEOUT.plus(MARGIN).toMillis() * 2, TimeUnit.MILLISECONDS);
                    default -> granted = limiter.tryAcquire(key, 1, BLOCKING_WAIT);
                }
            } catch (Throwable t) {
                failure = t;
            }
            long end = System.nanoTime();
            if (decision != null) {
                granted = decision.isAllowed();
            }
            calls.add(new Call(key, kind, start, end, decision, granted, failure));
            // Pacing between calls, not time for a limiter: the limiters run on real time here.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    @Test
    public void latencyBeyondTheTimeoutTakesTheTimeoutPathAndTheTimedOutCallIsNotRetried() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             LatencyProxy proxy = LatencyProxy.to(redis);
             FaultClient client = new FaultClient(proxy.uri(), TIMEOUT, true);
             RespClient direct = redis.client()) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(client.connection().async())
                    .timeout(TIMEOUT).failurePolicy(FailurePolicy.failClosed(Duration.ofMillis(50)))
                    .failureListener(failures::add).build()
                    .keyed("latency", TokenBucket.of(100, 1, Duration.ofHours(1)));
            assertThat(limiter.decide("k", 1).remaining()).isEqualTo(99); // also caches the script
            long before = direct.scriptCalls();

            // 400 ms each way: no answer can come within the 300 ms timeout.
            proxy.setDelay(Duration.ofMillis(400));
            int slow = 4;
            for (int i = 0; i < slow; i++) {
                long start = System.nanoTime();
                Decision d = i % 2 == 0 ? limiter.decide("k", 1)
                        : limiter.decideAsync("k", 1).toCompletableFuture().get(5, TimeUnit.SECONDS);
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                assertThat(d.isAllowed()).isFalse();
                assertThat(d.retryAfter()).as("the fail-closed answer").isEqualTo(Duration.ofMillis(50));
                assertThat(took).isLessThanOrEqualTo(TIMEOUT.plus(MARGIN));
            }
            assertThat(failures).hasSize(slow).allSatisfy(f -> assertThat(isTimeout(f)).as("%s", f).isTrue());

            // The timed-out calls reach Redis late and run there once each: never a second time.
            proxy.setDelay(Duration.ZERO);
            await(() -> direct.scriptCalls() >= before + slow, Duration.ofSeconds(10), "the late calls to arrive");
            // A retry would have been sent before this call on the same connection, so it would be counted by now.
            Decision after = limiter.decide("k", 1);
            assertThat(direct.scriptCalls()).isEqualTo(before + slow + 1);
            assertThat(after.remaining()).as("each timed-out call counted once").isEqualTo(99 - slow - 1);

            // A black hole: nothing comes back at all.
            proxy.blackhole(true);
            long start = System.nanoTime();
            Decision sync = limiter.decide("k", 1);
            Decision async = limiter.decideAsync("k", 1).toCompletableFuture().get(5, TimeUnit.SECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(sync.isAllowed()).isFalse();
            assertThat(async.isAllowed()).isFalse();
            assertThat(took).isLessThanOrEqualTo(TIMEOUT.multipliedBy(2).plus(MARGIN));
            assertThat(failures).hasSize(slow + 2).allSatisfy(f -> assertThat(isTimeout(f)).isTrue());
            long beforeLift = direct.scriptCalls();
            proxy.blackhole(false);
            await(() -> direct.scriptCalls() >= beforeLift + 2, Duration.ofSeconds(10), "the held calls to arrive");
            Decision healed = limiter.decide("k", 1);
            assertThat(healed.isAllowed()).isTrue();
            assertThat(healed.remaining()).isEqualTo(99 - slow - 1 - 3);
            assertThat(direct.scriptCalls()).isEqualTo(beforeLift + 3);
            assertThat(failures).hasSize(slow + 2);
        }
    }

    private static boolean isTimeout(RedisRateLimiterException f) {
        return f.getCause() instanceof TimeoutException || f.getCause() instanceof RedisCommandTimeoutException;
    }

    @Test
    public void scriptFlushMidRunWithManyConcurrentCallersReachesNoCaller() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             FaultClient client = new FaultClient(redis.uri(), Duration.ofSeconds(5), true);
             RespClient direct = redis.client();
             RespClient flusher = redis.client()) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(client.connection().async())
                    .timeout(Duration.ofSeconds(5)).failurePolicy(FailurePolicy.propagate())
                    .failureListener(failures::add).build()
                    .keyed("flush", TokenBucket.of(1000, 1, Duration.ofHours(1)));
            int threads = 16;
            int perThread = 150;
            ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger flushes = new AtomicInteger();
            Future<?> flushing = pool.submit(() -> {
                while (!done.get()) {
                    flusher.call("SCRIPT", "FLUSH");
                    flushes.incrementAndGet();
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                }
            });
            List<Future<Integer>> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                callers.add(pool.submit(() -> {
                    int granted = 0;
                    for (int i = 0; i < perThread; i++) {
                        boolean ok = (thread + i) % 2 == 0 ? limiter.tryAcquire("shared", 1)
                                : limiter.tryAcquireAsync("shared", 1).toCompletableFuture().get(10, TimeUnit.SECONDS);
                        granted += ok ? 1 : 0;
                    }
                    return granted;
                }));
            }
            int granted = 0;
            for (Future<Integer> f : callers) {
                granted += f.get(60, TimeUnit.SECONDS); // an error reaching a caller fails here
            }
            done.set(true);
            flushing.get(10, TimeUnit.SECONDS);
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

            assertThat(failures).isEmpty();
            assertThat(granted).as("exactly the capacity: one refill takes an hour").isEqualTo(1000);
            assertThat(flushes.get()).isGreaterThan(1);
            assertThat(direct.commandCalls("eval")).as("NOSCRIPT answered by EVAL more than once").isGreaterThan(1);
        }
    }

    /** Collects what the Redis limiters log through {@link System.Logger} (the JDK's default backend, java.util.logging). */
    static final class LogCapture extends java.util.logging.Handler implements AutoCloseable {
        private final java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.ratelimiter.redis");
        final List<java.util.logging.LogRecord> records = new CopyOnWriteArrayList<>();

        LogCapture() {
            logger.addHandler(this);
        }

        @Override
        public void publish(java.util.logging.LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }

        long count(String containing) {
            return records.stream().filter(r -> String.valueOf(r.getMessage()).contains(containing)).count();
        }
    }

    static Stream<Arguments> everyPolicy() {
        return Stream.of(arguments(FailurePolicy.fallbackToLocal()), arguments(FailurePolicy.failOpen()),
                arguments(FailurePolicy.failClosed()), arguments(FailurePolicy.propagate()));
    }

    /** Asserts that a sync and an async decision, and a blocking acquire, all fail with the misconfiguration. */
    private static void assertMisconfigured(RedisRateLimiters.KeyedLimiter limiter, CompositeLimiter composite,
                                            RedisMisconfigurationException.Reason reason) {
        for (AsyncKeyedRateLimiter<String> l : List.<AsyncKeyedRateLimiter<String>>of(limiter, composite)) {
            dev.ratelimiter.KeyedRateLimiter<String> sync = (dev.ratelimiter.KeyedRateLimiter<String>) l;
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> sync.decide("k", 1))
                    .isInstanceOfSatisfying(RedisMisconfigurationException.class, e -> assertThat(e.reason()).isEqualTo(reason));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> sync.tryAcquire("k", 1))
                    .isInstanceOf(RedisMisconfigurationException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> sync.tryAcquire("k", 1, Duration.ofMillis(50)))
                    .isInstanceOf(RedisMisconfigurationException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> l.decideAsync("k", 1).toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(RedisMisconfigurationException.class);
            // An oversized request is still exceeding, whatever the cause of the failure.
            assertThat(sync.decide("k", 1_000).exceedsLimit()).isTrue();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyPolicy")
    public void aLimiterOnAReplicaIsReportedAsMisconfiguredNotAnsweredByThePolicy(FailurePolicy policy) throws Exception {
        try (RedisProcess master = RedisProcess.start();
             RedisProcess replica = RedisProcess.start("--replicaof", RedisProcess.HOST, Integer.toString(master.port()));
             FaultClient client = new FaultClient(replica.uri(), TIMEOUT, true);
             LogCapture log = new LogCapture()) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters redis = RedisRateLimiters.builder(client.connection().async())
                    .timeout(TIMEOUT).failurePolicy(policy).failureListener(failures::add).build();
            RedisRateLimiters.KeyedLimiter limiter = redis.keyed("replica", TokenBucket.of(5, 1, Duration.ofHours(1)));
            CompositeLimiter composite = redis.composite("replica-c", TokenBucket.of(5, 1, Duration.ofHours(1)));
            assertMisconfigured(limiter, composite, RedisMisconfigurationException.Reason.READ_ONLY_REPLICA);
            assertThat(failures).isNotEmpty().allSatisfy(f -> assertThat(f)
                    .isInstanceOfSatisfying(RedisMisconfigurationException.class,
                            e -> assertThat(e.reason()).isEqualTo(RedisMisconfigurationException.Reason.READ_ONLY_REPLICA)));
            assertThat(log.count("READ_ONLY_REPLICA")).as("logged once per factory").isEqualTo(1);
        }
    }

    @Test
    public void anAclUserWithoutEvalshaIsReportedAsMisconfiguredAndItsFactoryStillBuilds() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             RespClient admin = redis.client();
             LogCapture log = new LogCapture()) {
            admin.call("ACL", "SETUSER", "limiter", "on", ">secret", "~*", "+@all", "-evalsha", "-eval", "-config");
            String uri = "redis://limiter:secret@" + RedisProcess.HOST + ":" + redis.port();
            try (FaultClient client = new FaultClient(uri, TIMEOUT, true)) {
                List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
                long start = System.nanoTime();
                RedisRateLimiters factory = RedisRateLimiters.builder(client.connection().async())
                        .timeout(TIMEOUT).failurePolicy(FailurePolicy.fallbackToLocal()).failureListener(failures::add).build();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThanOrEqualTo(TIMEOUT.plus(MARGIN));
                RedisRateLimiters.KeyedLimiter limiter = factory.keyed("acl", TokenBucket.of(5, 1, Duration.ofHours(1)));
                CompositeLimiter composite = factory.composite("acl-c", TokenBucket.of(5, 1, Duration.ofHours(1)));
                assertMisconfigured(limiter, composite, RedisMisconfigurationException.Reason.NO_PERMISSION);
                assertThat(failures).isNotEmpty().allSatisfy(f -> assertThat(f)
                        .isInstanceOf(RedisMisconfigurationException.class).hasMessageContaining("NOPERM"));
                assertThat(log.count("NO_PERMISSION")).as("logged once per factory").isEqualTo(1);
                // CONFIG GET was refused (NOPERM): the eviction check skipped silently.
                assertThat(failures).noneSatisfy(f -> assertThat(((RedisMisconfigurationException) f).reason())
                        .isEqualTo(RedisMisconfigurationException.Reason.EVICTION_POLICY));
            }
        }
    }

    @Test
    public void outOfMemoryIsAnsweredByThePolicyAndReportedDistinctly() throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             RespClient admin = redis.client();
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, true);
             LogCapture log = new LogCapture()) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(client.connection().async())
                    .timeout(TIMEOUT).failurePolicy(FailurePolicy.failClosed(CLOSED_RETRY)).failureListener(failures::add)
                    .build().keyed("oom", TokenBucket.of(5, 1, Duration.ofHours(1)));
            assertThat(limiter.decide("warm-up", 1).isAllowed()).isTrue();
            admin.call("CONFIG", "SET", "maxmemory", "1"); // noeviction (the default): every write refused
            try {
                for (int i = 0; i < 3; i++) {
                    Decision d = limiter.decide("k", 1);
                    assertThat(d.isAllowed()).isFalse();
                    assertThat(d.retryAfter()).as("the fail-closed answer").isEqualTo(CLOSED_RETRY);
                }
                assertThat(failures).hasSize(3).allSatisfy(f -> assertThat(f).isInstanceOf(RedisOutOfMemoryException.class)
                        .hasMessageContaining("OOM"));
                assertThat(log.count("out of memory")).as("logged once per factory").isEqualTo(1);
            } finally {
                admin.call("CONFIG", "SET", "maxmemory", "0");
            }
        }
    }

    @ParameterizedTest(name = "maxmemory-policy {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"allkeys-lru", "volatile-lru", "noeviction"})
    public void anEvictingMaxmemoryPolicyIsWarnedAboutOnceWhenTheFactoryIsBuilt(String policy) throws Exception {
        try (RedisProcess redis = RedisProcess.start("--maxmemory-policy", policy);
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, true);
             LogCapture log = new LogCapture()) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters factory = RedisRateLimiters.builder(client.connection().async())
                    .timeout(TIMEOUT).failurePolicy(FailurePolicy.propagate()).failureListener(failures::add).build();
            RedisRateLimiters.KeyedLimiter limiter = factory.keyed("evict", TokenBucket.of(5, 1, Duration.ofHours(1)));
            // The check was sent first on the same connection, so its answer is in by the decision's.
            assertThat(limiter.decide("k", 1).isAllowed()).isTrue();
            assertThat(limiter.decide("k", 1).isAllowed()).isTrue();
            if (policy.equals("noeviction")) {
                assertThat(failures).isEmpty();
                assertThat(log.count("maxmemory-policy")).isZero();
            } else {
                assertThat(failures).singleElement().isInstanceOfSatisfying(RedisMisconfigurationException.class, e -> {
                    assertThat(e.reason()).isEqualTo(RedisMisconfigurationException.Reason.EVICTION_POLICY);
                    assertThat(e).hasMessageContaining(policy).hasMessageContaining("noeviction");
                });
                assertThat(log.count("maxmemory-policy is " + policy)).isEqualTo(1);
            }
        }
    }

    @ParameterizedTest(name = "CLIENT PAUSE {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"ALL", "WRITE"})
    public void aPausedRedisTimesOutWithinTheTimeoutAndThePolicyAnswers(String mode) throws Exception {
        try (RedisProcess redis = RedisProcess.start();
             RespClient admin = redis.client();
             FaultClient client = new FaultClient(redis.uri(), TIMEOUT, true)) {
            List<RedisRateLimiterException> failures = new CopyOnWriteArrayList<>();
            RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(client.connection().async())
                    .timeout(TIMEOUT).failurePolicy(FailurePolicy.failClosed(CLOSED_RETRY)).failureListener(failures::add)
                    .build().keyed("pause", TokenBucket.of(5, 1, Duration.ofHours(1)));
            assertThat(limiter.decide("warm-up", 1).isAllowed()).isTrue();
            admin.call("CLIENT", "PAUSE", "2000", mode);
            long start = System.nanoTime();
            Decision sync = limiter.decide("k", 1);
            Decision async = limiter.decideAsync("k", 1).toCompletableFuture().get(5, TimeUnit.SECONDS);
            // Building a factory while Redis is paused (its eviction check gets no answer) does not block.
            RedisRateLimiters.builder(client.connection().async()).timeout(TIMEOUT).build();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            admin.call("CLIENT", "UNPAUSE");
            for (Decision d : List.of(sync, async)) {
                assertThat(d.isAllowed()).isFalse();
                assertThat(d.retryAfter()).as("the fail-closed answer").isEqualTo(CLOSED_RETRY);
            }
            assertThat(took).as("two timed-out calls").isLessThanOrEqualTo(TIMEOUT.multipliedBy(2).plus(MARGIN));
            assertThat(failures).hasSize(2).allSatisfy(f -> assertThat(isTimeout(f)).as("%s", f).isTrue());
        }
    }


    private static void awaitCalls(Queue<Call> calls, java.util.function.Predicate<Call> which, int count, String what) {
        await(() -> calls.stream().filter(which).count() >= count, Duration.ofSeconds(20), what);
    }

    /** Waits until Redis, restarted, decides for {@code probe} again. */
    private static void awaitDeciding(RedisRateLimiters.KeyedLimiter probe) {
        await(() -> {
            try {
                return probe.decide("up", 1).isAllowed();
            } catch (RedisRateLimiterException stillDown) {
                return false;
            }
        }, Duration.ofSeconds(15), "Redis deciding again after the restart");
    }

    /** Polls an external process's state every 10 ms, failing after {@code max}. */
    private static void await(BooleanSupplier condition, Duration max, String what) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + max + " waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }
}

package dev.ratelimiter.micrometer;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiterListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Micrometer meters from the limiters' events: register it as the {@link RateLimiterListener}
 * of a limiter or of a factory, and every limiter it hears is measured under its name.
 *
 * <pre>{@code
 * RateLimiterMetrics metrics = new RateLimiterMetrics(meterRegistry);
 * RateLimiterFactory limiters = LocalRateLimiters.factoryBuilder().listener(metrics).build();
 * }</pre>
 *
 * <p>The meters, each tagged {@code name} (the limiter's name) besides the tags given here:
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>Meter</th><th>Type</th><th>Other tags</th><th>Counts</th></tr>
 *   <tr><td>{@value #DECISIONS}</td><td>counter</td><td>{@code outcome}: {@code granted} or
 *       {@code denied}</td><td>decisions made by the limiter itself</td></tr>
 *   <tr><td>{@value #PERMITS}</td><td>counter</td><td>{@code outcome}</td><td>the permits those
 *       decisions asked for</td></tr>
 *   <tr><td>{@value #FAILURE_POLICY}</td><td>counter</td><td>{@code policy}, {@code outcome}</td>
 *       <td>decisions answered by the failure policy because the backend failed</td></tr>
 *   <tr><td>{@value #MISCONFIGURATIONS}</td><td>counter</td><td></td><td>backend
 *       misconfigurations reported (for instance a Redis replica or a missing ACL)</td></tr>
 *   <tr><td>{@value #WAITS}</td><td>timer</td><td>{@code outcome}: {@code granted} or
 *       {@code timed_out}</td><td>time blocking acquires spent waiting</td></tr>
 *   <tr><td>{@value #RECONFIGURATIONS}</td><td>counter</td><td></td><td>limit changes</td></tr>
 *   <tr><td>{@value #KEYS_DROPPED}</td><td>counter</td><td>{@code cause}: {@code idle} or
 *       {@code bound}</td><td>keys a keyed limiter dropped</td></tr>
 *   <tr><td>{@value #KEYS}</td><td>gauge</td><td></td><td>keys a keyed limiter holds, once
 *       {@link #gaugeKeys registered}</td></tr>
 *   <tr><td>{@value #BACKEND_CALLS}</td><td>timer</td><td>{@code outcome}: {@code success} or
 *       {@code failure}</td><td>the round trip of each call a remote backend (Redis) made, for
 *       decisions and the other operations; created at a limiter's first call, so local limiters
 *       have none</td></tr>
 * </table>
 *
 * <p>Keys are never tags: their number is unbounded. The meters of a name are created at its first
 * event; after that an event costs a map lookup and an increment, and allocates nothing.
 * Thread-safe.
 */
public final class RateLimiterMetrics implements RateLimiterListener {

    /** Decisions, by {@code name} and {@code outcome}. */
    public static final String DECISIONS = "ratelimiter.decisions";
    /** Permits asked for, by {@code name} and {@code outcome}. */
    public static final String PERMITS = "ratelimiter.permits";
    /** Decisions answered by the failure policy, by {@code name}, {@code policy} and {@code outcome}. */
    public static final String FAILURE_POLICY = "ratelimiter.failure.policy";
    /** Backend misconfigurations, by {@code name}. */
    public static final String MISCONFIGURATIONS = "ratelimiter.misconfigurations";
    /** Time spent waiting in blocking acquires, by {@code name} and {@code outcome}. */
    public static final String WAITS = "ratelimiter.waits";
    /** Limit changes, by {@code name}. */
    public static final String RECONFIGURATIONS = "ratelimiter.reconfigurations";
    /** Keys dropped by keyed limiters, by {@code name} and {@code cause}. */
    public static final String KEYS_DROPPED = "ratelimiter.keys.dropped";
    /** Keys held by a keyed limiter, by {@code name}. */
    public static final String KEYS = "ratelimiter.keys";
    /** Round trips of the calls to a remote backend (Redis), by {@code name} and {@code outcome}. */
    public static final String BACKEND_CALLS = "ratelimiter.backend.calls";

    private final MeterRegistry registry;
    private final Tags tags;
    private final ConcurrentMap<String, Meters> meters = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongSupplier> keyCounts = new ConcurrentHashMap<>();
    private final ConcurrentMap<FailureKey, Counter> failures = new ConcurrentHashMap<>();
    /** By limiter name: the timers of its backend calls that succeeded, then failed. */
    private final ConcurrentMap<String, Timer[]> backendCalls = new ConcurrentHashMap<>();

    /**
     * Measures into {@code registry}.
     *
     * @param registry where the meters go
     * @throws NullPointerException if {@code registry} is {@code null}
     */
    public RateLimiterMetrics(MeterRegistry registry) {
        this(registry, Tags.empty());
    }

    /**
     * Measures into {@code registry}, adding {@code tags} to every meter.
     *
     * @param registry where the meters go
     * @param tags     tags added to every meter (for instance the application)
     * @throws NullPointerException if an argument is {@code null}
     */
    public RateLimiterMetrics(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
    }

    /**
     * Registers the gauge {@value #KEYS} of a keyed limiter, for instance
     * {@code gaugeKeys("per-user", perUser::size)}. Registering a name again replaces its source.
     *
     * @param name the limiter's name
     * @param keys how many keys it holds now
     * @return this
     * @throws NullPointerException if an argument is {@code null}
     */
    public RateLimiterMetrics gaugeKeys(String name, LongSupplier keys) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keys, "keys");
        if (keyCounts.put(name, keys) == null) {
            Gauge.builder(KEYS, keyCounts, counts -> {
                        LongSupplier source = counts.get(name);
                        return source == null ? Double.NaN : source.getAsLong();
                    })
                    .description("Keys held by a keyed rate limiter")
                    .baseUnit("keys")
                    .tags(tags).tag("name", name)
                    .strongReference(true)
                    .register(registry);
        }
        return this;
    }

    @Override
    public void onGranted(String limiter, Object key, long permits, Decision decision) {
        Meters m = meters(limiter);
        m.granted.increment();
        m.grantedPermits.increment(permits);
    }

    @Override
    public void onDenied(String limiter, Object key, long permits, Decision decision) {
        Meters m = meters(limiter);
        m.denied.increment();
        m.deniedPermits.increment(permits);
    }

    @Override
    public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
        Meters m = meters(limiter);
        (granted ? m.waitGranted : m.waitTimedOut).record(waitedNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void onFailurePolicy(String limiter, Object key, String policy, Decision answer,
                                RuntimeException failure) {
        FailureKey k = new FailureKey(limiter, String.valueOf(policy), answer != null && answer.isAllowed());
        failures.computeIfAbsent(k, this::failureCounter).increment();
    }

    @Override
    public void onMisconfiguration(String limiter, Object key, RuntimeException failure) {
        meters(limiter).misconfigurations.increment();
    }

    @Override
    public void onReconfigured(String limiter, Limit oldLimit, Limit newLimit) {
        meters(limiter).reconfigurations.increment();
    }

    @Override
    public void onKeyDropped(String limiter, Object key, DropCause cause) {
        Meters m = meters(limiter);
        (cause == DropCause.BOUND ? m.droppedBound : m.droppedIdle).increment();
    }

    @Override
    public void onBackendCall(String limiter, long nanos, boolean succeeded) {
        String name = String.valueOf(limiter);
        Timer[] timers = backendCalls.get(name);
        if (timers == null) {
            timers = backendCalls.computeIfAbsent(name, n -> new Timer[] {callTimer(n, "success"), callTimer(n, "failure")});
        }
        timers[succeeded ? 0 : 1].record(nanos, TimeUnit.NANOSECONDS);
    }

    private Timer callTimer(String name, String outcome) {
        return Timer.builder(BACKEND_CALLS).description("Round trips of rate limiter calls to the backend")
                .tags(tags).tag("name", name).tag("outcome", outcome)
                .register(registry);
    }

    private Meters meters(String limiter) {
        String name = String.valueOf(limiter);
        Meters m = meters.get(name);
        return m != null ? m : meters.computeIfAbsent(name, Meters::new);
    }

    private Counter failureCounter(FailureKey k) {
        return Counter.builder(FAILURE_POLICY)
                .description("Decisions answered by the failure policy while the backend failed")
                .tags(tags).tag("name", k.limiter).tag("policy", k.policy)
                .tag("outcome", k.granted ? "granted" : "denied")
                .register(registry);
    }

    private record FailureKey(String limiter, String policy, boolean granted) {
    }

    /** The meters of one limiter name. */
    private final class Meters {
        final Counter granted;
        final Counter denied;
        final Counter grantedPermits;
        final Counter deniedPermits;
        final Timer waitGranted;
        final Timer waitTimedOut;
        final Counter misconfigurations;
        final Counter reconfigurations;
        final Counter droppedIdle;
        final Counter droppedBound;

        Meters(String name) {
            granted = counter(DECISIONS, "Rate limiter decisions", "decisions", name, "outcome", "granted");
            denied = counter(DECISIONS, "Rate limiter decisions", "decisions", name, "outcome", "denied");
            grantedPermits = counter(PERMITS, "Permits asked of rate limiters", "permits", name, "outcome", "granted");
            deniedPermits = counter(PERMITS, "Permits asked of rate limiters", "permits", name, "outcome", "denied");
            waitGranted = timer(name, "granted");
            waitTimedOut = timer(name, "timed_out");
            misconfigurations = counter(MISCONFIGURATIONS, "Backend misconfigurations reported", null, name, null, null);
            reconfigurations = counter(RECONFIGURATIONS, "Rate limit changes", null, name, null, null);
            droppedIdle = counter(KEYS_DROPPED, "Keys dropped by keyed rate limiters", "keys", name, "cause", "idle");
            droppedBound = counter(KEYS_DROPPED, "Keys dropped by keyed rate limiters", "keys", name, "cause", "bound");
        }

        private Counter counter(String meter, String description, String unit, String name, String tag, String value) {
            Counter.Builder b = Counter.builder(meter).description(description).baseUnit(unit)
                    .tags(tags).tag("name", name);
            return (tag == null ? b : b.tag(tag, value)).register(registry);
        }

        private Timer timer(String name, String outcome) {
            return Timer.builder(WAITS).description("Time spent waiting for permits")
                    .tags(tags).tag("name", name).tag("outcome", outcome)
                    .register(registry);
        }
    }
}

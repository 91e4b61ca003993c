package dev.ratelimiter;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records every event it hears, in order, for the tests' assertions. */
class RecordingListener implements RateLimiterListener {

    /** One event: its kind, limiter, key and the fields particular to it. */
    record Event(String kind, String limiter, Object key, Object... fields) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Event e && e.kind.equals(kind) && e.limiter.equals(limiter)
                    && java.util.Objects.equals(e.key, key) && java.util.Arrays.equals(e.fields, fields);
        }

        @Override
        public int hashCode() {
            return kind.hashCode();
        }

        @Override
        public String toString() {
            return kind + "(" + limiter + ", " + key + ", " + java.util.Arrays.toString(fields) + ")";
        }
    }

    final List<Event> events = new CopyOnWriteArrayList<>();

    @Override
    public void onGranted(String limiter, Object key, long permits, Decision decision) {
        events.add(new Event("granted", limiter, key, permits, decision));
    }

    @Override
    public void onDenied(String limiter, Object key, long permits, Decision decision) {
        events.add(new Event("denied", limiter, key, permits, decision));
    }

    @Override
    public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
        events.add(new Event("waited", limiter, key, permits, granted, waitedNanos));
    }

    @Override
    public void onFailurePolicy(String limiter, Object key, String policy, Decision answer, RuntimeException failure) {
        events.add(new Event("failurePolicy", limiter, key, policy, answer, failure));
    }

    @Override
    public void onMisconfiguration(String limiter, Object key, RuntimeException failure) {
        events.add(new Event("misconfiguration", limiter, key, failure));
    }

    @Override
    public void onReconfigured(String limiter, Limit oldLimit, Limit newLimit) {
        events.add(new Event("reconfigured", limiter, null, oldLimit, newLimit));
    }

    @Override
    public void onKeyDropped(String limiter, Object key, DropCause cause) {
        events.add(new Event("keyDropped", limiter, key, cause));
    }

    @Override
    public void onBackendCall(String limiter, long nanos, boolean succeeded) {
        events.add(new Event("backendCall", limiter, null, nanos, succeeded));
    }
}

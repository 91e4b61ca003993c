package dev.ratelimiter.local;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.RateLimiterListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A listener recording every event as a line of text, in order, for the tests' assertions. */
final class ListenedEvents implements RateLimiterListener {

    final List<String> lines = new CopyOnWriteArrayList<>();
    final List<Decision> decisions = new CopyOnWriteArrayList<>();

    @Override
    public void onGranted(String limiter, Object key, long permits, Decision decision) {
        lines.add("granted " + limiter + " " + key + " " + permits + (decision == null ? "" : " remaining="
                + decision.remaining()));
        if (decision != null) {
            decisions.add(decision);
        }
    }

    @Override
    public void onDenied(String limiter, Object key, long permits, Decision decision) {
        lines.add("denied " + limiter + " " + key + " " + permits + (decision == null ? "" : " retryAfter="
                + decision.retryAfterNanos()));
        if (decision != null) {
            decisions.add(decision);
        }
    }

    @Override
    public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
        lines.add("waited " + limiter + " " + key + " " + permits + " " + (granted ? "granted" : "refused")
                + " after " + waitedNanos);
    }

    @Override
    public void onReconfigured(String limiter, Limit oldLimit, Limit newLimit) {
        lines.add("reconfigured " + limiter + " " + oldLimit + " -> " + newLimit);
    }

    @Override
    public void onKeyDropped(String limiter, Object key, DropCause cause) {
        lines.add("dropped " + limiter + " " + key + " " + cause);
    }
}

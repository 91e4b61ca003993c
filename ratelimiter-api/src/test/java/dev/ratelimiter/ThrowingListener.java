package dev.ratelimiter;

/** A listener that throws from every event, to show it never changes a decision. */
final class ThrowingListener implements RateLimiterListener {

    int calls;

    private RuntimeException boom() {
        calls++;
        return new IllegalStateException("listener failure");
    }

    @Override
    public void onGranted(String limiter, Object key, long permits, Decision decision) {
        throw boom();
    }

    @Override
    public void onDenied(String limiter, Object key, long permits, Decision decision) {
        throw boom();
    }

    @Override
    public void onWaited(String limiter, Object key, long permits, boolean granted, long waitedNanos) {
        throw boom();
    }

    @Override
    public void onReconfigured(String limiter, Limit oldLimit, Limit newLimit) {
        throw boom();
    }

    @Override
    public void onKeyDropped(String limiter, Object key, DropCause cause) {
        throw boom();
    }

    @Override
    public void onBackendCall(String limiter, long nanos, boolean succeeded) {
        throw boom();
    }
}

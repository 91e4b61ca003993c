package dev.ratelimiter.local;

/**
 * The pause a local limiter makes after losing a CAS race, before it reads the state again.
 *
 * <p>A grant writes the limiter's one state word, so two threads granting on one limiter move its
 * cache line between their cores on every call, and each transfer costs more than the whole
 * uncontended decision. A failed CAS means another thread has just written the word and is likely
 * to write it again at once; stepping aside for a few microseconds lets that thread run on with
 * the line in its own cache, and the line then moves once per pause instead of once per call.
 * With two threads granting on one token bucket this raises the total throughput from about 16
 * to about 30 decisions per microsecond (LocalAcquireBenchmark.twoThreads, allowed).
 *
 * <p>The pause spins ({@link Thread#onSpinWait()}) rather than parks: it costs no system call, it
 * is taken only after a failed CAS (never on the uncontended path, never on a refusal, which
 * writes nothing), and it is bounded (about 6 us where a spin-wait hint takes 12 ns). The retry
 * loops stay lock-free: a CAS fails only because another one succeeded.
 *
 * <p>The price is paid in the tail latency of contended grants: a thread that loses a race waits
 * the whole pause (HalfAdmittedBenchmark.twoThreadsLatency: p99 of 0.8 to 5 us for the window
 * limiters at two threads, against 0.7 to 3 us without the pause). Shorter pauses (64 to 256
 * hints) gave back part of the two-thread throughput, the window limiters' most, without a
 * consistent gain in p99.
 */
final class Backoff {

    /** Spin-wait hints per pause: a few microseconds, far below what a park costs to wake. */
    static final int SPINS = 512;

    private Backoff() {
    }

    /** Pauses the calling thread for {@link #SPINS} spin-wait hints. */
    static void spin() {
        for (int i = 0; i < SPINS; i++) {
            Thread.onSpinWait();
        }
    }
}

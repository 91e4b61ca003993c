package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The keyed benchmark's set-up builds what it claims: the skewed key sequence and granting limiters. */
class KeyedAcquireBenchmarkTest {

    @ParameterizedTest
    @ValueSource(strings = {"tokenBucket", "bucket4j", "guava", "resilience4j"})
    void everyRequestOnTheKeySequenceIsGranted(String impl) {
        KeyedAcquireBenchmark benchmark = new KeyedAcquireBenchmark();
        benchmark.impl = impl;
        benchmark.setUp();
        KeyedAcquireBenchmark.Cursor first = new KeyedAcquireBenchmark.Cursor();
        first.setUp(0, 2);
        KeyedAcquireBenchmark.Cursor second = new KeyedAcquireBenchmark.Cursor();
        second.setUp(1, 2);

        for (int i = 0; i < 50_000; i++) {
            assertThat(benchmark.oneThread(first)).as("request %d", i).isTrue();
            assertThat(benchmark.twoThreads(second)).as("request %d", i).isTrue();
        }
        assertThat(first.next).isEqualTo(50_000);
        assertThat(second.next).isEqualTo(KeyedAcquireBenchmark.SEQUENCE_LENGTH / 2 + 50_000);
    }

    @Test
    void zipfSequenceFavoursTheFirstRanksLikeOneOverRank() {
        int[] ranks = KeyedAcquireBenchmark.zipfSequence(100_000, 1.0, 1 << 20, 42);
        int[] counts = new int[100_000];
        for (int r : ranks) {
            counts[r]++;
        }
        double harmonic = 0;
        for (int r = 1; r <= 100_000; r++) {
            harmonic += 1.0 / r;
        }

        // P(rank 0) = 1 / H(100000) ~ 8.3%, P(rank 1) half of it, P(rank 9) a tenth.
        assertThat(counts[0] / (double) ranks.length).isCloseTo(1 / harmonic, within(0.002));
        assertThat(counts[1] / (double) counts[0]).isCloseTo(0.5, within(0.02));
        assertThat(counts[9] / (double) counts[0]).isCloseTo(0.1, within(0.01));
        assertThat(java.util.Arrays.stream(ranks).min().getAsInt()).isZero();
        assertThat(java.util.Arrays.stream(ranks).max().getAsInt()).isLessThanOrEqualTo(99_999);
    }

    @Test
    void zipfSequenceIsTheSameForTheSameSeed() {
        assertThat(KeyedAcquireBenchmark.zipfSequence(1000, 1.0, 4096, 7))
                .isEqualTo(KeyedAcquireBenchmark.zipfSequence(1000, 1.0, 4096, 7));
    }

    @Test
    void zipfSequenceRejectsBadInputsByName() {
        assertThatThrownBy(() -> KeyedAcquireBenchmark.zipfSequence(0, 1.0, 10, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("n must be > 0: n=0");
        assertThatThrownBy(() -> KeyedAcquireBenchmark.zipfSequence(10, -1.0, 10, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("exponent must be finite and >= 0: exponent=-1.0");
        assertThatThrownBy(() -> KeyedAcquireBenchmark.zipfSequence(10, 1.0, 0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("length must be > 0: length=0");
    }

    @Test
    void unknownImplementationIsRejectedByName() {
        assertThatThrownBy(() -> KeyedAcquireBenchmark.create("nope"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("unknown implementation: impl=nope");
    }

    @Test
    void oursGrantsIndependentlyPerKey() {
        KeyedAcquireBenchmark.KeyedAcquire acquire = KeyedAcquireBenchmark.create("tokenBucket");

        assertThat(acquire.tryAcquire("a", KeyedAcquireBenchmark.PRIME_PERMITS)).isTrue();
        assertThat(acquire.tryAcquire("a", 1)).isTrue();
        assertThat(acquire.tryAcquire("b", 1)).isTrue();
    }

    @Test
    void everyBucketImplementationGrantsThePrimingRequestAndThenMore() {
        for (String impl : new String[] {"tokenBucket", "bucket4j"}) {
            KeyedAcquireBenchmark.KeyedAcquire acquire = KeyedAcquireBenchmark.create(impl);

            assertThat(acquire.tryAcquire("k", KeyedAcquireBenchmark.PRIME_PERMITS)).as(impl).isTrue();
            for (int i = 0; i < 1000; i++) {
                assertThat(acquire.tryAcquire("k", 1)).as(impl).isTrue();
            }
        }
    }
}

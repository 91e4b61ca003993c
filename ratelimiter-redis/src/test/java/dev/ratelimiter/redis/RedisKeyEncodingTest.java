package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.TokenBucket;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The key encoding is injective over every Java {@code String}, unpaired UTF-16 surrogates
 * included, and {@code redisKey()} is exactly the key Redis stores.
 */
class RedisKeyEncodingTest {

    /** Strings over the characters the escape treats specially, surrogates of both halves, and a few others. */
    @Provide
    Arbitrary<String> nastyStrings() {
        return Arbitraries.strings()
                .withChars('%', '{', '}', '?', 'a', 'u', '7', 'B', 'D', ':', '\uD800', '\uDBFF', '\uDC00', '\uDFFF')
                .ofMaxLength(8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Property(tries = 3000)
    void distinctKeysHaveDistinctUtf8RedisKeys(@ForAll("nastyStrings") String a, @ForAll("nastyStrings") String b) {
        if (a.equals(b)) {
            return;
        }
        assertThat(Arrays.equals(utf8(RedisKeys.escape(a)), utf8(RedisKeys.escape(b))))
                .as("escape(%s) vs escape(%s)", a.codePoints().boxed().toList(), b.codePoints().boxed().toList())
                .isFalse();
    }

    @Property(tries = 3000)
    void escapedKeysAreWellFormedAndRoundTripThroughUtf8(@ForAll String any) {
        String escaped = RedisKeys.escape(any);
        assertThat(new String(utf8(escaped), StandardCharsets.UTF_8)).isEqualTo(escaped);
        assertThat(escaped).doesNotContain("{", "}");
    }

    @Test
    void unpairedSurrogatesAndTheQuestionMarkLandOnThreeKeysInRedis() {
        RedisRateLimiters.KeyedLimiter limiter = RedisRateLimiters.builder(SharedConnection.get().async())
                .prefix(SharedConnection.freshPrefix()).failurePolicy(FailurePolicy.propagate()).build()
                .keyed("bad", TokenBucket.of(1, 1, Duration.ofHours(1)));
        RedisCommands<String, String> redis = SharedConnection.get().sync();
        for (String key : new String[] {"\uD800", "\uDFFF", "?", "\uD83D\uDE00", "\uDE00\uD83D"}) {
            assertThat(limiter.tryAcquire(key)).as("first permit of %s", key.codePoints().boxed().toList()).isTrue();
            assertThat(redis.exists(limiter.redisKey(key))).as("redisKey() is the stored key").isEqualTo(1L);
        }
        assertThat(limiter.redisKey("\uD800")).endsWith("{bad:%uD800}");
        assertThat(limiter.redisKey("\uD83D\uDE00")).as("a valid pair is kept").endsWith("{bad:\uD83D\uDE00}");
        for (String key : new String[] {"\uD800", "\uDFFF", "?", "\uD83D\uDE00", "\uDE00\uD83D"}) {
            assertThat(limiter.tryAcquire(key)).as("each key has its own state").isFalse();
        }
    }

    @Test
    void namesAndPrefixesWithUnpairedSurrogatesAreRefused() {
        assertThatThrownBy(() -> RedisRateLimiters.builder(SharedConnection.get().async()).prefix("rl\uD800:"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prefix must not contain an unpaired UTF-16 surrogate (U+D800 at index 2): prefix=rl\uD800:");
        RedisRateLimiters redis = RedisRateLimiters.builder(SharedConnection.get().async()).build();
        assertThatThrownBy(() -> redis.keyed("x\uDFFF", TokenBucket.of(1, 1, Duration.ofHours(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("name must not contain an unpaired UTF-16 surrogate (U+DFFF at index 1)");
    }

    @Test
    void failureMessagesCutAHugeKey() {
        String huge = "k".repeat(1_000_000);
        assertThat(RedisKeys.forMessage(huge)).hasSize(RedisKeys.MAX_KEY_IN_MESSAGE + " (1000000 chars)".length() + 3)
                .endsWith("... (1000000 chars)");
        assertThat(RedisKeys.forMessage("short")).isEqualTo("short");
    }
}

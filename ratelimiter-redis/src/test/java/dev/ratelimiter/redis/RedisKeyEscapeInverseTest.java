package dev.ratelimiter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The key escape is injective over every {@code String}: an independent decoder written here
 * recovers the user's key from the UTF-8 bytes Redis stores, for arbitrary strings of any UTF-16
 * code units (unpaired surrogates of both halves included). A left inverse of the bytes exists
 * only if distinct keys never share bytes, so this covers all pairs at once, not only the pairs a
 * generator happens to draw.
 */
class RedisKeyEscapeInverseTest {

    /** Any UTF-16 code units, surrogates over-represented, up to 40 of them. */
    @Provide
    Arbitrary<String> anyCodeUnits() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withCharRange('\uD800', '\uDFFF').withChars('%', '{', '}', 'u', 'a')
                        .ofMaxLength(40));
    }

    @Property(tries = 5000)
    void theStoredBytesDecodeBackToTheKey(@ForAll("anyCodeUnits") String key) {
        byte[] stored = RedisKeys.escape(key).getBytes(StandardCharsets.UTF_8);

        assertThat(unescape(new String(stored, StandardCharsets.UTF_8)))
                .as("key %s", key.chars().boxed().toList())
                .isEqualTo(key);
    }

    /** The inverse of the documented escape: %25, %7B, %7D and %uXXXX. */
    private static String unescape(String escaped) {
        StringBuilder b = new StringBuilder(escaped.length());
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c != '%') {
                b.append(c);
            } else if (escaped.startsWith("%25", i)) {
                b.append('%');
                i += 2;
            } else if (escaped.startsWith("%7B", i)) {
                b.append('{');
                i += 2;
            } else if (escaped.startsWith("%7D", i)) {
                b.append('}');
                i += 2;
            } else if (escaped.startsWith("%u", i)) {
                b.append((char) Integer.parseInt(escaped.substring(i + 2, i + 6), 16));
                i += 5;
            } else {
                throw new AssertionError("a % that starts no escape at " + i + " in " + escaped);
            }
        }
        return b.toString();
    }
}

package dev.ratelimiter.redis;

/**
 * The Redis key format and its Redis Cluster hash tags.
 *
 * <p>Redis Cluster hashes only the part of a key between its first {@code '{'} and the first
 * {@code '}'} after it (when not empty). Every key a limiter writes is
 * {@code <prefix>{<name>:<escaped key or group>}<suffix>}: the prefix and the name have no
 * braces (checked at creation), so the tag opens at the brace this class writes, and the
 * user-supplied part is escaped so that it holds no {@code '}'} and the tag closes at the brace
 * this class writes too. The user's text therefore only feeds the hash; it cannot end the tag
 * early (which would let keys of chosen text pile onto one slot) and every key of one decision,
 * whatever its suffix, lies in the slot of that one tag: no {@code CROSSSLOT} error is possible.
 *
 * <p>The escape is {@code %} to {@code %25}, <code>{</code> to {@code %7B}, <code>}</code>
 * to {@code %7D}, and an unpaired UTF-16 surrogate {@code c} to {@code %u} and its four
 * upper-case hex digits ({@code "\uD800"} to {@code %uD800}). Keys travel to Redis as UTF-8, in
 * which an unpaired surrogate has no encoding (Lettuce's codec writes it as {@code ?}, so
 * {@code "\uD800"}, {@code "\uDFFF"} and {@code "?"} would share one Redis key). The escaped
 * text is well-formed UTF-16, so its UTF-8 bytes are exactly what Redis stores, and the escape
 * is injective (every {@code %} in its output starts an escape, and each escape decodes one
 * way): distinct user keys stay distinct Redis keys. It is the identity on keys without those
 * characters. Prefixes and names, which are not escaped, may not hold unpaired surrogates.
 */
final class RedisKeys {

    private RedisKeys() {
    }

    /**
     * @param prefix the key prefix, without braces
     * @param name   the limiter name, without braces
     * @param key    the user's key or group, any text
     * @return {@code <prefix>{<name>:<escaped key>}}
     */
    static String tagged(String prefix, String name, String key) {
        return prefix + '{' + name + ':' + escape(key) + '}';
    }

    /**
     * @param text any text
     * @return the text with {@code %}, <code>{</code>, <code>}</code> and unpaired surrogates
     *         percent-encoded
     */
    static String escape(String text) {
        int i = 0;
        while (i < text.length() && !special(text.charAt(i))) {
            i++;
        }
        if (i == text.length()) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length() + 8).append(text, 0, i);
        for (; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '%' -> b.append("%25");
                case '{' -> b.append("%7B");
                case '}' -> b.append("%7D");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < text.length()
                            && Character.isLowSurrogate(text.charAt(i + 1))) {
                        b.append(c).append(text.charAt(++i)); // a pair: one code point, valid UTF-8
                    } else if (Character.isSurrogate(c)) {
                        b.append("%u").append(HEX[c >>> 12]).append(HEX[(c >>> 8) & 15])
                                .append(HEX[(c >>> 4) & 15]).append(HEX[c & 15]);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /** The longest key a failure message quotes whole. */
    static final int MAX_KEY_IN_MESSAGE = 200;

    /**
     * @param redisKey a Redis key
     * @return it, or when longer than {@link #MAX_KEY_IN_MESSAGE} its start, "...", and its length:
     *         a message quoting a user-supplied key stays small
     */
    static String forMessage(String redisKey) {
        if (redisKey.length() <= MAX_KEY_IN_MESSAGE) {
            return redisKey;
        }
        return redisKey.substring(0, MAX_KEY_IN_MESSAGE) + "... (" + redisKey.length() + " chars)";
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private static boolean special(char c) {
        return c == '%' || c == '{' || c == '}' || Character.isSurrogate(c);
    }

    /**
     * @param what  the parameter's name, for the message
     * @param value a prefix or name
     * @throws IllegalArgumentException if it has an unpaired UTF-16 surrogate, which has no UTF-8
     *                                  encoding and would be sent as {@code ?}
     */
    static void checkWellFormed(String what, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(what + " must not contain an unpaired UTF-16 surrogate (U+"
                        + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT) + " at index " + i + "): "
                        + what + "=" + value);
            }
        }
    }

    /**
     * @param what  the parameter's name, for the message
     * @param value a prefix or name
     * @throws IllegalArgumentException if it has a brace or an unpaired UTF-16 surrogate
     */
    static void checkNoBraces(String what, String value) {
        checkWellFormed(what, value);
        if (value.indexOf('{') >= 0 || value.indexOf('}') >= 0) {
            throw new IllegalArgumentException(what + " must not contain '{' or '}': " + what + "=" + value);
        }
    }

    /**
     * Checks a limiter name: no braces (they would move the hash tag) and no {@code ':'}, which
     * separates the name from the key inside the tag, so that {@code ("login", "ip:1.2.3.4")}
     * and {@code ("login:ip", "1.2.3.4")} can never share a Redis key.
     *
     * @param name the name
     * @throws IllegalArgumentException if it has a brace or a colon, or is empty
     */
    static void checkName(String name) {
        checkNoBraces("name", name);
        if (name.isEmpty() || name.indexOf(':') >= 0) {
            throw new IllegalArgumentException("name must be non-empty and must not contain ':': name=" + name);
        }
    }
}

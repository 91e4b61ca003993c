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
 * <p>The escape is {@code %} to {@code %25}, <code>{</code> to {@code %7B} and <code>}</code>
 * to {@code %7D}: injective, so distinct user keys stay distinct Redis keys, and the identity
 * on keys without those three characters.
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
     * @return the text with {@code %}, <code>{</code> and <code>}</code> percent-encoded
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
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean special(char c) {
        return c == '%' || c == '{' || c == '}';
    }

    /**
     * @param what  the parameter's name, for the message
     * @param value a prefix or name
     * @throws IllegalArgumentException if it has a brace
     */
    static void checkNoBraces(String what, String value) {
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

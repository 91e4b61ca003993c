package dev.ratelimiter.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Lua scripts, read once from the {@code .lua} resources of this package. Each runnable
 * script is a shared prelude ({@code exact.lua}, or {@code common.lua} alone) followed by its
 * algorithm; its SHA-1 is what {@code EVALSHA} names. A script with a fast path runs it first, and the prelude and algorithm
 * only when it does not answer: as one function, so that their functions are not even defined
 * on the fast path (defining them is a cost Redis pays at every call). The sliding log's
 * algorithm is a function its entry script calls once, or once per request of a batch.
 */
enum Scripts {
    GCRA("exact.lua", "gcra.lua", "gcra_fast.lua", null),
    SLIDING_LOG("common.lua", "sliding_log.lua", null, "sliding_log_batch.lua"),
    SLIDING_COUNTER("exact.lua", "sliding_counter.lua", "sliding_counter_fast.lua", null);

    private final String body;
    private final String sha;

    /**
     * @param prelude  the functions the algorithm uses: {@code exact.lua} (which includes
     *                 {@code common.lua}), or {@code common.lua} alone for an algorithm that needs
     *                 no exact products (each function defined is a cost paid at every call)
     * @param resource the algorithm
     * @param fastPath the script run before the prelude, or {@code null}
     * @param entry    the script run after the prelude, the algorithm wrapped in a function of
     *                 (KEYS, ARGV, finish) named {@code run_log}, or {@code null}: the algorithm
     *                 runs as it is
     */
    Scripts(String prelude, String resource, String fastPath, String entry) {
        String algorithm = entry == null ? read(resource)
                : "local function run_log(KEYS, ARGV, finish)\n" + read(resource) + "\nend\n" + read(entry);
        String general = read(prelude) + "\n" + algorithm;
        this.body = fastPath == null ? general : withFastPath(read(fastPath), general);
        this.sha = sha1(body);
    }

    /** @return the script text, as sent by {@code EVAL} */
    String body() {
        return body;
    }

    /** @return the SHA-1 of {@link #body()}, as named by {@code EVALSHA} */
    String sha() {
        return sha;
    }

    /**
     * @param resource a script of this package
     * @return its text, each line {@code --#include name.lua} replaced by that script's text (Lua
     *     5.1 has no include; the fast paths share their arithmetic this way, as text, so that it
     *     defines no function)
     */
    static String read(String resource) {
        String text;
        try (InputStream in = Scripts.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource: " + resource);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Not a static field: the enum's constants, built first, read their scripts.
        Matcher include = Pattern.compile("(?m)^--#include (\\S+)$").matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (include.find()) {
            include.appendReplacement(out, Matcher.quoteReplacement(read(include.group(1))));
        }
        return include.appendTail(out).toString();
    }

    /**
     * @param fastPath a script that runs first and leaves {@code pre_now} (and possibly
     *                 {@code pre_stored}) defined when it does not answer
     * @param general  the script run otherwise
     * @return the two as one script: the general one wrapped in a function, so that its
     *     functions are not even defined when the fast path answers
     */
    static String withFastPath(String fastPath, String general) {
        return fastPath + "\nlocal function general(pre_now, pre_stored)\n" + general
                + "\nend\nreturn general(pre_now, pre_stored)\n";
    }

    static String sha1(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(40);
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JVM", e);
        }
    }
}

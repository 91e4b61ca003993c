package dev.ratelimiter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The bill of materials lists every module of the reactor that is published, and only those: a
 * new module is either added to it or named here as not published.
 */
class BomTest {

    /** Run from target/ or started as an application: not artifacts a user depends on. */
    private static final Set<String> NOT_PUBLISHED = Set.of(
            "benchmarks", "benchmarks-spring", "ratelimiter-spring-boot-example", "ratelimiter-bom");

    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern ARTIFACT = Pattern.compile("<artifactId>([^<]+)</artifactId>");

    @Test
    void theBomListsExactlyThePublishedModules() throws IOException {
        Path root = Path.of("..");
        Set<String> published = new TreeSet<>();
        Matcher modules = MODULE.matcher(Files.readString(root.resolve("pom.xml")));
        while (modules.find()) {
            String pom = Files.readString(root.resolve(modules.group(1)).resolve("pom.xml"));
            // The first artifactId after the parent block is the module's own.
            Matcher a = ARTIFACT.matcher(pom.substring(pom.indexOf("</parent>") + 1));
            assertThat(a.find()).as("artifactId of %s", modules.group(1)).isTrue();
            if (!NOT_PUBLISHED.contains(a.group(1))) {
                published.add(a.group(1));
            } else if (!a.group(1).equals("ratelimiter-bom")) {
                // Left out of the BOM because it is not published: then it must not be deployable.
                assertThat(pom).as("%s skips deploy and install", modules.group(1))
                        .contains("<maven.deploy.skip>true</maven.deploy.skip>")
                        .contains("<maven.install.skip>true</maven.install.skip>");
            }
        }
        String bom = Files.readString(root.resolve("ratelimiter-bom").resolve("pom.xml"));
        Set<String> listed = new TreeSet<>();
        Matcher b = ARTIFACT.matcher(bom.substring(bom.indexOf("<dependencyManagement>"), bom.indexOf("</dependencyManagement>")));
        while (b.find()) {
            listed.add(b.group(1));
        }
        assertThat(listed).isEqualTo(published);
    }
}

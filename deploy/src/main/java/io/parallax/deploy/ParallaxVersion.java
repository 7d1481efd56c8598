package io.parallax.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of this build ({@code project.version}, written into a resource by the build).
 * Every node of a cluster must run the same one: the control messages, the job description and
 * the tensor plane change between versions, and a node of another version would not fail loudly
 * but compute with another meaning (a field it does not know is skipped).
 */
public final class ParallaxVersion {

    private static final String RESOURCE = "parallax-version.properties";
    private static final String VERSION = read();

    private ParallaxVersion() {}

    /** This build's version, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static String get() {
        return VERSION;
    }

    private static String read() {
        try (InputStream in = ParallaxVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                // built by hand without Maven's resources (an IDE): say so rather than guess one
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "").trim();
            return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + " from the class path", e);
        }
    }
}

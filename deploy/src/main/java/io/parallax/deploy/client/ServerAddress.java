package io.parallax.deploy.client;

import picocli.CommandLine;

/**
 * A coordinator's job-service address, {@code HOST:PORT} ({@code [::1]:50051} for an IPv6
 * literal). Parsed strictly, so a typo is a usage error rather than a connection that never
 * comes up.
 *
 * @param host a host name or IP literal, without brackets
 * @param port 1 to 65535
 */
public record ServerAddress(String host, int port) {

    /** Where {@code trainer coordinator} listens by default. */
    public static final String DEFAULT = "127.0.0.1:50051";

    public ServerAddress {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("the address needs a host, as in " + DEFAULT);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the port must be in 1..65535, got " + port);
        }
    }

    /**
     * Parses {@code HOST:PORT}.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static ServerAddress parse(String text) {
        String t = text.strip();
        int scheme = t.indexOf("://");
        if (scheme > 0 && t.substring(0, scheme).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
            // akka://parallax@HOST:PORT is what a run folder's cluster-address holds
            throw new IllegalArgumentException(t.startsWith("akka")
                    ? "'" + text + "' is the coordinator's cluster address; its job service listens on its gRPC port: "
                            + "give HOST:PORT as in the run folder's grpc-address (e.g. " + DEFAULT + ")"
                    : "write HOST:PORT without '" + t.substring(0, scheme + 3) + "' (e.g. " + DEFAULT + "), got '"
                            + text + "'");
        }
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT (e.g. " + DEFAULT + "), got '" + text + "'");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("write an IPv6 address in brackets, as in [::1]:50051, got '" + text + "'");
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the port of '" + text + "' is not a number");
        }
        return new ServerAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** picocli's converter: a malformed address is a usage error (exit code 2). */
    static final class Converter implements CommandLine.ITypeConverter<ServerAddress> {
        @Override
        public ServerAddress convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                // the value may come from the environment, not the command line: say so
                throw new CommandLine.TypeConversionException(e.getMessage()
                        + (value.equals(System.getenv("PARALLAX_SERVER")) ? " (from $PARALLAX_SERVER)" : ""));
            }
        }
    }
}

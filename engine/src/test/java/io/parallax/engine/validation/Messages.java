package io.parallax.engine.validation;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions on exception messages. */
final class Messages {

    private Messages() {}

    /** Fails unless {@code e}'s message contains every fragment (case-sensitive). */
    static void assertMentions(Throwable e, String... fragments) {
        String message = e.getMessage();
        assertNotNull(message, "exception without a message: " + e);
        for (String f : fragments) {
            assertTrue(message.contains(f), "message should mention '" + f + "': " + message);
        }
    }
}

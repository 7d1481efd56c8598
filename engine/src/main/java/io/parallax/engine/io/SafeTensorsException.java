package io.parallax.engine.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file that is not well-formed: truncated, a bad header, offsets out of range or
 * overlapping, a type that cannot be converted. The message names the file and, where one is
 * at fault, the tensor.
 */
public class SafeTensorsException extends IOException {

    private static final long serialVersionUID = 1L;

    public SafeTensorsException(Path file, String message) {
        super(file + ": " + message);
    }

    public SafeTensorsException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}

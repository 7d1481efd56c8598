package io.parallax.coordinator.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Writes TFRecord framing, the container of TensorFlow/TensorBoard event files. Each record is
 *
 * <pre>
 *   uint64 length            (little-endian)
 *   uint32 masked_crc32c(length bytes)
 *   byte   data[length]
 *   uint32 masked_crc32c(data)
 * </pre>
 *
 * where {@code masked(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8} (TensorFlow's
 * {@code core/lib/hash/crc32c.h}: the mask keeps a CRC of data that itself holds CRCs from
 * being trivially related to them).
 */
final class TfRecordWriter {

    private static final int MASK_DELTA = 0xa282ead8;

    private final OutputStream out;
    private final ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();

    TfRecordWriter(OutputStream out) {
        this.out = out;
    }

    /** Appends one record holding {@code data}. */
    void write(byte[] data) throws IOException {
        header.clear();
        header.putLong(data.length);
        header.putInt(maskedCrc32c(header.array(), 0, 8));
        out.write(header.array(), 0, 12);
        out.write(data);
        footer.clear();
        footer.putInt(maskedCrc32c(data, 0, data.length));
        out.write(footer.array(), 0, 4);
    }

    /** The masked CRC32C of {@code bytes[off, off + len)}, as TFRecord stores it. */
    int maskedCrc32c(byte[] bytes, int off, int len) {
        crc.reset();
        crc.update(bytes, off, len);
        return mask((int) crc.getValue());
    }

    /** TensorFlow's CRC mask (unsigned arithmetic modulo 2^32, which Java int overflow gives). */
    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }
}

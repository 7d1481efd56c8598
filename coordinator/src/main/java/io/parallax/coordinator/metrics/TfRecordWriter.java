package io.parallax.coordinator.metrics;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Frames records as TFRecord does, the container of TensorFlow/TensorBoard event files. Each record is
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

    private final CRC32C crc = new CRC32C();

    /** One record holding {@code data}, framed, to be appended to the file whole. */
    byte[] frame(byte[] data) {
        ByteBuffer record = ByteBuffer.allocate(12 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        record.putLong(data.length);
        record.putInt(maskedCrc32c(record.array(), 0, 8));
        record.put(data);
        record.putInt(maskedCrc32c(data, 0, data.length));
        return record.array();
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

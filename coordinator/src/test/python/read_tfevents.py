#!/usr/bin/env python3
"""Reads a TensorBoard event file without TensorFlow or TensorBoard, as a check of Parallax's
TensorBoardWriter that shares no code with it.

Usage: read_tfevents.py EVENT_FILE
Prints {"events": [{"wall_time", "step", "file_version", "scalars": {tag: value}}]} as JSON.
Exits 2 when a record's framing or either CRC is wrong, 3 when python3-protobuf is missing.

The TFRecord framing and masked CRC32C are implemented here; the Event messages are decoded
by protobuf's own runtime from a descriptor built by hand with TensorBoard's field numbers
(tensorboard/compat/proto/event.proto and summary.proto, only the fields used here).
"""
import json
import math
import struct
import sys

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError:
    sys.stderr.write("python3-protobuf is not installed\n")
    sys.exit(3)


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def event_class():
    """The Event message class, from a FileDescriptorProto written out field by field."""
    F = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(name="tensorboard_event_subset.proto", package="tbsubset",
                                           syntax="proto3")
    summary = f.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.field.add(name="tag", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    value.field.add(name="simple_value", number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL)
    summary.field.add(name="value", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                      type_name=".tbsubset.Summary.Value")
    event = f.message_type.add(name="Event")
    event.field.add(name="wall_time", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    event.field.add(name="step", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    event.field.add(name="file_version", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    event.field.add(name="summary", number=5, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                    type_name=".tbsubset.Summary")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    descriptor = pool.FindMessageTypeByName("tbsubset.Event")
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.21
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def records(data):
    pos = 0
    index = 0
    while pos < len(data):
        if len(data) - pos < 12:
            raise ValueError("record %d: truncated header" % index)
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if length_crc != masked_crc32c(header):
            raise ValueError("record %d: length CRC mismatch" % index)
        start = pos + 12
        end = start + length
        if end + 4 > len(data):
            raise ValueError("record %d: claims %d bytes past the end" % (index, length))
        (data_crc,) = struct.unpack("<I", data[end:end + 4])
        if data_crc != masked_crc32c(data[start:end]):
            raise ValueError("record %d: data CRC mismatch" % index)
        yield data[start:end]
        pos = end + 4
        index += 1


def main(path):
    Event = event_class()
    with open(path, "rb") as fh:
        data = fh.read()
    out = []
    try:
        for raw in records(data):
            event = Event()
            event.ParseFromString(raw)
            scalars = {}
            for v in event.summary.value:
                # JSON has no NaN or infinity: write those as the strings Java's Float.parseFloat reads
                x = v.simple_value
                if math.isnan(x):
                    x = "NaN"
                elif math.isinf(x):
                    x = "Infinity" if x > 0 else "-Infinity"
                scalars[v.tag] = x
            out.append({"wall_time": event.wall_time, "step": event.step,
                        "file_version": event.file_version, "scalars": scalars})
    except ValueError as e:
        sys.stderr.write("%s: %s\n" % (path, e))
        sys.exit(2)
    json.dump({"events": out}, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(64)
    main(sys.argv[1])

"""Minimal safetensors reader/writer written by hand from the format's specification.

The `safetensors` package is not installed on this project's machines (PyTorch 1.13 from
Debian), so this module writes and reads the format with struct and json only:

    8 bytes   little-endian unsigned header length N
    N bytes   UTF-8 JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
              "__metadata__": {str: str}}, padded with spaces to a multiple of 8
    rest      little-endian tensor data; offsets are relative to its start and tile it exactly

Tensors are laid out as the reference implementation does: by descending dtype (8-byte
types first), then by name. The reader validates the layout strictly, so it doubles as an
independent check of files written by the Java side.
"""
import json
import struct

import numpy as np
import torch

# dtype name -> (torch dtype, numpy little-endian dtype, rank in the reference ordering)
DTYPES = {
    "F64": (torch.float64, "<f8", 13),
    "I64": (torch.int64, "<i8", 14),
    "F32": (torch.float32, "<f4", 12),
    "I32": (torch.int32, "<i4", 10),
    "F16": (torch.float16, "<f2", 8),
    "BF16": (torch.bfloat16, None, 9),
    "U8": (torch.uint8, "<u1", 2),
}
TORCH_TO_NAME = {v[0]: k for k, v in DTYPES.items()}


def save(tensors, path, metadata=None):
    """Writes a dict name -> torch.Tensor (contiguous CPU) as a safetensors file."""
    items = []
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        items.append((name, TORCH_TO_NAME[t.dtype], t))
    items.sort(key=lambda it: (-DTYPES[it[1]][2], it[0].encode("utf-8")))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, dtype, t in items:
        blob = t.view(torch.int16).numpy().astype("<i2").tobytes() if dtype == "BF16" \
            else t.numpy().astype(DTYPES[dtype][1]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def load(path):
    """Reads a safetensors file into (dict name -> torch.Tensor, metadata dict), validating its layout."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n % 8 != 0:
        raise ValueError(f"{path}: header length {n} bad for a file of {len(data)} bytes")
    raw = data[8:8 + n]
    if raw[:1] != b"{":
        raise ValueError(f"{path}: header does not start with '{{'")
    header = json.loads(raw.decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError(f"{path}: metadata must map strings to strings")
    body = data[8 + n:]
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    end, tensors = 0, {}
    for name, e in entries:
        if set(e) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{path}: tensor '{name}' has fields {sorted(e)}")
        begin, stop = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        itemsize = torch.empty((), dtype=DTYPES[e["dtype"]][0]).element_size()
        if begin != end or stop - begin != count * itemsize:
            raise ValueError(f"{path}: tensor '{name}' offsets {e['data_offsets']} do not follow {end}")
        chunk = body[begin:stop]
        if e["dtype"] == "BF16":
            t = torch.from_numpy(np.frombuffer(chunk, dtype="<i2").copy()).view(torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(chunk, dtype=DTYPES[e["dtype"]][1]).copy())
        tensors[name] = t.reshape(e["shape"])
        end = stop
    if end != len(body):
        raise ValueError(f"{path}: tensors cover {end} of {len(body)} data bytes")
    return tensors, metadata

"""Reads and writes the safetensors format [1] without the safetensors library.

Layout: 8-byte little-endian u64 header length N, then N bytes of JSON (tensors sorted by name, each with dtype,
shape and data_offsets relative to the data section; plus "__metadata__": {"format": "pt"}), padded with spaces
to a multiple of 8, then the raw little-endian tensor bytes back to back.

[1] https://huggingface.co/docs/safetensors/index (format description)
"""
import json
import os
import struct
import tempfile

import numpy as np
import torch

_DT = {torch.float32: ("F32", np.float32), torch.float16: ("F16", np.float16), torch.int64: ("I64", np.int64)}
_RDT = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def save(tensors, path):
    """Writes {name: tensor} to `path` atomically (temp file in the same folder, then rename)."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        code, npdt = _DT[t.dtype]
        b = t.numpy().astype(np.dtype(npdt).newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def load(path):
    """Reads a safetensors file into {name: torch tensor}."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        s, e = meta["data_offsets"]
        arr = np.frombuffer(raw[base + s:base + e], dtype=np.dtype(_RDT[meta["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.astype(_RDT[meta["dtype"]]).reshape(meta["shape"]).copy())
    return out

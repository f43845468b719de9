"""What a GGUF file is, read from its header without loading it (fast, no llama.cpp).

The header holds typed key/value metadata (architecture, context length, chat template,
quantization) and one record per tensor (its shape), which gives the parameter count.
"""

from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ieclid.errors import IeclidError

_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"
}
_STRING, _ARRAY = 8, 9
_MAX_FIELD = 2**30  # no header string or field comes near this
_LONG_ARRAY = 16  # arrays longer than this (the vocabulary) are kept as their length only

# llama.cpp's `llama_ftype` (general.file_type): the quantization of most weights.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4",
}


@dataclass
class GgufInfo:
    path: str
    version: int
    metadata: dict[str, object] = field(default_factory=dict)
    parameters: int = 0
    tensors: int = 0

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if isinstance(value, int) else None

    @property
    def key_length(self) -> int | None:
        """Each attention head's key size, as llama.cpp reads it; None where the header does not
        say it plainly (per-layer head counts), or where keys and values differ in size
        (DeepSeek's compressed attention)."""
        arch = self.architecture
        embedding = self.metadata.get(f"{arch}.embedding_length")
        heads = self.metadata.get(f"{arch}.attention.head_count")
        plain = None
        if isinstance(embedding, int) and isinstance(heads, int) and heads > 0:
            plain = embedding // heads
        key = self.metadata.get(f"{arch}.attention.key_length", plain)
        value = self.metadata.get(f"{arch}.attention.value_length", plain)
        return key if isinstance(key, int) and key == value else None

    @property
    def quantization(self) -> str:
        file_type = self.metadata.get("general.file_type")
        return FILE_TYPES.get(file_type, f"type {file_type}") if isinstance(file_type, int) else "unknown"

    @property
    def chat_template(self) -> str | None:
        template = self.metadata.get("tokenizer.chat_template")
        return template if isinstance(template, str) else None

    @property
    def is_adapter(self) -> bool:
        return self.metadata.get("general.type") == "adapter"


def read_gguf(path: str | Path) -> GgufInfo:
    """The header of a GGUF file; IeclidError with one line if it is not one. Read once for each
    version of the file (reading skips the vocabulary, still about 30 ms for the embedded model's,
    and a run asks for it from several places); the result is shared, so it is not to be changed."""
    file = Path(path)
    if not file.is_file():
        raise IeclidError(f"model file not found: {path}")
    stat = file.stat()
    return _read_header(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_header(path: str, _size: int, _mtime_ns: int) -> GgufInfo:
    file = Path(path)
    try:
        with file.open("rb") as handle:
            if handle.read(4) != b"GGUF":
                raise IeclidError(f"{path} is not a GGUF model file")
            version, n_tensors, n_kv = struct.unpack("<IQQ", _read(handle, 20))
            info = GgufInfo(str(path), version, tensors=n_tensors)
            for _ in range(n_kv):
                key = _string(handle)
                info.metadata[key] = _value(handle, struct.unpack("<I", _read(handle, 4))[0])
            for _ in range(n_tensors):
                _string(handle)
                (n_dims,) = struct.unpack("<I", _read(handle, 4))
                count = 1
                for dim in struct.unpack(f"<{n_dims}Q", _read(handle, 8 * n_dims)):
                    count *= dim
                info.parameters += count
                _read(handle, 12)  # tensor type, data offset
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise IeclidError(f"{path}: damaged GGUF header ({exc})") from None
    return info


def _claimed(size: int) -> int:
    """A length read from the header, refused if damaged: reading it would try to allocate that much."""
    if size > _MAX_FIELD:
        raise ValueError(f"a header field claims {size} bytes")
    return size


def _read(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(_claimed(size))
    if len(data) != size:
        raise ValueError("the file ends inside the header")
    return data


def _string(handle: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _read(handle, 8))
    return _read(handle, length).decode("utf-8")


def _value(handle: BinaryIO, kind: int) -> object:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, _read(handle, struct.calcsize(fmt)))[0]
    if kind == _STRING:
        return _string(handle)
    if kind == _ARRAY:
        item_kind, length = struct.unpack("<IQ", _read(handle, 12))
        if length <= _LONG_ARRAY:
            return [_value(handle, item_kind) for _ in range(length)]
        _skip(handle, item_kind, length)
        return f"<{length} items>"
    raise ValueError(f"unknown metadata type {kind}")


def _skip(handle: BinaryIO, kind: int, length: int) -> None:
    """Step over a long array (the vocabulary, its scores and merges) without decoding it: every
    run reads a model's header first (`backends.cpu_weights`), and decoding 49,152 tokens took
    most of its 60 ms."""
    if kind in _SCALARS:
        handle.seek(_claimed(struct.calcsize(_SCALARS[kind]) * length), 1)
    elif kind == _STRING:
        for _ in range(length):
            handle.seek(_claimed(struct.unpack("<Q", _read(handle, 8))[0]), 1)
    else:
        for _ in range(length):
            _value(handle, kind)
    if handle.tell() > os.fstat(handle.fileno()).st_size:  # a seek does not fail past the end
        raise ValueError("the file ends inside the header")

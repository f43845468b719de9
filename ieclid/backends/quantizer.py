"""llama.cpp's quantizer, in process: for exports (`ieclid train export`) and for the CPU copy
of a model whose weights this CPU computes slowly (`cpu_weights`)."""

from __future__ import annotations

import ctypes
from pathlib import Path

from ieclid.backends.base import quiet_llama
from ieclid.errors import IeclidError
from ieclid.gguf_info import FILE_TYPES

FTYPES = {name: number for number, name in FILE_TYPES.items()}


def quantize(source: Path, out: Path, quant: str, *, requantize: bool = False) -> None:
    """Write `source` as `out` in `quant` (F16 is a plain move at 16 bits). `requantize` lets
    llama.cpp re-encode weights that are already quantized."""
    import llama_cpp

    if quant == "F16":
        source.replace(out)
        return
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[quant]
    params.nthread = 0
    params.allow_requantize = requantize
    with quiet_llama():
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(out).encode(), ctypes.byref(params))
    if status != 0:
        raise IeclidError(f"llama.cpp could not quantize {source.name} to {quant}")

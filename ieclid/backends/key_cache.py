"""The type the KV cache keeps attention keys in: Q8_0 on the CPU where the model allows.

Each answer row's attention covers every cell of the batch engine's unified cache up to the
highest in use (the shared prefix, its own cells, and the other answers' cells, masked), so
attention is a large share of an answer row's time on the CPU. With Q8_0 keys llama.cpp's CPU
kernels take it as integer dot products, which is faster (`benchmarks/attention_cost.py`
measures it; benchmarks/RESULTS.md has the figures). llama.cpp rotates quantized keys (a
Hadamard transform) where the head size is a multiple of 64, which keeps their rounding small,
and F1 over whole data sets stays as it was. Values stay F16: llama.cpp quantizes them only
with flash attention, which is slower on the CPU. A GPU keeps F16 unless asked, since it was
not measured there.
"""

from __future__ import annotations

from ieclid.errors import UsageError
from ieclid.gguf_info import read_gguf

Q8_0_BLOCK = 32  # weights in a Q8_0 block


def key_type(lc, choice: str, model_path: str, cpu: bool) -> int:
    """The ggml type for the keys (`choice`: auto, f16 or q8_0; auto is Q8_0 on the CPU where
    each head's keys fill whole blocks, else F16). llama.cpp slices the keys by head, and a slice
    inside a block aborts it, so q8_0 for such a model is refused. `model_path`: the model file
    (a CPU copy of it has the same heads)."""
    if choice == "f16" or (choice == "auto" and not cpu):
        return lc.GGML_TYPE_F16
    size = read_gguf(model_path).key_length
    if size and size % Q8_0_BLOCK == 0:
        return lc.GGML_TYPE_Q8_0
    if choice == "q8_0":
        width = f"{size} wide" if size else (
            "not of one width in its header (per layer, or keys unlike values)")
        raise UsageError(f"--cache-type-k q8_0 needs attention heads a multiple of {Q8_0_BLOCK} wide; "
                         f"this model's are {width}")
    return lc.GGML_TYPE_F16

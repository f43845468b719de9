"""Model weights kept out of llama.cpp's AMX buffers, whose matrix kernel can crash the process.

llama-cpp-python compiles llama.cpp for the machine it is installed on; on a CPU with Intel AMX
(Xeon Sapphire Rapids and later) that build moves quantized weights into AMX buffers, and on
some machines its AMX kernel dies at the first decode with a segmentation fault
(`ggml_backend_amx_mul_mat`; llama.cpp issue #20824, open and machine-dependent). Seen here on a
2-core Xeon VM: the embedded model, its Q8_0 copy and a plain `Llama(...)` call all crashed.
On such builds weights stay in ordinary CPU buffers, computed by llama.cpp's other kernels (and
without the AMX buffers' second copy of the weights in memory). llama.cpp has no switch for AMX
alone, so its other extra buffer types (repacked layouts) are off there too.

Every model load goes through `model_params()` (llama.cpp's own API) or `weights_off_amx()`
(around `llama_cpp.Llama(...)`, which builds its parameters itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache


@cache
def amx_build() -> bool:
    """Whether this llama.cpp build has AMX kernels (it then uses them wherever the CPU has AMX)."""
    import llama_cpp

    return b"AMX_INT8 = 1" in llama_cpp.llama_print_system_info()


def model_params():
    """llama.cpp's default model parameters, with extra buffer types off on AMX builds."""
    import llama_cpp  # the package's own binding, which `weights_off_amx` leaves alone

    params = llama_cpp.llama_model_default_params()
    if amx_build():
        params.use_extra_bufts = False
    return params


@contextmanager
def weights_off_amx() -> Iterator[None]:
    """Load `llama_cpp.Llama` models inside this, so they get `model_params()`: Llama takes its
    defaults from the llama_cpp.llama_cpp module at load time and has no argument for buffer
    types."""
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params
    low.llama_model_default_params = model_params
    try:
        yield
    finally:
        low.llama_model_default_params = original

"""A Q8_0 copy of a small model whose weights llama.cpp computes slowly on the CPU.

llama.cpp's CPU backend has fast matrix kernels (llamafile's sgemm, repacked layouts) for Q8_0,
Q4_0, the K-quants and others, but none for Q4_1 or Q5_1, which go through the generic dot
product, so the embedded SmolLM2 (Q4_1) reads prompts much faster as a Q8_0 copy
(benchmarks/RESULTS.md). Q8_0 holds every Q4_1 or Q5_1 weight to within 1/254 of its block's
largest, far below their own step, so the model is nearly unchanged (greedy answers can still
differ where its top two choices were close). The copy is made once per model file, kept
under IECLID_HOME, and made only where it adds little memory:
for a large model, Q8_0's extra bytes would cost more in memory traffic than its kernels gain.
Each copy notes its source file, so copies no run will load again (of a model file since
replaced, or one that is gone with its virtual environment) are deleted when a new one is made,
instead of adding a model's size to the home for every reinstall.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from ieclid.errors import IeclidError
from ieclid.gguf_info import read_gguf
from ieclid.paths import home

SLOW_ON_CPU = ("Q4_1", "Q5_1")
COPY_QUANT = "Q8_0"
# The most memory a copy may add over the file it replaces (Q8_0 is 8.5 bits a weight).
MAX_EXTRA_BYTES = 256 * 2**20


def source_note(copy: Path) -> Path:
    """The file beside a copy that names its source model file."""
    return copy.with_name(f"{copy.name}.source")


def copy_path(model_path: str) -> Path:
    """Where the copy of this file lives: named for its path, size and modification time, so a
    replaced model file gets a new copy."""
    source = Path(model_path).resolve()
    stat = source.stat()
    key = hashlib.sha256(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return home() / "cpu-weights" / f"{source.stem}.{key}.{COPY_QUANT}.gguf"


def wants_copy(model_path: str) -> bool:
    """Whether the model's weights are of a type without fast CPU kernels and a Q8_0 copy adds at
    most MAX_EXTRA_BYTES."""
    info = read_gguf(model_path)
    if info.is_adapter or info.quantization not in SLOW_ON_CPU:
        return False
    return info.parameters * 34 / 32 - Path(model_path).stat().st_size <= MAX_EXTRA_BYTES


def cpu_weights(model_path: str, say: Callable[[str], None] | None = None) -> str:
    """The file to load for a run on the CPU alone: the model's cached Q8_0 copy where
    `wants_copy`, made now if missing (`say` is told so first), else the model itself. A copy
    that cannot be written (a full disk, a read-only home) leaves the run on the model as it
    is, with one line on stderr."""
    if not wants_copy(model_path):
        return model_path
    copy = copy_path(model_path)
    if copy.is_file():
        return str(copy)
    if say is not None:
        say("making the model's Q8_0 copy for the CPU (once)")
    temporary = copy.with_name(f"{copy.name}.{os.getpid()}.tmp")
    source = Path(model_path).resolve()
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        from ieclid.backends.quantizer import quantize

        quantize(Path(model_path), temporary, COPY_QUANT, requantize=True)
        # the note first: a copy another run can see always has one, so it is never taken for stale
        source_note(copy).write_text(str(source), encoding="utf-8")
        os.replace(temporary, copy)  # whole or not at all, and two runs at once both succeed
    except (OSError, IeclidError) as exc:
        with contextlib.suppress(OSError):  # the folder itself may be what failed
            temporary.unlink(missing_ok=True)
        print(f"ieclid: running {Path(model_path).name} as it is: no {COPY_QUANT} copy for the CPU "
              f"({exc})", file=sys.stderr)
        return model_path
    prune_copies(keep=copy, source=source)
    return str(copy)


def prune_copies(*, keep: Path, source: Path) -> None:
    """Delete the other copies no run will load again: those of `source` as it was before it was
    replaced, those whose source file is gone, and those made before copies noted their source.
    A run that has one loaded keeps its memory map; the next run that wants it remakes it."""
    for copy, was in _copies():
        if copy != keep and (was is None or was == source or not was.exists()):
            _delete(copy)


def drop_copies(source: Path) -> None:
    """Delete the copies of `source`, a model file being deleted (`ieclid models rm`)."""
    for copy, was in _copies():
        if was == source:
            _delete(copy)


def _copies() -> Iterator[tuple[Path, Path | None]]:
    """Every copy under the home, with the source file its note names (None: it has no note)."""
    for copy in (home() / "cpu-weights").glob(f"*.{COPY_QUANT}.gguf"):
        try:
            yield copy, Path(source_note(copy).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            yield copy, None


def _delete(copy: Path) -> None:
    with contextlib.suppress(OSError):
        copy.unlink()
        source_note(copy).unlink(missing_ok=True)

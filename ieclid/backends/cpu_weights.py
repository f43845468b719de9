"""A Q8_0 copy of a small model whose weights llama.cpp computes slowly on the CPU, with the run's
LoRA adapter folded in where it has one.

llama.cpp's CPU backend has fast matrix kernels (llamafile's sgemm, repacked layouts) for Q8_0,
Q4_0, the K-quants and others, but none for Q4_1 or Q5_1, which go through the generic dot
product, so the embedded SmolLM2 (Q4_1) reads prompts much faster as a Q8_0 copy
(benchmarks/RESULTS.md). Q8_0 holds every Q4_1 or Q5_1 weight to within 1/254 of its block's
largest, far below their own step, so the model is nearly unchanged (greedy answers can still
differ where its top two choices were close). An adapter applied at run time costs two thin
products beside every adapted one at each step, so where the copy is made anyway the adapter is
merged into it (`lora_merge`) and costs nothing; one that cannot be merged is applied at run
time. The copy is made once per model file (and adapter), kept under IECLID_HOME, and made only
where it adds little memory: for a large model, Q8_0's extra bytes would cost more in memory
traffic than its kernels gain. Each copy notes its source files, so copies no run will load
again (of a file since replaced, or one that is gone with its virtual environment) are deleted
when a new one is made, instead of adding a model's size to the home for every reinstall.
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
    """The file beside a copy that names its source files, one per line: the model, then the adapter."""
    return copy.with_name(f"{copy.name}.source")


def copy_path(model_path: str, lora: str | None = None) -> Path:
    """Where the copy of this file (with this adapter merged) lives: named for their paths, sizes
    and modification times, so a replaced model or adapter file gets a new copy."""
    sources = _sources(model_path, lora)
    stamps = "\0\0".join(f"{s}\0{s.stat().st_size}\0{s.stat().st_mtime_ns}" for s in sources)
    key = hashlib.sha256(stamps.encode()).hexdigest()[:16]
    stem = "+".join(source.stem for source in sources)
    return home() / "cpu-weights" / f"{stem}.{key}.{COPY_QUANT}.gguf"


def _sources(model_path: str, lora: str | None) -> list[Path]:
    """The files a copy is made from: the model, and the adapter merged into it if any."""
    return [Path(p).resolve() for p in (model_path, lora) if p]


def wants_copy(model_path: str) -> bool:
    """Whether the model's weights are of a type without fast CPU kernels and a Q8_0 copy adds at
    most MAX_EXTRA_BYTES."""
    info = read_gguf(model_path)
    if info.is_adapter or info.quantization not in SLOW_ON_CPU:
        return False
    return info.parameters * 34 / 32 - Path(model_path).stat().st_size <= MAX_EXTRA_BYTES


def cpu_weights(model_path: str, say: Callable[[str], None] | None = None,
                lora: str | None = None) -> tuple[str, str | None]:
    """The file to load for a run on the CPU alone, and the adapter still to apply at run time:
    the model's cached Q8_0 copy where `wants_copy`, with `lora` merged into it where it can be
    (else the plain copy, and `lora` is applied as before), made now if missing (`say` is told
    so first); else the model itself and `lora`. A copy that cannot be written (a full disk, a
    read-only home) leaves the run on the model as it is, with one line on stderr."""
    if not wants_copy(model_path):
        return model_path, lora
    if lora:
        from ieclid.backends.lora_merge import NotMergeable

        try:
            return _copy(model_path, lora, say), None
        except NotMergeable:
            pass
        except (OSError, IeclidError) as exc:
            _running_as_is(model_path, exc)
            return model_path, lora
    try:
        return _copy(model_path, None, say), lora
    except (OSError, IeclidError) as exc:
        _running_as_is(model_path, exc)
        return model_path, lora


def _running_as_is(model_path: str, exc: Exception) -> None:
    print(f"ieclid: running {Path(model_path).name} as it is: no {COPY_QUANT} copy for the CPU ({exc})",
          file=sys.stderr)


def _copy(model_path: str, lora: str | None, say: Callable[[str], None] | None) -> str:
    """The copy's path, made first if missing: the model (with `lora` merged) quantized to Q8_0."""
    copy = copy_path(model_path, lora)
    if copy.is_file():
        return str(copy)
    if say is not None:
        say(f"making the model's {COPY_QUANT} copy for the CPU" + (" with its adapter merged" if lora else "")
            + " (once)")
    temporary = copy.with_name(f"{copy.name}.{os.getpid()}.tmp")
    merged = copy.with_name(f"{copy.name}.{os.getpid()}.merged.tmp")
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        from ieclid.backends.quantizer import quantize

        if lora:
            from ieclid.backends.lora_merge import merge_lora

            merge_lora(Path(model_path), Path(lora), merged)
        quantize(merged if lora else Path(model_path), temporary, COPY_QUANT, requantize=True)
        # the note first: a copy another run can see always has one, so it is never taken for stale
        source_note(copy).write_text("\n".join(map(str, _sources(model_path, lora))), encoding="utf-8")
        os.replace(temporary, copy)  # whole or not at all, and two runs at once both succeed
    finally:
        for leftover in (temporary, merged):
            with contextlib.suppress(OSError):  # the folder itself may be what failed
                leftover.unlink(missing_ok=True)
    prune_copies()
    return str(copy)


def prune_copies() -> None:
    """Delete the copies no run will load again: those whose source files were replaced since (the
    name their sources give now is another) or are gone, and those made before copies noted their
    sources. A run that has one loaded keeps its memory map; the next run that wants it remakes it."""
    for copy, sources in _copies():
        try:
            current = sources and copy_path(*map(str, sources[:2])) == copy
        except OSError:  # a source is gone
            current = False
        if not current:
            _delete(copy)


def drop_copies(source: Path) -> None:
    """Delete the copies made from `source`, a file being deleted (`ieclid models rm`)."""
    for copy, sources in _copies():
        if source in sources:
            _delete(copy)


def _copies() -> Iterator[tuple[Path, list[Path]]]:
    """Every copy under the home, with the source files its note names (none: it has no note)."""
    for copy in (home() / "cpu-weights").glob(f"*.{COPY_QUANT}.gguf"):
        try:
            yield copy, [Path(line) for line in source_note(copy).read_text(encoding="utf-8").splitlines()]
        except (OSError, UnicodeDecodeError):
            yield copy, []


def _delete(copy: Path) -> None:
    with contextlib.suppress(OSError):
        copy.unlink()
        source_note(copy).unlink(missing_ok=True)

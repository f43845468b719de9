"""Record output: JSON Lines (or the text layouts of `record_text`), one complete record per
write, flushed as soon as it is written.

Each record goes out in a single write, so an interrupted run leaves only whole lines
behind, and a pipe to `jq` sees every record the moment it is ready.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import orjson

from ieclid.errors import ReaderGone, UsageError
from ieclid.record_text import encoder


class JsonlWriter:
    """Records to stdout, or to a file that appears under its name only when the writer closes:
    they are written to a hidden file beside it first, so the file named is never emptied
    before its input has been read (`-o notes.txt notes.txt` is refused anyway). Closing on an
    interrupt or a failure keeps the whole records written so far under that name."""

    def __init__(
        self, path: str | None, *, overwrite: bool = True, inputs: Iterable[str] = (),
        stdout: BinaryIO | None = None, layout: str = "jsonl",
    ) -> None:
        """`stdout`: where records for standard output go (see `records_stdout`); `layout`: one
        of record_text.FORMATS."""
        self._owned = path not in (None, "-")
        self.count = 0
        self._start, self._encode = encoder(layout)
        if path is None or path == "-":
            self._out: BinaryIO = stdout or sys.stdout.buffer
            self._begin()
            return
        check_output(path, overwrite=overwrite, inputs=inputs)
        self._target = Path(path)
        self._partial = partial_path(self._target, os.getpid())
        try:
            self._out = open(self._partial, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise UsageError(f"cannot write output file {path}: {exc.strerror or exc}") from None
        self._begin()

    def _begin(self) -> None:
        if self._start:  # a TSV header
            self._send(self._start)

    def write(self, record: dict) -> None:
        self._send(self._encode(record))
        self.count += 1

    def _send(self, data: bytes) -> None:
        try:
            self._out.write(data)
            self._out.flush()
        except BrokenPipeError:
            raise ReaderGone from None

    def close(self) -> None:
        if self._owned and not self._out.closed:
            self._out.close()
            os.replace(self._partial, self._target)


def write_whole(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: into a hidden file beside it, flushed to disk, then
    renamed over it, so a crash or a kill never leaves it half written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def partial_path(target: Path, pid: int | str) -> Path:
    """The hidden file a run writes `target`'s records to before renaming it."""
    return target.with_name(f".{target.name}.{pid}.part")


def left_partials(target: Path) -> list[Path]:
    """The hidden files of runs into `target` that never renamed theirs (killed, crashed)."""
    return sorted(target.parent.glob(partial_path(target, "*").name))


@contextmanager
def records_stdout() -> Iterator[BinaryIO]:
    """Standard output for records alone. Native code writes to file descriptor 1 behind
    Python's back (llama.cpp's logs, and on an abort the debugger's backtrace, which would
    corrupt a JSONL stream): while the context is open, descriptor 1 is standard error, and the
    records go to a copy of the real standard output."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # replaced, e.g. by a test
        yield sys.stdout.buffer
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    records = os.fdopen(os.dup(fd), "wb")
    os.dup2(sys.stderr.fileno(), fd)
    try:
        yield records
    finally:
        try:
            records.close()
        except BrokenPipeError:  # the reader has gone: what was left has nowhere to go
            pass
        finally:
            sys.stdout.flush()
            os.dup2(saved, fd)
            os.close(saved)


def check_output(path: str | None, *, overwrite: bool = True, inputs: Iterable[str] = ()) -> None:
    """Refuse an output file that is an input, a directory, or (without `overwrite`) exists."""
    if path in (None, "-"):
        return
    target = Path(path)
    if any(_same_file(target, Path(i)) for i in inputs if i != "-"):
        raise UsageError(f"output file {path} is also an input; name another file")
    if target.is_dir():
        raise UsageError(f"cannot write output file {path}: it is a directory")
    if target.exists() and not overwrite:
        raise UsageError(f"output file {path} exists; give --overwrite to replace it")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def read_records(path: str) -> list[dict]:
    """All records of a JSONL file (ieclid's own output), with one-line errors."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"records file not found: {path}")
    records = []
    for number, line in enumerate(file.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            raise UsageError(f"{path}:{number}: not a JSON record") from None
    return records

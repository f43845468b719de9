"""JSON Lines output: one complete line per record, flushed as soon as it is written.

Each record goes out in a single write, so an interrupted run leaves only whole lines
behind, and a pipe to `jq` sees every record the moment it is ready.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import orjson

from ieclid.errors import UsageError


class JsonlWriter:
    def __init__(self, path: str | None) -> None:
        self._owned = path not in (None, "-")
        if self._owned:
            try:
                self._out: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise UsageError(f"cannot write output file {path}: {exc.strerror or exc}") from None
        else:
            self._out = sys.stdout.buffer
        self.count = 0

    def write(self, record: dict) -> None:
        self._out.write(orjson.dumps(record) + b"\n")
        self._out.flush()
        self.count += 1

    def close(self) -> None:
        if self._owned:
            self._out.close()


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

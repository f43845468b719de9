"""JSON Lines output: one complete line per record, flushed as soon as it is written.

Each record goes out in a single write, so an interrupted run leaves only whole lines
behind, and a pipe to `jq` sees every record the moment it is ready.
"""

from __future__ import annotations

import sys
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

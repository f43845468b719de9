"""`--resume`: continue a run that was killed, reusing the records it had written.

A run writes its records to a hidden file beside the output and renames it when it ends
(outputs.JsonlWriter); killed with SIGKILL or by a crash, it leaves that file behind. A resumed
run reads the output and every such leftover, takes each document whose record is there (the
same id and text, made with the same settings: records carry a digest of them) from there,
extracts the rest, and writes them all in input order, so that the file ends as a clean run's
would. Records of documents that are not in this run's input are kept, after the others.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from ieclid.documents import Document
from ieclid.errors import UsageError
from ieclid.outputs import left_partials
from ieclid.tasks.markers import strip_markers


class Resume:
    """The records an earlier run made with the same settings (`digest`), by (id, text)."""

    def __init__(self, output: str, digest: str) -> None:
        self.leftovers = left_partials(Path(output))
        self.files = [f for f in [Path(output), *self.leftovers] if f.is_file()]
        self.done: dict[tuple[str, str], dict] = {}
        for file in self.files:
            for line in file.read_bytes().splitlines():
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a line cut off by the kill
                if not isinstance(record, dict) or "error" in record or "text" not in record:
                    continue  # failed documents are tried again
                if record.get("settings") != digest:
                    raise UsageError(
                        f"{file} holds records made with other settings (or by another version); "
                        "resume with the same options, or name another output file"
                    )
                self.done.setdefault((str(record.get("id")), record["text"]), record)
        self._order: deque[dict | None] = deque()

    def __len__(self) -> int:
        return len(self.done)

    def pending(self, documents: Iterable[Document]) -> Iterator[Document]:
        """The documents still to extract; those done are remembered in their place."""
        for doc in documents:
            # rc, eae and marked ere records hold the text without its markers
            record = self.done.pop((doc.id, doc.text), None)
            unmarked = _unmarked(doc.text)
            if record is None and unmarked is not None:
                record = self.done.pop((doc.id, unmarked), None)
            self._order.append(record)
            if record is None:
                yield doc

    def merged(self, extracted: Iterable[dict]) -> Iterator[dict]:
        """Records in input order: those done, and the new ones (`extracted` from `pending`)."""
        for record in extracted:
            while self._order[0] is not None:  # done, before this one
                yield self._order[0]
                self._order.popleft()
            self._order.popleft()  # this one's place
            yield record
        yield from self.rest()

    def rest(self) -> Iterator[dict]:
        """Records not written yet: done ones waiting in input order, then those of documents
        not in the input. Written at the end, or on an interrupt, so that none is lost; each is
        let go only once the next is asked for (once it has been written)."""
        while self._order:
            if self._order[0] is not None:
                yield self._order[0]
            self._order.popleft()
        while self.done:
            key = next(iter(self.done))
            yield self.done[key]
            del self.done[key]

    def clean_up(self) -> None:
        """Delete what killed runs left behind, once every record they held has been written."""
        if self._order or self.done:
            return
        for file in self.leftovers:
            file.unlink(missing_ok=True)


def _unmarked(text: str) -> str | None:
    try:
        return strip_markers(text)[0]
    except ValueError:
        return None


def digest(parts: dict) -> str:
    """A short fingerprint of what makes a run's records what they are."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]

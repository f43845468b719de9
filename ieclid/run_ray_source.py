"""The documents of a `--engine ray` run as a Ray Data source (and as rows: `row_of`,
`document_of`): read tasks run ieclid's readers
(`read_documents`, `--lines` alike) on the workers, a group of consecutive files each, and give
their documents in blocks, so that reading streams and the order is the input's. Imported only
once Ray is (run_ray.py), since the class derives from Ray's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial

import orjson
from ray.data import DataContext
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from ieclid.documents import Document, read_documents

# Documents per block a read task gives: blocks stream to the actors as they are read.
BLOCK_DOCUMENTS = 256


def row_of(doc: Document) -> dict:
    """A document as a row of the dataset (Arrow has no None-or-dict columns: "" for none)."""
    return {"id": doc.id, "text": doc.text, "error": doc.error or "",
            "source": orjson.dumps(doc.source).decode() if doc.source else ""}


def document_of(row: dict) -> Document:
    return Document(row["id"], row["text"], row["error"] or None,
                    orjson.loads(row["source"]) if row["source"] else None)


class DocumentSource(Datasource):
    def __init__(self, paths: list[str], lines: bool) -> None:
        self.paths, self.lines = paths, lines

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(os.path.getsize(path) for path in self.paths)

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context: DataContext | None = None) -> list[ReadTask]:
        count = max(1, min(parallelism, len(self.paths)))
        size = -(-len(self.paths) // count)
        groups = [self.paths[start : start + size] for start in range(0, len(self.paths), size)]
        return [
            ReadTask(partial(self._read, group), BlockMetadata(
                num_rows=None, size_bytes=sum(os.path.getsize(p) for p in group), exec_stats=None,
                input_files=tuple(group)), per_task_row_limit=per_task_row_limit)
            for group in groups
        ]

    def _read(self, paths: list[str]) -> Iterator:
        import pyarrow as pa

        rows: list[dict] = []
        for doc in read_documents(paths, self.lines):
            rows.append(row_of(doc))
            if len(rows) == BLOCK_DOCUMENTS:
                yield pa.Table.from_pylist(rows)
                rows = []
        if rows:
            yield pa.Table.from_pylist(rows)

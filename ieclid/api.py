"""The Python API: what `ieclid extract` does, for notebooks and programs.

    import ieclid
    records = ieclid.extract(["Tim Cook visited Berlin."], labels=["person", "location"])
    with ieclid.Extractor(task="re") as extractor:   # the model loads once
        for record in extractor.extract(texts):
            ...

Options are the command line's, by their Python names (`RunSettings`' fields: `model`,
`schema`, `demos`, `shots`, `min_score`, `threads`, ...); what the command line would refuse is
refused here with the same message, as an `ieclid.IeclidError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from typing import Any, cast

from ieclid.documents import Document, read_documents, resolve_inputs
from ieclid.errors import UsageError
from ieclid.records import Record
from ieclid.run import extract_records
from ieclid.settings import RunSettings

Inputs = str | os.PathLike | Iterable[str | os.PathLike] | Mapping[str, str]


def documents_of(inputs: Inputs, glob: str | None = None) -> Iterator[Document]:
    """Documents from texts and paths: a `str` is a text (id "1", "2", ... by position), a
    `Path` a file or a directory (searched for `glob`, by default for every kind ieclid reads;
    ids are the paths, as on the command line), a mapping gives texts by id. Types and paths
    are checked at once, before a model loads; files are read as the documents are taken."""
    if isinstance(inputs, Mapping):
        return iter([_text(str(key), text) for key, text in inputs.items()])
    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    for item in items:
        if not isinstance(item, str | os.PathLike):
            kind = type(item).__name__
            raise UsageError(f"an input must be a text (str) or a path (pathlib.Path), not {kind}")
    paths = {i: resolve_inputs([os.fspath(item)], glob) for i, item in enumerate(items)
             if isinstance(item, os.PathLike)}

    def read() -> Iterator[Document]:
        for number, item in enumerate(items):
            if isinstance(item, str):
                yield _text(str(number + 1), item)
            else:
                yield from read_documents(paths[number])

    return read()


def _text(doc_id: str, text: str) -> Document:
    """A text as a document; an empty one carries an error, as an empty file does."""
    if not isinstance(text, str):
        raise UsageError(f"document {doc_id}: a text must be a str, not {type(text).__name__}")
    if not text.strip():
        return Document(doc_id, "", error=f"document {doc_id}: empty, no text to extract from")
    return Document(doc_id, text)


def settings_of(task: str, options: dict[str, Any]) -> RunSettings:
    """RunSettings from keyword options; `labels` may be a list; an unknown name is an error."""
    known = {f.name for f in fields(RunSettings)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r}; the options are: {', '.join(sorted(known))}")
    values = dict(options)
    for name in ("labels", "columns"):
        if isinstance(values.get(name), list | tuple):
            values[name] = ",".join(values[name])
    if isinstance(values.get("base_urls"), str):
        values["base_urls"] = (values["base_urls"],)
    return RunSettings(task=task, **values)


class Extractor:
    """A loaded model and its settings, taking documents again and again; close it (or use it
    in a `with` block) to free the model."""

    def __init__(self, task: str = "ner", **options: Any) -> None:
        from ieclid.assembly import open_extractor

        self.settings = settings_of(task, options)
        self._extractor, self._backend = open_extractor(self.settings)

    def extract(self, inputs: Inputs, glob: str | None = None) -> list[Record]:
        """One record per document, in input order, decoded together as on the command line. A
        document that cannot be read has a record with an `error`, as there."""
        return list(self.records(documents_of(inputs, glob)))

    def iter_extract(self, inputs: Inputs, glob: str | None = None) -> Iterator[Record]:
        """Records as they are finished, in input order, for inputs too many to hold at once."""
        return self.records(documents_of(inputs, glob))

    def records(self, documents: Iterable[Document]) -> Iterator[Record]:
        """Records of documents already made (`documents_of`, `ieclid.documents`)."""
        if self._backend is None:
            raise UsageError("this Extractor is closed")
        return (cast(Record, r) for r in extract_records(self._extractor, documents, self.settings.in_flight))

    def close(self) -> None:
        """Free the model; the Extractor takes no documents after this."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def extract(inputs: Inputs, task: str = "ner", *, glob: str | None = None, **options: Any) -> list[Record]:
    """Load the model, extract from every input, free the model; one record per document."""
    documents = documents_of(inputs, glob)  # a wrong input fails before the model loads
    with Extractor(task, **options) as extractor:
        return list(extractor.records(documents))

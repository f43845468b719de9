"""Turn command-line inputs (files, directories, stdin) into documents.

Paths are checked before any model is loaded so that a typo fails fast (exit 2). Web pages,
PDFs and Word files are read into plain text by `ieclid.readers`; other files are UTF-8 text.
A file that cannot be read, or holds no text at all, becomes a document carrying an `error`,
so a batch reports it and goes on instead of crashing or passing an empty input off as a text
without entities.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ieclid.errors import UsageError
from ieclid.readers import READABLE_SUFFIXES, Unreadable, reader_for

BINARY_PROBE_BYTES = 8192


@dataclass(frozen=True)
class Document:
    """One unit of extraction: its id is what the user will see in the output."""

    id: str
    text: str
    error: str | None = None
    source: dict | None = None  # how the text was made from a file that is not plain text
    event_type: str | None = None  # eae: the marked event's type, where the caller knows it


def resolve_inputs(inputs: list[str], glob: str | None = None) -> list[str]:
    """Expand directories (recursively, sorted, hidden entries skipped) and check paths exist.
    From directories come the files `glob` matches, by default every kind ieclid reads (text,
    Markdown, HTML, PDF, Word). `-` stands for standard input and is kept as is.
    """
    if not inputs:
        raise UsageError("no input given: pass files, directories, or - for standard input")
    resolved: list[str] = []
    for item in inputs:
        if item == "-":
            resolved.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob(glob or "*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and (glob or p.suffix.lower() in READABLE_SUFFIXES)
            )
            resolved.extend(str(p) for p in found)
        elif path.exists():
            resolved.append(item)
        else:
            raise UsageError(f"input not found: {item}")
    return resolved


def decode_text(data: bytes, name: str) -> Document:
    """Decode bytes as UTF-8 (a BOM is dropped); binary, undecodable or empty data gives an error."""
    if b"\x00" in data[:BINARY_PROBE_BYTES]:
        return Document(name, "", error=f"{name}: binary file, not UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Document(name, "", error=f"{name}: not valid UTF-8 at byte {exc.start}")
    if not text.strip():
        return Document(name, "", error=f"{name}: empty, no text to extract from")
    return Document(name, text)


def count_documents(paths: list[str], lines: bool) -> int | None:
    """How many documents `paths` make, for a progress bar; None where that costs reading
    standard input or converting files."""
    if not lines:
        return len(paths)
    if "-" in paths or any(reader_for(path) for path in paths):
        return None
    total = 0
    for path in paths:
        try:
            total += sum(1 for line in Path(path).read_bytes().split(b"\n") if line.strip())
        except OSError:
            total += 1
    return total


def read_file(data: bytes, name: str) -> Document:
    """A file's document: converted by its format's reader, or decoded as text."""
    reader = reader_for(name)
    if reader is None:
        return decode_text(data, name)
    try:
        converted = reader(data)
    except Unreadable as exc:
        return Document(name, "", error=f"{name}: {exc}")
    return Document(name, converted.text, source=converted.source())


def read_documents(paths: list[str], lines: bool = False) -> Iterator[Document]:
    """Yield documents lazily; with `lines`, every non-empty line is its own document (`path:N`)."""
    for path in paths:
        name = "stdin" if path == "-" else path
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            yield Document(name, "", error=f"{name}: cannot read ({exc.strerror or exc})")
            continue
        doc = read_file(data, name) if path != "-" else decode_text(data, name)
        if not lines or doc.error:
            yield doc
            continue
        # Lines end at \n (or \r\n) alone, as `wc -l` and editors count them; str.splitlines
        # would also break at form feeds and U+2028, and `path:N` would name the wrong line.
        for number, line in enumerate(doc.text.split("\n"), start=1):
            line = line.removesuffix("\r")
            if line.strip():
                yield Document(f"{name}:{number}", line)

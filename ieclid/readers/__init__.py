"""Files that are not plain text (web pages, PDFs, Word files), read into the plain text ieclid
extracts from. Offsets in records refer to that text, which the record holds; `source` says how
it was made (the converter, and for a PDF the page of each range of characters).

Each format's reader takes the file's bytes and returns a `Converted`; a file that cannot be
read raises `Unreadable` with a message for the document's error record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ieclid.readers.converted import Converted, Unreadable

__all__ = ["READABLE_SUFFIXES", "Converted", "Unreadable", "reader_for"]


def _html(data: bytes) -> Converted:
    from ieclid.readers.html import read_html

    return read_html(data)


def _pdf(data: bytes) -> Converted:
    from ieclid.readers.pdf import read_pdf

    return read_pdf(data)


def _docx(data: bytes) -> Converted:
    from ieclid.readers.docx import read_docx

    return read_docx(data)


# Suffix (lower case) -> reader; the readers load when a file of theirs comes.
READERS: dict[str, Callable[[bytes], Converted]] = {
    ".html": _html, ".htm": _html, ".xhtml": _html, ".pdf": _pdf, ".docx": _docx,
}
# Files read as they are: plain text, and Markdown (its markup is text a model reads well).
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")
READABLE_SUFFIXES = (*TEXT_SUFFIXES, *READERS)


def reader_for(path: str) -> Callable[[bytes], Converted] | None:
    """The reader of a file's format, or None for a file read as UTF-8 text."""
    return READERS.get(Path(path).suffix.lower())

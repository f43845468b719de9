"""Word files (.docx) to text with the standard library: the body's paragraphs and tables in
document order, a table row per line with its cells separated by tabs.

A .docx file is a zip of XML; python-docx (with lxml) reads the same parts but lists
paragraphs and tables apart, losing their order, and adds two dependencies. docs/usage.md,
Documents, has the comparison."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

from ieclid.readers.converted import Converted, Unreadable

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(data: bytes) -> Converted:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            body = ElementTree.fromstring(archive.read("word/document.xml")).find(f"{W}body")
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise Unreadable(f"not a readable Word file ({exc})") from None
    lines = [line for block in (body if body is not None else []) for line in _block(block)]
    text = "\n".join(lines).strip()
    if not text:
        raise Unreadable("no text in the document")
    return Converted(text, "docx (zipfile + ElementTree)")


def _block(element: ElementTree.Element) -> list[str]:
    """The lines of one body element: a paragraph, a table, or what a content control holds."""
    if element.tag == f"{W}p":
        return [_paragraph(element)]
    if element.tag == f"{W}tbl":
        rows = []
        for row in element.iter(f"{W}tr"):
            cells = [" ".join(_paragraph(p) for p in cell.iter(f"{W}p")).strip()
                     for cell in row.findall(f"{W}tc")]
            rows.append("\t".join(cells))
        return rows
    if element.tag == f"{W}sdt":
        content = element.find(f"{W}sdtContent")
        return [line for child in (content if content is not None else []) for line in _block(child)]
    return []


def _paragraph(paragraph: ElementTree.Element) -> str:
    """A paragraph's text: its runs' text, tabs and line breaks; deleted text (tracked changes)
    is left out."""
    out = []
    for node in paragraph.iter():
        if node.tag == f"{W}t":
            out.append(node.text or "")
        elif node.tag == f"{W}tab":
            out.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            out.append("\n")
    return "".join(out)

"""PDFs to text with pypdfium2 (PDFium, the PDF engine of Chromium; Apache-2.0/BSD wheels with
no other dependency), page by page, with the range of characters each page gave.

Chosen over pypdf (pure Python, several times slower, and it runs words together more often)
and pdfminer.six (slower still); PyMuPDF is AGPL. docs/usage.md, Documents, has the comparison.
A PDF whose pages hold no text (a scan) is an error: there is nothing to extract from until
OCR has run."""

from __future__ import annotations

import re
from importlib.metadata import version

from ieclid.readers.converted import Converted, Unreadable

EXTRA = "reading PDFs needs pypdfium2: pip install 'ieclid[pdf]'"


def read_pdf(data: bytes) -> Converted:
    try:
        import pypdfium2
    except ImportError:
        raise Unreadable(EXTRA) from None
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise Unreadable(f"not a readable PDF ({exc})") from None
    texts: list[str] = []
    try:
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(_tidy(textpage.get_text_bounded()))
            textpage.close()
            page.close()
    finally:
        pdf.close()
    if not any(text.strip() for text in texts):
        raise Unreadable(f"no text layer in its {len(texts)} page(s); run OCR first")
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    at = 0
    for number, text in enumerate(texts, start=1):
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            at += 2
        parts.append(text)
        pages.append((at, at + len(text), number))
        at += len(text)
    return Converted("".join(parts), f"pypdfium2 {version('pypdfium2')}", pages)


# A line break inside a sentence: the next line goes on in lower case, or the line ended on a
# comma, semicolon or hyphen. ieclid reads a document line by line (a line of a table, a title
# is a unit of its own), so a sentence wrapped across lines would be read in pieces.
_WRAPPED = re.compile(r"(?<=[,;-])\n(?=\S)|\n(?=[a-z])")


def _tidy(text: str) -> str:
    """A page's text as ieclid reads it: \\n line ends (PDFium writes \\r\\n), the lines of a
    wrapped sentence joined by a space (after a hyphen, by nothing), no blank edges."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return _WRAPPED.sub(lambda m: "" if text[m.start() - 1] == "-" else " ", text)

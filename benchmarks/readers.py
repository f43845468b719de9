"""ieclid's readers against the libraries they were chosen over: speed and text fidelity.

For each format, each converter that is installed reads the test fixture (tests/fixtures/
documents: a two-page PDF, a news page with boilerplate, a Word file with a table) and a large
input made from it (the PDF's pages repeated to 200 pages, the page's article 200 times, the
Word body 200 times). Fidelity: how many of the fixture's sentences come out whole (on one
line, words apart), and how many boilerplate strings of the page come out at all. Speed: seconds
for the large input, best of three.

Alternatives are optional (pip install pypdf pdfminer.six trafilatura beautifulsoup4
python-docx docx2txt); missing ones are skipped.

Usage: python benchmarks/readers.py
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "tests" / "fixtures" / "documents"
sys.path.insert(0, str(DOCS))
import make  # noqa: E402  (the fixtures' maker, for the large inputs)

from ieclid.readers.docx import read_docx  # noqa: E402
from ieclid.readers.html import read_html  # noqa: E402
from ieclid.readers.pdf import read_pdf  # noqa: E402

SENTENCES = {
    "pdf": [*make.PAGES[0], " ".join(make.PAGES[1])],  # page 2's sentence is wrapped over 2 lines
    "html": ["Microsoft announced a new research lab in Zurich on Friday, led by former ETH professor "
             "Maria Keller.", "Keller said the lab would hire 40 researchers & engineers."],
    "docx": ["Patients received the following drugs at St Mary's Hospital.",
             "Dr Ann Lee reviewed the plan in Leeds.", "atenolol 50 mg daily"],
}
BOILERPLATE = ["Log in", "Tech", "cookies", "analytics", "Ten tips", "All rights reserved"]


def pypdf_text(data: bytes) -> str:
    import pypdf

    return "\n\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pdfminer_text(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def trafilatura_text(data: bytes) -> str:
    import trafilatura

    return trafilatura.extract(data.decode("utf-8"), include_tables=True) or ""


def soup_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(data, "html.parser").get_text("\n")


def python_docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    rows = ["\t".join(cell.text for cell in row.cells) for table in document.tables for row in table.rows]
    return "\n".join([p.text for p in document.paragraphs] + rows)


def docx2txt_text(data: bytes) -> str:
    import docx2txt

    with tempfile.NamedTemporaryFile(suffix=".docx") as handle:
        handle.write(data)
        handle.flush()
        return docx2txt.process(handle.name)


CONVERTERS: dict[str, list[tuple[str, Callable[[bytes], str]]]] = {
    "pdf": [("ieclid (pypdfium2)", lambda d: read_pdf(d).text), ("pypdf", pypdf_text),
            ("pdfminer.six", pdfminer_text)],
    "html": [("ieclid (html.parser)", lambda d: read_html(d).text), ("trafilatura", trafilatura_text),
             ("BeautifulSoup get_text", soup_text)],
    "docx": [("ieclid (zipfile + ElementTree)", lambda d: read_docx(d).text),
             ("python-docx", python_docx_text), ("docx2txt", docx2txt_text)],
}


def large(kind: str) -> bytes:
    """A big input of the kind: 200 PDF pages, 200 articles in one page, 200 Word bodies."""
    if kind == "pdf":
        return make.pdf(make.PAGES * 100)
    if kind == "html":
        page = (DOCS / "page.html").read_text()
        start, end = page.index("<article>"), page.index("</article>") + len("</article>")
        return (page[:start] + page[start:end] * 200 + page[end:]).encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.docx"
        make.docx(path, repeat=200)
        return path.read_bytes()


def whole(sentence: str, text: str) -> bool:
    lines = [" ".join(line.replace("\t", " ").split()) for line in text.splitlines()]
    return any(sentence in line for line in lines)


def main() -> None:
    fixtures = {"pdf": "two_pages.pdf", "html": "page.html", "docx": "summary.docx"}
    print("| format | converter | sentences whole | boilerplate kept | seconds (large input) |")
    print("|---|---|---|---|---|")
    for kind, converters in CONVERTERS.items():
        data = (DOCS / fixtures[kind]).read_bytes()
        big = large(kind)
        for name, convert in converters:
            try:
                text = convert(data)
            except ImportError:
                print(f"| {kind} | {name} | not installed | | |")
                continue
            found = sum(whole(s, text) for s in SENTENCES[kind])
            kept = sum(b in text for b in BOILERPLATE) if kind == "html" else "-"
            best = min(_timed(convert, big) for _ in range(3))
            print(f"| {kind} | {name} | {found}/{len(SENTENCES[kind])} | {kept} | {best:.3f} |",
                  flush=True)


def _timed(convert: Callable[[bytes], str], data: bytes) -> float:
    started = time.perf_counter()
    convert(data)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

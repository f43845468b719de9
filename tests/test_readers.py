"""Web pages, PDFs and Word files read into the text ieclid extracts from (fixtures made by
tests/fixtures/documents/make.py, the web page by hand)."""

import zipfile
from pathlib import Path

import pytest

from ieclid.documents import read_documents
from ieclid.readers import Unreadable
from ieclid.readers.docx import read_docx
from ieclid.readers.html import read_html
from ieclid.readers.pdf import read_pdf

DOCS = Path(__file__).parent / "fixtures" / "documents"


def test_a_web_page_gives_its_article_without_boilerplate():
    text = read_html((DOCS / "page.html").read_bytes()).text
    assert text.splitlines()[0] == "Microsoft opens a research lab in Zurich"
    assert "Microsoft announced a new research lab in Zurich on Friday, led by former ETH professor " \
           "Maria Keller." in text  # inline tags, wrapped lines and &nbsp; read as a browser shows them
    assert "40 researchers & engineers" in text
    assert "Zurich\t40" in text  # a table row per line, cells apart
    for boilerplate in ("City News", "Log in", "World", "cookies", "analytics", "Ten tips", "2026", "font"):
        assert boilerplate not in text, boilerplate


def test_a_page_without_main_markup_gives_its_body_and_an_empty_one_is_an_error():
    page = b"<html><body><nav>Home</nav><h2>Notes</h2><p>Ann Lee&#39;s memo.<br>Second line</p></body></html>"
    assert read_html(page).text == "Notes\n\nAnn Lee's memo.\nSecond line"
    assert read_html("<p>Gr\u00fc\u00dfe aus K\u00f6ln</p>".encode("cp1252")).text == "Grüße aus Köln"
    with pytest.raises(Unreadable, match="no text"):
        read_html(b"<html><head><script>x()</script></head><body><nav>Menu</nav></body></html>")


def test_a_pdf_gives_its_pages_text_and_where_each_page_is():
    converted = read_pdf((DOCS / "two_pages.pdf").read_bytes())
    text = converted.text
    assert text.startswith("Angela Merkel met Emmanuel Macron in Berlin on Tuesday.\n")
    # the sentence wrapped over two lines of page 2 is one line of text
    assert "Microsoft opened a research lab in Zurich, led by former ETH professor Maria Keller." in text
    source = converted.source()
    assert source["converter"].startswith("pypdfium2 ")
    (s1, e1, p1), (s2, e2, p2) = source["pages"]
    assert (p1, p2) == (1, 2) and s1 == 0 and e2 == len(text)
    assert "Berlin" in text[s1:e1] and "Zurich" in text[s2:e2] and "Zurich" not in text[s1:e1]


def test_a_pdf_without_a_text_layer_says_to_run_ocr():
    with pytest.raises(Unreadable, match=r"no text layer.*run OCR first"):
        read_pdf((DOCS / "scan.pdf").read_bytes())
    with pytest.raises(Unreadable, match="not a readable PDF"):
        read_pdf(b"%PDF-1.4 broken")


def test_a_word_file_gives_paragraphs_and_table_rows_in_order():
    text = read_docx((DOCS / "summary.docx").read_bytes()).text
    assert text.splitlines() == [
        "Discharge summary",
        "Patients received the following drugs at St Mary's Hospital.",
        "Drug\tDose", "atenolol\t50 mg daily", "amlodipine\t10 mg twice a day",
        "Dr Ann Lee reviewed the plan in Leeds.",
    ]


def test_files_become_documents_with_their_source_or_an_error(tmp_path: Path):
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("other.xml", "<x/>")
    paths = [str(DOCS / "two_pages.pdf"), str(DOCS / "scan.pdf"), str(broken), str(DOCS / "page.html")]
    pdf, scan, word, page = read_documents(paths)
    assert pdf.source and pdf.source["pages"][1][2] == 2 and not pdf.error
    assert scan.error == f"{DOCS / 'scan.pdf'}: no text layer in its 1 page(s); run OCR first"
    assert "not a readable Word file" in word.error
    assert page.source == {"converter": "html.parser"} and page.text.startswith("Microsoft opens")
    lines = list(read_documents([str(DOCS / "two_pages.pdf")], lines=True))
    assert [d.id for d in lines][:2] == [f"{DOCS / 'two_pages.pdf'}:1", f"{DOCS / 'two_pages.pdf'}:2"]


def test_extract_reads_a_folder_of_pages_pdfs_and_word_files(tmp_path: Path):
    """The default model on a folder as users have one: each file's record holds the text its
    offsets refer to, where it came from, and the names in it (on page 2 of the PDF too)."""
    from test_cli import ieclid, records

    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("two_pages.pdf", "page.html", "summary.docx", "scan.pdf"):
        (folder / name).write_bytes((DOCS / name).read_bytes())
    (folder / "notes.md").write_text("# Notes\n\nTim Cook visited Paris.\n")
    (folder / "table.csv").write_text("not,taken\n")
    result = ieclid("extract", "-q", "--schema", "conll2003", str(folder))
    assert result.returncode == 1  # the scan has no text
    by_name = {Path(r["id"]).name: r for r in records(result.stdout)}
    assert sorted(by_name) == ["notes.md", "page.html", "scan.pdf", "summary.docx", "two_pages.pdf"]
    assert "run OCR first" in by_name["scan.pdf"]["error"]
    for record in by_name.values():
        for entity in record["entities"]:
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]
    pdf = by_name["two_pages.pdf"]
    (_, _, _), (start, end, page) = pdf["source"]["pages"]
    keller = [e for e in pdf["entities"] if e["text"] == "Maria Keller"]
    assert keller and page == 2 and start <= keller[0]["start"] < end
    assert {"Microsoft", "Zurich"} <= {e["text"] for e in by_name["page.html"]["entities"]}
    assert by_name["page.html"]["source"] == {"converter": "html.parser"}
    word = {e["text"] for e in by_name["summary.docx"]["entities"]}
    assert "Leeds" in word and any("Ann Lee" in text for text in word), word
    assert "source" not in by_name["notes.md"]

"""`ieclid show`: the HTML page holds every span, item and table of the records, works offline,
and never overwrites a file it was not told to."""

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from test_cli import assert_one_line_error, ieclid

from ieclid.html_view import render

TEXT = "Angela Merkel met Emmanuel Macron in Berlin. The Bank of England <raised> rates & more."
RECORDS = [
    {"id": "news-1", "task": "re", "text": TEXT,
     "entities": [
         {"id": "T1", "label": "person", "text": "Angela Merkel", "start": 0, "end": 13, "status": "exact",
          "score": 0.98, "review": {"state": "accepted", "by": "ann"}},
         {"id": "T2", "label": "person", "text": "Emmanuel Macron", "start": 18, "end": 33, "status": "exact"},
         {"id": "T3", "label": "location", "text": "Berlin", "start": 37, "end": 43, "status": "exact",
          "score": 0.41, "review": {"state": "rejected"}},
         {"id": "T4", "label": "organization", "text": "Bank of England", "start": 49, "end": 64,
          "status": "exact"},
         {"id": "T5", "label": "location", "text": "England", "start": 57, "end": 64, "status": "exact"},
         {"id": "T6", "label": "misc", "text": "of England <raised>", "start": 54, "end": 73,
          "status": "fuzzy"},
         {"id": "T7", "label": "person", "text": "Olaf", "start": None, "end": None, "status": "unplaced"},
     ],
     "relations": [{"id": "R1", "label": "met", "head": "T1", "tail": "T2", "score": 0.7}],
     "warnings": []},
    {"id": "broken.pdf", "task": "ner", "error": "broken.pdf: no text layer; run OCR first",
     "entities": [], "warnings": []},
    {"id": "drugs", "task": "table", "text": "50 mg of atenolol.", "entities": [],
     "table": {"columns": ["Drug", "Dose"], "rows": [["atenolol", "50 mg"]], "offsets": [[[9, 17], [0, 5]]]},
     "warnings": []},
]


class Marks(HTMLParser):
    """The text inside each mark, by its data-id; and every external reference."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str | None] = []
        self.text: dict[str, str] = {}
        self.anchors: set[str] = set()
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            if attrs.get(key) and not attrs[key].startswith("#"):
                self.external.append(attrs[key])
        if attrs.get("id"):
            self.anchors.add(attrs["id"])
        self.open.append(attrs.get("data-id") if tag == "mark" else None)

    def handle_endtag(self, tag):
        self.open.pop()

    def handle_data(self, data):
        for ref in {r for r in self.open if r}:
            self.text[ref] = self.text.get(ref, "") + data


def test_every_placed_span_is_marked_whole_even_where_spans_overlap():
    page = render(RECORDS)
    marks = Marks()
    marks.feed(page)
    placed = [e for e in RECORDS[0]["entities"] if e["start"] is not None]
    assert {ref: text for ref, text in marks.text.items()} == {e["id"]: e["text"] for e in placed}
    assert {f"d0-{e['id']}" for e in placed} <= marks.anchors  # relations link to them
    assert marks.external == []  # nothing from the network
    assert "Olaf" in page and "Not found in the text" in page
    assert "&lt;raised&gt;" in page and "<raised>" not in page
    assert 'href="#d0-T1"' in page and "met" in page
    assert "no text layer; run OCR first" in page
    assert "<th>Drug</th>" in page and "<td>atenolol</td>" in page
    assert "score 0.41 · review: rejected" in page and "review: accepted by ann" in page


def test_show_writes_beside_the_records_and_keeps_existing_files(tmp_path: Path):
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"\n".join(orjson.dumps(r) for r in RECORDS) + b"\n")
    result = ieclid("show", str(results))
    assert result.returncode == 0, result.stderr
    page = tmp_path / "results.html"
    assert "Angela Merkel" in page.read_text()
    again = ieclid("show", str(results))
    assert_one_line_error(again, 2, "exists; give --overwrite")
    assert ieclid("show", str(results), "--overwrite").returncode == 0
    assert_one_line_error(ieclid("show", str(results), "-o", str(results)), 2, "is also an input")
    assert_one_line_error(ieclid("show", str(tmp_path / "none.jsonl")), 2, "records file not found")


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium package")
def test_the_page_renders_in_a_browser_with_every_span(tmp_path: Path):
    page = tmp_path / "view.html"
    page.write_text(render(RECORDS), encoding="utf-8")
    browser = [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
               "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    marks = Marks()
    marks.feed(dom)
    placed = [e for e in RECORDS[0]["entities"] if e["start"] is not None]
    assert marks.text == {e["id"]: e["text"] for e in placed}
    assert "background: rgb(" in dom  # the script ran and coloured the marks
    shot = tmp_path / "view.png"
    subprocess.run([*browser, f"--screenshot={shot}", "--window-size=1200,700", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000

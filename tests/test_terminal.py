"""What a person at a terminal sees: readable records, a progress display on stderr that names
its stage, and a one-line summary; pipes still get JSON Lines and nothing else."""

import os
import subprocess
import sys

from test_cli import ROOT, assert_one_line_error, ieclid, records

from ieclid.record_text import pretty, tsv_rows

NEWS = str(ROOT / "examples" / "news.txt")


def test_pretty_and_tsv_list_every_item_with_its_offsets():
    shown = ieclid("extract", "-q", "--format", "pretty", NEWS)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "examples/news.txt" or lines[0].endswith("examples/news.txt")
    keller = next(line for line in lines if "'Maria Keller'" in line)
    assert keller.split()[0] == "person" and "199-211" in keller
    table = ieclid("extract", "-q", "--format", "tsv", NEWS).stdout.splitlines()
    assert table[0].split("\t") == ["id", "kind", "label", "text", "start", "end", "score", "head", "tail"]
    row = next(r.split("\t") for r in table if "\tMaria Keller\t" in r)
    assert row[1:6] == ["entity", "person", "Maria Keller", "199", "211"]
    assert len(table) - 1 == len(records(ieclid("extract", "-q", NEWS).stdout)[0]["entities"])


def test_layouts_of_relations_events_tables_and_errors():
    record = {"id": "d", "text": "Ann\tLee works at Acme.",
              "entities": [{"id": "T1", "label": "person", "text": "Ann\tLee", "start": 0, "end": 7},
                           {"id": "T2", "label": "org", "text": "Acme", "start": 17, "end": 21}],
              "relations": [{"id": "R1", "label": "works for", "head": "T1", "tail": "T2", "score": 0.5}],
              "events": [{"id": "E1", "label": "work", "trigger": "T2", "arguments": [
                  {"role": "agent", "ref": "T1"}]}],
              "table": {"columns": ["Name"], "rows": [["Ann Lee"]], "offsets": [[None]]}, "warnings": ["w"]}
    text = pretty(record)
    assert "works for: 'Ann\\tLee' -> 'Acme'  0.50" in text and "event work: 'Acme' (agent='Ann\\tLee')" in text
    assert "| Ann Lee |" in text and "warning: w" in text
    rows = tsv_rows(record)
    assert ("d", "relation", "works for", "", "", "", 0.5, "Ann\tLee", "Acme") in rows
    assert tsv_rows({"id": "x", "error": "x: empty"}) == [("x", "error", "", "x: empty", "", "", "", "", "")]
    assert pretty({"id": "x", "error": "x: empty"}) == "x\n  error: x: empty\n\n"


def test_a_terminal_gets_pretty_records_stages_and_a_summary(tmp_path):
    """stdout and stderr on a pseudo-terminal, as a person running ieclid has them; a new home,
    so the model's CPU copy is made and that stage named too."""
    main, child = os.openpty()
    env = {**os.environ, "COLUMNS": "120", "IECLID_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([sys.executable, "-m", "ieclid", "extract", NEWS], stdin=subprocess.DEVNULL,
                               stdout=child, stderr=child, cwd=ROOT, env=env)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=300) == 0
    text = seen.decode("utf-8", "replace")
    assert "loading the model" in text and "making the model's Q8_0 copy for the CPU" in text
    assert "'Maria Keller'" in text and '"entities"' not in text  # pretty, not JSON
    assert "ieclid: 1 document, 8 items," in text


def test_resume_needs_json_lines(tmp_path):
    result = ieclid("extract", "--format", "tsv", "--resume", "-o", str(tmp_path / "out.tsv"), NEWS)
    assert_one_line_error(result, 2, "give --format jsonl")

"""`--resume`: a run killed at any point, continued, ends with exactly the records of a clean run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from test_cli import ROOT, assert_one_line_error, ieclid

from ieclid.documents import Document
from ieclid.resume import Resume

pytestmark = pytest.mark.slow
SENTENCES = [f"Sentence {i}: Anna Schmidt flew from Berlin to Paris with Lufthansa." for i in range(64)]


def comparable(path: Path) -> list[dict]:
    """The records without their timings (`usage`), which differ from run to run."""
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    return [{k: v for k, v in record.items() if k != "usage"} for record in records]


def leftovers(out: Path) -> list[Path]:
    return list(out.parent.glob(f".{out.name}.*.part"))


def test_resume_after_kill_9_at_three_points_gives_the_clean_run(tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    clean = tmp_path / "clean.jsonl"
    assert ieclid("extract", "-q", "--lines", "-o", str(clean), str(text)).returncode == 0
    out = tmp_path / "out.jsonl"
    # Kill points well before the end: records come out in bursts of the documents decoded together,
    # and a run that finished before the kill would test nothing.
    for written in (1, 20, 40):
        out.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-m", "ieclid", "extract", "-q", "--lines", "-o", str(out),
                                 str(text)], cwd=ROOT, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
                p.read_bytes().count(b"\n") >= written for p in leftovers(out)):
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not out.exists() and leftovers(out)
        resumed = ieclid("extract", "-q", "--lines", "--resume", "-o", str(out), str(text))
        assert resumed.returncode == 0, resumed.stderr
        assert "documents done" in resumed.stderr
        assert comparable(out) == comparable(clean), f"killed after {written}"
        assert not leftovers(out)
    # Resuming a finished run extracts nothing and changes nothing.
    again = ieclid("extract", "-q", "--lines", "--resume", "-o", str(out), str(text))
    assert again.returncode == 0 and f"{len(SENTENCES)} documents done" in again.stderr
    assert comparable(out) == comparable(clean)


def test_resume_refuses_other_settings_and_needs_an_output(tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("Anna Schmidt flew to Paris.\n")
    out = tmp_path / "out.jsonl"
    assert ieclid("extract", "-q", "-o", str(out), str(text)).returncode == 0
    before = out.read_bytes()
    assert_one_line_error(ieclid("extract", "-q", "--resume", "--labels", "person", "-o", str(out), str(text)),
                          2, "made with other settings")
    assert out.read_bytes() == before
    assert_one_line_error(ieclid("extract", "--resume", str(text)), 2, "--resume needs --output")
    assert_one_line_error(ieclid("extract", "--resume", "--overwrite", "-o", str(out), str(text)), 2,
                          "not both")


def test_records_of_documents_not_in_the_input_are_kept_and_failures_redone(tmp_path):
    digest = "d" * 16
    out = tmp_path / "out.jsonl"
    lines = [
        {"id": "a", "text": "A.", "settings": digest},
        {"id": "b", "error": "b: timed out", "settings": digest},
        {"id": "gone", "text": "Elsewhere.", "settings": digest},
    ]
    out.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines) + b'{"id": "c", "te')  # torn
    resume = Resume(str(out), digest)
    assert len(resume) == 2
    pending = list(resume.pending([Document("a", "A."), Document("b", "B."), Document("c", "C.")]))
    assert [d.id for d in pending] == ["b", "c"]
    merged = [r["id"] for r in resume.merged([{"id": "b"}, {"id": "c"}])]
    assert merged == ["a", "b", "c", "gone"]


def test_eval_resumes_its_saved_predictions(tmp_path, shared_data):
    gold = shared_data / "wnut17" / "test.conll"
    saved = tmp_path / "pred.jsonl"
    first = ieclid("eval", "-q", "--json", "--gold", str(gold), "-n", "6", "--save", str(saved))
    assert first.returncode == 0, first.stderr
    lines = saved.read_bytes().splitlines()
    saved.write_bytes(b"\n".join(lines[:4]) + b"\n")  # as if stopped after four
    whole = ieclid("eval", "-q", "--json", "--gold", str(gold), "-n", "6", "--save", str(saved), "--resume")
    assert whole.returncode == 0, whole.stderr
    assert orjson.loads(whole.stdout)["f1"] == orjson.loads(first.stdout)["f1"]
    assert [orjson.loads(line)["id"] for line in saved.read_bytes().splitlines()] == [
        orjson.loads(line)["id"] for line in lines]

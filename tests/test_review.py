"""`ieclid review`: real key presses through Textual's pilot, decisions on disk at once, a killed
session resumed, and the session logic by itself."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from test_cli import assert_one_line_error, ieclid

from ieclid.errors import UsageError
from ieclid.exchange.files import export_records, import_records
from ieclid.review.app import ReviewApp
from ieclid.review.session import ItemRef, Session

FIXTURE = Path(__file__).parent / "fixtures" / "wnut17_test_predictions_50.jsonl"
DOCS = Path(__file__).resolve().parent.parent / "docs"


def saved(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture()
def results(tmp_path) -> Path:
    path = tmp_path / "results.jsonl"
    shutil.copy(FIXTURE, path)
    return path


def drive(session: Session, *keys: str, screenshot: Path | None = None) -> None:
    async def run() -> None:
        app = ReviewApp(session)
        async with app.run_test(size=(80, 24)) as pilot:
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            if screenshot:
                app.save_screenshot(screenshot.name, str(screenshot.parent))
    asyncio.run(run())


def test_keys_accept_reject_relabel_add_and_undo(results, tmp_path):
    session = Session(results, user="ann")
    assert session.record["entities"][0]["text"].startswith("The soldier was killed")  # over-long span
    second = [dict(e) for e in session.records[1]["entities"]]
    labels = session.labels["entities"]
    target = next(n for n, name in enumerate(labels) if name != second[1]["label"])
    drive(
        session,
        "r",  # reject T1 of document 1
        "n", "a",  # document 2: accept its first item (the cursor moves on)
        "e", *["down"] * target, "enter",  # relabel the second item
        "plus", *"villagers", "enter", "enter",  # add a span found by search, with the first label
        "u", "U",  # undo the addition, redo it
    )
    records = saved(session.out)
    assert records[0]["entities"][0]["review"]["state"] == "rejected"
    assert records[0]["entities"][0]["review"]["by"] == "ann"
    doc2 = records[1]["entities"]
    assert doc2[0]["review"]["state"] == "accepted"
    assert doc2[1]["label"] == labels[target]
    assert doc2[1]["review"]["state"] == "edited" and doc2[1]["review"]["original"]["label"] == second[1]["label"]
    added = [e for e in doc2 if e["review"]["state"] == "added"]
    assert [(e["text"], e["label"]) for e in added] == [("villagers", labels[0])]
    assert session.out == tmp_path / "results.reviewed.jsonl"


def test_add_place_swap_finish_and_filters(results):
    session = Session(results, user="ann")
    unplaced = next(i for i, r in enumerate(session.records) if any(e["start"] is None for e in r["entities"]))
    drive(session, *["n"] * unplaced, "f", "f",  # the unplaced queue of that document
          "P", *session.records[unplaced]["text"].split()[0], "enter",  # place it on the first word
          "f", "f",  # back to all items
          "plus", *session.records[unplaced]["text"].split()[1], "enter", "enter",  # add a span
          "D")  # accept the rest, document done
    record = saved(session.out)[unplaced]
    placed = [e for e in record["entities"] if e["review"]["state"] == "edited" and "start" in e["review"]["original"]]
    assert placed and placed[0]["start"] == 0 and placed[0]["status"] == "exact"
    assert any(e["review"]["state"] == "added" for e in record["entities"])
    assert record["review"]["done"] and all("review" in e for e in record["entities"])
    assert session.doc == unplaced + 1  # D moves on


def test_every_decision_is_on_disk_before_exit_and_reopening_resumes(results):
    session = Session(results, user="ann")
    drive(session, "D", "D", "a")  # two documents done, one decision in the third
    reopened = Session(results, user="bob")  # the default output exists: resume it
    assert reopened.doc == 2 and reopened.progress() == (2, 50)
    assert reopened.record["entities"][0]["review"]["state"] == "accepted"


def test_killed_session_loses_nothing(results, tmp_path):
    """A real SIGKILL of a running review: what was decided before it is in the file."""
    script = tmp_path / "run.py"
    script.write_text(
        "import asyncio, sys, time\n"
        "from pathlib import Path\n"
        "from ieclid.review.app import ReviewApp\n"
        "from ieclid.review.session import Session\n"
        "async def main():\n"
        f"    app = ReviewApp(Session(Path({str(results)!r}), user='ann'))\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        for key in ['r', 'D', 'a', 'a']:\n"
        "            await pilot.press(key)\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).parent)
    assert process.stdout.readline().strip() == "ready"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    out = results.with_name("results.reviewed.jsonl")
    records = saved(out)
    assert records[0]["review"]["done"] and records[0]["entities"][0]["review"]["state"] == "rejected"
    assert [e.get("review", {}).get("state") for e in records[1]["entities"][:2]] == ["accepted"] * min(
        2, len(records[1]["entities"]))
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written file left behind
    assert Session(results).doc == 1


def test_session_logic(results):
    session = Session(results, user="ann")
    session.doc = next(i for i, r in enumerate(session.records) if r["entities"] and r["entities"][0]["start"])
    entity = dict(session.get(session.current))  # a copy: the session edits the record in place
    start, end = entity["start"], entity["end"]
    session.move_boundary("start", -1)
    moved = session.get(session.current)
    assert moved["start"] < start and moved["text"] == session.record["text"][moved["start"] : end]
    assert moved["review"] == {**moved["review"], "state": "edited", "original": {"start": start, "end": end,
                                                                                  "text": entity["text"],
                                                                                  "status": entity["status"]}}
    assert session.undo() and session.get(session.current)["start"] == start
    assert session.redo() and session.get(session.current)["start"] < start
    session.add_span(0, 3, "person")
    added = session.get(session.current)
    assert added["review"]["state"] == "added" and added["text"] == session.record["text"][:3]
    session.delete()  # an added item goes away entirely
    assert all(e["id"] != added["id"] for e in session.record["entities"])
    session.set_filter("unreviewed")
    assert all(not session.get(r).get("review") for r in session.items())
    session.set_filter("label:person")
    assert all(session.get(r)["label"] == "person" for r in session.items())
    assert session.labels["entities"][:3] == ["corporation", "creative-work", "group"]  # the wnut17 schema


def test_relations_and_event_arguments_are_items(tmp_path):
    record = {"id": "d", "task": "ee", "schema": "phee", "text": "Aspirin caused a rash.",
              "entities": [{"id": "T1", "label": "Drug", "text": "Aspirin", "start": 0, "end": 7, "status": "exact"},
                           {"id": "T2", "label": "Adverse_event", "text": "caused", "start": 8, "end": 14,
                            "status": "exact"}],
              "events": [{"id": "E1", "label": "Adverse_event", "trigger": "T2",
                          "arguments": [{"role": "Drug", "ref": "T1"}]}],
              "relations": [{"id": "R1", "label": "causes", "head": "T1", "tail": "T2"}]}
    path = tmp_path / "events.jsonl"
    path.write_bytes(orjson.dumps(record) + b"\n")
    session = Session(path, user="ann")
    refs = session.items()
    assert [r.kind for r in refs] == ["entities", "entities", "relations", "events", "arguments"]
    session.item = refs.index(ItemRef("arguments", "E1#0"))
    assert "Treatment" in session.choices(session.current)  # PHEE's roles
    session.relabel("Treatment")
    assert saved(session.out)[0]["events"][0]["arguments"][0] == {
        **saved(session.out)[0]["events"][0]["arguments"][0], "role": "Treatment"}
    session.item = refs.index(ItemRef("relations", "R1"))
    session.swap()
    relation = saved(session.out)[0]["relations"][0]
    assert (relation["head"], relation["tail"], relation["review"]["state"]) == ("T2", "T1", "edited")


def test_screenshot_in_80x24(results):
    """The SVG in docs/ is made by this test, so it always shows the current screen."""
    DOCS.mkdir(exist_ok=True)
    drive(Session(results, user="ann"), "n", "a", screenshot=DOCS / "review.svg")
    svg = (DOCS / "review.svg").read_text()
    assert svg.startswith("<svg") and all(word in svg for word in ("ieclid", "document&#160;2/50", "accept"))


def test_cli_errors(tmp_path):
    assert_one_line_error(ieclid("review", str(tmp_path / "none.jsonl")), 2, "results file not found")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    assert_one_line_error(ieclid("review", str(bad)), 2, "not an ieclid record")


def test_keyboard_cost_of_reviewing_50_documents(results, tmp_path, capsys):
    """Keys an annotator needs for the 50 fixture documents with one decision per item: one key per
    item (accept or reject), one per document (D). The closing note reports this figure."""
    session = Session(results, user="ann")
    keys: list[str] = []
    for record in session.records:
        for entity in record["entities"]:
            keys.append("a" if entity["status"] == "exact" else "r")
        keys.append("D")
    drive(session, *keys)
    records = saved(session.out)
    assert all(r["review"]["done"] for r in records)
    assert all(e["review"]["state"] in ("accepted", "rejected") for r in records for e in r["entities"])
    # the reviewed work goes to brat and Label Studio and comes back without loss
    kept = [sorted((e["label"], e["start"], e["end"]) for e in r["entities"] if e["review"]["state"] == "accepted")
            for r in records]
    for fmt, target in (("brat", tmp_path / "brat"), ("labelstudio", tmp_path / "tasks.json")):
        export_records(fmt, records, str(target))
        back = {r["text"]: r for r in import_records(fmt, str(target))}
        assert [sorted((e["label"], e["start"], e["end"]) for e in back[r["text"]]["entities"])
                for r in records] == kept
    with capsys.disabled():
        print(f"\nreview: {len(keys)} keys for {len(records)} documents, {len(keys) / len(records):.2f} per document")


def test_error_records_are_kept_but_not_shown(results):
    lines = results.read_bytes().splitlines()
    error = orjson.dumps({"id": "broken.txt", "task": "ner", "error": "broken.txt: not UTF-8", "entities": []})
    results.write_bytes(b"\n".join([lines[0], error, *lines[1:]]) + b"\n")
    session = Session(results, user="ann")
    assert len(session.records) == 50
    session.move_doc(1)
    session.decide("accepted")
    assert session.undo() and session.redo()
    on_disk = saved(session.out)
    assert len(on_disk) == 51 and on_disk[1]["error"] == "broken.txt: not UTF-8"
    assert on_disk[2]["entities"][0]["review"]["state"] == "accepted"
    only_errors = results.with_name("errors.jsonl")
    only_errors.write_bytes(error + b"\n")
    with pytest.raises(UsageError, match="only error records"):
        Session(only_errors)


def test_deciding_under_the_unreviewed_filter_skips_nothing(results):
    session = Session(results, user="ann")
    session.doc = next(i for i, r in enumerate(session.records) if len(r["entities"]) >= 3)
    session.set_filter("unreviewed")
    for _ in range(len(session.record["entities"])):
        session.decide("accepted")
    assert all(e["review"]["state"] == "accepted" for e in session.record["entities"])
    assert session.items() == []

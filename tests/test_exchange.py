"""Export to doccano, Label Studio, brat and CoNLL, and import back: what both sides hold survives."""

import os

import orjson
import pytest
from test_cli import assert_one_line_error, ieclid, records

from ieclid.datasets import read_conll, read_phee, read_semeval
from ieclid.exchange.files import export_records, import_records
from ieclid.records import RecordBuilder
from ieclid.tasks.markers import find_marked_pair


def ner_records(shared_data, n=20) -> list[dict]:
    out = []
    for doc in list(read_conll(shared_data / "wnut17" / "dev.conll"))[:n]:
        builder = RecordBuilder(doc.id, "ner", "wnut17", "gold", "gold", doc.text)
        for start, end, label in doc.entities:
            builder.add_entity(label, doc.text[start:end], start, end, "exact", 0.9)
        out.append(builder.build(0))
    return out


def event_records(shared_data, n=10) -> list[dict]:
    out = []
    for doc in list(read_phee(shared_data / "phee" / "dev.jsonl"))[:n]:
        builder = RecordBuilder(doc.id, "ee", "phee", "gold", "gold", doc.text)
        for event in doc.events:
            trigger = builder.add_entity(event.label, doc.text[event.start : event.end], event.start, event.end,
                                         "exact", None)
            event_id = builder.add_event(event.label, trigger, None)
            for start, end, role in event.arguments:
                builder.add_argument(event_id, role, builder.add_entity(role, doc.text[start:end], start, end,
                                                                       "exact", None), None)
        out.append(builder.build(0))
    return out


def relation_records(shared_data, n=10) -> list[dict]:
    out = []
    for doc in list(read_semeval(shared_data / "semeval2010_task8" / "TRAIN_FILE_first2000.TXT"))[:n]:
        pair = find_marked_pair(doc.text)
        builder = RecordBuilder(doc.id, "rc", "semeval2010", "gold", "gold", pair.text)
        e1 = builder.add_entity("e1", pair.e1_text, *pair.e1, "exact", None)
        e2 = builder.add_entity("e2", pair.e2_text, *pair.e2, "exact", None)
        label, reverse = doc.choice
        if label:
            builder.add_relation(label, *((e2, e1) if reverse else (e1, e2)), None)
        out.append(builder.build(0))
    return out


def content(record: dict) -> tuple:
    """What every format holds: spans, relations between spans, events with arguments."""
    spans = {e["id"]: (e["label"], e["start"], e["end"]) for e in record["entities"]}
    ends = {**spans, **{e["id"]: ("event",) + spans[e["trigger"]] for e in record.get("events", [])}}
    return (
        sorted(spans.values()),
        sorted((r["label"], ends[r["head"]], ends[r["tail"]]) for r in record.get("relations", [])),
        sorted((e["label"], spans[e["trigger"]], tuple(sorted((a["role"], spans[a["ref"]]) for a in e["arguments"])))
               for e in record.get("events", [])),
    )


@pytest.mark.parametrize("fmt", ["doccano", "labelstudio", "brat"])
def test_round_trip_of_entities_and_relations(shared_data, tmp_path, fmt):
    original = ner_records(shared_data) + relation_records(shared_data)
    out = tmp_path / ("out" if fmt == "brat" else f"out.{fmt}")
    assert export_records(fmt, original, str(out)) == 0
    back = import_records(fmt, str(out))
    by_text = {r["text"]: r for r in back}
    assert len(back) == len(original)
    for record in original:
        assert content(by_text[record["text"]]) == content(record)
    if fmt != "brat":  # brat names files after the ids, made safe for file names
        assert [r["id"] for r in back] == [r["id"] for r in original]


def test_brat_keeps_events_and_review_states(shared_data, tmp_path):
    original = event_records(shared_data)
    original[0]["entities"][0]["review"] = {"state": "accepted", "by": "ann", "at": "2026-11-22T08:00:00"}
    assert export_records("brat", original, str(tmp_path)) == 0
    ann = (tmp_path / f"{original[0]['id']}.ann").read_text()
    assert ann.startswith("T1\t") and "\nE1\t" in ann and "A1\tReview T1 accepted" in ann
    back = {r["text"]: r for r in import_records("brat", str(tmp_path))}
    for record in original:
        assert content(back[record["text"]]) == content(record)
    assert back[original[0]["text"]]["entities"][0]["review"] == {"state": "accepted"}
    assert back[original[0]["text"]]["task"] == "ee"


def test_rejected_and_unplaced_items_are_left_out(shared_data, tmp_path):
    record = ner_records(shared_data, 3)[2]
    assert len(record["entities"]) >= 1
    record["entities"][0]["review"] = {"state": "rejected"}
    record["entities"].append({"id": "T99", "label": "person", "text": "nobody", "start": None, "end": None,
                               "status": "unplaced"})
    assert export_records("doccano", [record], str(tmp_path / "d.jsonl")) == 1  # the unplaced one
    (line,) = [orjson.loads(x) for x in (tmp_path / "d.jsonl").read_bytes().splitlines()]
    assert len(line["entities"]) == len(record["entities"]) - 2


def test_label_studio_predictions_carry_model_and_scores(shared_data, tmp_path):
    record = ner_records(shared_data, 2)[1]
    export_records("labelstudio", [record], str(tmp_path / "ls.json"))
    (task,) = orjson.loads((tmp_path / "ls.json").read_bytes())
    prediction = task["predictions"][0]
    assert prediction["model_version"] == "gold" and prediction["score"] == 0.9
    region = prediction["result"][0]
    assert region["value"]["text"] == record["text"][region["value"]["start"] : region["value"]["end"]]
    # a Label Studio export with a human annotation wins over the predictions
    task["annotations"] = [{"result": []}]
    (tmp_path / "ls.json").write_bytes(orjson.dumps([task]))
    assert import_records("labelstudio", str(tmp_path / "ls.json"))[0]["entities"] == []


def test_conll_export_is_bio(shared_data, tmp_path):
    original = ner_records(shared_data, 20)
    out = tmp_path / "out.conll"
    assert export_records("conll", original, str(out)) == 0
    # read back with the CoNLL reader ieclid uses for gold data: the same entities
    back = list(read_conll(out))
    assert [sorted(d.entities) for d in back] == [sorted((e["start"], e["end"], e["label"])
                                                         for e in r["entities"]) for r in original]


def test_export_and_import_commands(shared_data, tmp_path):
    source = tmp_path / "records.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in ner_records(shared_data, 5)))
    result = ieclid("export", "--to", "doccano", str(source))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 5
    doccano = tmp_path / "d.jsonl"
    doccano.write_text(result.stdout)
    back = ieclid("import", "--from", "doccano", str(doccano))
    assert back.returncode == 0 and [r["text"] for r in records(back.stdout)] == [
        orjson.loads(line)["text"] for line in source.read_bytes().splitlines()]
    assert_one_line_error(ieclid("export", "--to", "brat", str(source)), 2, "give --output DIRECTORY")
    assert_one_line_error(ieclid("import", "--from", "labelstudio", str(source)), 2, "not labelstudio JSON")
    assert_one_line_error(ieclid("import", "--from", "brat", str(tmp_path / "none")), 2, "not found")
    assert_one_line_error(ieclid("export", "--to", "conll", str(tmp_path / "none.jsonl")), 2, "records file not found")


def reviewed_record() -> dict:
    """A record as `ieclid review` leaves it: one item accepted, one rejected, one relabelled,
    one added, the document done."""
    text = "Ann Lee met Bob Stone in Paris."
    return {"id": "r1", "task": "re", "model": "m", "text": text,
            "entities": [
                {"id": "T1", "label": "person", "text": "Ann Lee", "start": 0, "end": 7, "score": 0.9,
                 "review": {"state": "accepted", "by": "ann"}},
                {"id": "T2", "label": "location", "text": "Bob Stone", "start": 12, "end": 21, "score": 0.4,
                 "review": {"state": "edited", "by": "ann", "original": {"label": "location"}}},
                {"id": "T3", "label": "person", "text": "Paris", "start": 25, "end": 30, "score": 0.3,
                 "review": {"state": "rejected", "by": "ann"}},
                {"id": "T4", "label": "location", "text": "Paris", "start": 25, "end": 30,
                 "review": {"state": "added", "by": "ann"}},
            ],
            "relations": [{"id": "R1", "label": "met", "head": "T1", "tail": "T2", "score": 0.8}],
            "warnings": [], "review": {"done": True, "by": "ann", "at": "2026-12-06T00:00:00Z"}}


def test_label_studio_predictions_are_the_model_s_and_annotations_the_reviewer_s(tmp_path):
    record = reviewed_record()
    record["entities"][1]["label"] = "person"  # the reviewer's label; the model said location
    export_records("labelstudio", [record], str(tmp_path / "ls.json"), user="ann@example.org")
    (task,) = orjson.loads((tmp_path / "ls.json").read_bytes())

    def spans(result):
        return sorted((r["value"]["text"], r["value"]["labels"][0]) for r in result if r["type"] == "labels")

    assert spans(task["predictions"][0]["result"]) == [
        ("Ann Lee", "person"), ("Bob Stone", "location"), ("Paris", "person")]
    (annotation,) = task["annotations"]
    assert spans(annotation["result"]) == [("Ann Lee", "person"), ("Bob Stone", "person"), ("Paris", "location")]
    assert annotation["completed_by"] == {"email": "ann@example.org"}
    assert [r["labels"] for r in annotation["result"] if r["type"] == "relation"] == [["met"]]
    export_records("labelstudio", [record], str(tmp_path / "ls2.json"), user="7")
    assert orjson.loads((tmp_path / "ls2.json").read_bytes())[0]["annotations"][0]["completed_by"] == 7
    export_records("labelstudio", [record], str(tmp_path / "ls3.json"))
    assert "completed_by" not in orjson.loads((tmp_path / "ls3.json").read_bytes())[0]["annotations"][0]


def test_label_studio_config_names_every_label_used(tmp_path):
    source = tmp_path / "r.jsonl"
    source.write_bytes(orjson.dumps(reviewed_record()) + b"\n")
    result = ieclid("export", "--to", "labelstudio", "--config", str(source))
    assert result.returncode == 0, result.stderr
    import xml.etree.ElementTree as ElementTree

    view = ElementTree.fromstring(result.stdout)
    assert [label.get("value") for label in view.iter("Label")] == ["person", "location"]
    assert [r.get("value") for r in view.iter("Relation")] == ["met"]
    assert view.find("Text").get("value") == "$text"
    assert_one_line_error(ieclid("export", "--to", "brat", "--config", str(source)), 2, "--config is for")
    out = tmp_path / "ls.json"
    out.write_text("keep me")
    assert_one_line_error(ieclid("export", "--to", "labelstudio", "-o", str(out), str(source)), 2, "exists")
    assert out.read_text() == "keep me"


def test_brat_folder_declares_every_type_it_uses(shared_data, tmp_path):
    """brat (Python 2, not installable here) reads annotation.conf as its projectconfig.py does:
    a section per [name]; per line a type in storage form ([A-Za-z0-9_-]) and ROLE:TYPE
    arguments; every type of the .ann files must be declared in the right section."""
    import re

    original = [*event_records(shared_data, 5), reviewed_record()]
    export_records("brat", original, str(tmp_path))
    sections: dict[str, dict[str, list[str]]] = {}
    current = ""
    for line in (tmp_path / "annotation.conf").read_text().splitlines():
        if re.match(r"^\s*\[(.*)\]\s*$", line):
            current = line.strip()[1:-1]
            sections[current] = {}
        elif line.strip():
            name, *rest = re.match(r"^(\s*)(\S+)(?:\s+(.*))?$", line).groups()[1:]
            assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name
            arguments = [a.strip() for a in (rest[0] or "").split(",") if a.strip()]
            assert all(re.match(r"^(\S*?):(\S*)$", a) for a in arguments), line
            sections[current][name] = arguments
    assert set(sections) == {"entities", "relations", "events", "attributes"}
    for ann in tmp_path.glob("*.ann"):
        for line in ann.read_text().splitlines():
            key, body = line.split("\t")[:2]
            if key.startswith("T"):
                kind = body.split()[0]
                assert kind in sections["entities"] or kind in sections["events"], kind
            elif key.startswith("E"):
                kind, *arguments = body.split()
                event = kind.split(":")[0]
                roles = {a.replace("*:", ":") for a in sections["events"][event]}
                assert all(f"{re.sub(r'[0-9]+$', '', a.split(':')[0])}:<ENTITY>" in roles for a in arguments)
            elif key.startswith("R"):
                assert body.split()[0] in sections["relations"]
            elif key.startswith("A"):
                name, _, value = body.split()
                assert name in sections["attributes"] and value in sections["attributes"][name][1]
    assert "Treatment_Disorder | Treatment.Disorder" in (tmp_path / "visual.conf").read_text()


def test_doccano_sequence_layout(shared_data, tmp_path):
    record = reviewed_record()
    export_records("doccano", [record], str(tmp_path / "s.jsonl"), doccano_layout="sequence")
    (line,) = [orjson.loads(x) for x in (tmp_path / "s.jsonl").read_bytes().splitlines()]
    assert set(line) == {"id", "text", "label"}
    assert line["label"] == [[0, 7, "person"], [12, 21, "location"], [25, 30, "location"]]
    back = import_records("doccano", str(tmp_path / "s.jsonl"))[0]
    assert [(e["start"], e["end"], e["label"]) for e in back["entities"]] == [tuple(s) for s in line["label"]]


@pytest.mark.skipif(not os.environ.get("IECLID_DOCCANO_PYTHON"),
                    reason="set IECLID_DOCCANO_PYTHON to a Python with doccano installed")
@pytest.mark.parametrize("layout", ["sequence", "relation"])
def test_doccano_reads_both_layouts_with_its_own_importer(shared_data, tmp_path, layout):
    """doccano's JSONL parser, reader and label makers (which silently drop labels they cannot
    parse) make one label for every span and relation exported."""
    import subprocess
    from pathlib import Path

    original = [*ner_records(shared_data, 10), reviewed_record()]
    out = tmp_path / f"{layout}.jsonl"
    export_records("doccano", original, str(out), doccano_layout=layout)
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    check = Path(__file__).parent / "doccano_check.py"
    made = subprocess.run([os.environ["IECLID_DOCCANO_PYTHON"], str(check), str(out), layout], capture_output=True,
                          text=True, timeout=300, check=True, cwd=tmp_path).stdout.strip().splitlines()[-1]
    made = orjson.loads(made)
    assert made["rows"] == len(original) and made["parse_errors"] == 0
    if layout == "sequence":
        assert made["label"] == sum(len(line["label"]) for line in lines) > 5
    else:
        assert made["entities"] == sum(len(line["entities"]) for line in lines) > 5
        assert made["relations"] == sum(len(line["relations"]) for line in lines) == 1

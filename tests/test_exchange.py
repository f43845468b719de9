"""Export to doccano, Label Studio, brat and CoNLL, and import back: what both sides hold survives."""

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

"""Every task end to end with the embedded model on real data: records valid under the schema,
every reference resolvable, every exact span indexing the text."""

import pytest
from test_cli import assert_one_line_error, ieclid, records

from ieclid.assembly import open_extractor
from ieclid.datasets import read_carb, read_fewrel, read_phee
from ieclid.documents import Document
from ieclid.schema import load_schema
from ieclid.settings import RunSettings


def check_spans(record: dict) -> dict[str, dict]:
    """Entities index the text where exact; returns them by id."""
    assert "error" not in record, record
    for entity in record["entities"]:
        if entity["status"] == "exact":
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]
    return {e["id"]: e for e in record["entities"]}


def check_events(record: dict, schema_name: str) -> None:
    schema = load_schema(schema_name)
    entities = check_spans(record)
    roles = {r.name for r in schema.roles()}
    for event in record["events"]:
        assert entities[event["trigger"]]["label"] == event["label"]
        for argument in event["arguments"]:
            assert argument["ref"] in entities
            assert argument["role"] in roles or f"role outside the schema: {argument['role']!r}" in record["warnings"]


@pytest.fixture(scope="module")
def phee(shared_data):
    return list(read_phee(shared_data / "phee" / "test.jsonl"))[:4]


@pytest.fixture(scope="module")
def phee_demos(shared_data, tmp_path_factory):
    """PHEE training records as demonstrations (the reader sniffs the format)."""
    path = tmp_path_factory.mktemp("phee") / "train.jsonl"
    lines = (shared_data / "phee" / "train_first2000.jsonl").read_text().splitlines()[:200]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("profile", ["chat-json", "adelie"])
def test_ee_with_demonstrations_finds_grounded_events(phee, phee_demos, profile):
    extractor, backend = open_extractor(
        RunSettings(task="ee", profile=profile, demos=phee_demos, shots=2, threads=2)
    )
    try:
        found = []
        for gold in phee:
            record = extractor.extract(Document(gold.id, gold.text))
            check_events(record, "phee")
            found += record["events"]
    finally:
        backend.close()
    assert found and any(e["arguments"] for e in found)
    assert all(e["label"] in ("Adverse_event", "Potential_therapeutic_event") for e in found)


def test_openie_tuples_point_at_grounded_spans(shared_data):
    sentences = list(read_carb(shared_data / "carb" / "data" / "gold" / "test.tsv"))[:4]
    extractor, backend = open_extractor(RunSettings(task="openie", threads=2, verbatim=True))
    try:
        for gold in sentences:
            record = extractor.extract(Document(gold.id, gold.text))
            entities = check_spans(record)
            for item in record["tuples"]:
                assert item["predicate"] in entities and item["subject"] in entities
                assert all(entities[v]["status"] == "exact" for k, v in item.items() if k not in ("id", "score") and v)
    finally:
        backend.close()


def test_fewrel_qa4re_answers_a_schema_label_for_every_item(shared_data):
    items = list(read_fewrel(shared_data / "fewrel_val_wiki" / "val_wiki.json"))[::700][:4]
    schema = load_schema("fewrel")
    extractor, backend = open_extractor(
        RunSettings(task="rc", schema="fewrel", method="qa4re", threads=2)
    )
    try:
        for gold in items:
            record = extractor.extract(Document(gold.id, gold.text))
            check_spans(record)
            assert sorted(e["label"] for e in record["entities"]) == ["e1", "e2"]
            assert all(r["label"] in schema.relation_names for r in record["relations"])
    finally:
        backend.close()


def test_cli_eae_ere_and_table(tmp_path):
    lines = tmp_path / "marked.txt"
    lines.write_text(
        "The patient developed a rash after <event>taking</event> amoxicillin for two weeks.\n"
        "Riots <e1>broke out</e1> after the police <e2>shot</e2> a teenager.\n"
    )
    eae = ieclid("extract", "--task", "eae", "--event-type", "Adverse_event", "--lines", "-q", str(lines))
    first, second = records(eae.stdout)
    assert first["events"][0]["label"] == "Adverse_event" and "<event>" not in first["text"]
    check_events(first, "phee")
    assert "trigger marked as <event>" in second["error"] and eae.returncode == 1
    ere = ieclid("extract", "--task", "ere", "--lines", "-q", str(lines))
    unmarked, good = records(ere.stdout)  # a text without <e1>/<e2>: events are detected first
    assert "error" not in unmarked and ere.returncode == 0
    assert [e["label"] for e in good["events"]] == ["event", "event"]
    assert all(r["head"] in ("E1", "E2") and r["label"] in ("before", "after", "equal", "vague") for r in good["relations"])
    table = ieclid(
        "extract", "--task", "table", "-i", "every person with the place they are in", "--columns", "Person,Place",
        "-q", "examples/news.txt",
    )
    (record,) = records(table.stdout)
    assert table.returncode == 0 and record["table"]["columns"] == ["Person", "Place"]
    for row, offsets in zip(record["table"]["rows"], record["table"]["offsets"], strict=True):
        assert len(row) == 2
        for cell, where in zip(row, offsets, strict=True):
            assert where is None or record["text"][where[0] : where[1]].casefold() == cell.casefold()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--task", "table"], "--task table needs --instruction"),
        (["--columns", "a,b"], "--instruction and --columns are for --task table"),
        (["--task", "openie", "--schema", "phee"], "--task openie takes no --labels or --schema"),
        (["--task", "eae", "--labels", "a,b"], "--labels cannot give them"),
        (["--task", "ee", "--labels", "Attack"], "no event types with roles"),
        (["--task", "eae", "--event-type", "Attack"], "event type 'Attack' is not in schema 'phee'"),
        (["--task", "ed", "--event-type", "Attack"], "--event-type is for --task eae"),
        (["--task", "openie", "--profile", "instructuie"], "profile instructuie does not do --task openie"),
    ],
)
def test_task_option_mistakes_are_one_line_errors(tmp_path, args, fragment):
    sample = tmp_path / "s.txt"
    sample.write_text("Ann took aspirin.\n")
    result = ieclid("extract", *args, str(sample))
    assert_one_line_error(result, 2, fragment)

"""Event and FewRel scoring: perfect predictions score 1, hand-made mistakes cost what they should."""

import pytest

from ieclid.evaluation.run import default_schema, read_gold, score
from ieclid.records import RecordBuilder
from ieclid.schema import load_schema
from ieclid.tasks.markers import strip_markers


def perfect(doc, task: str) -> dict:
    """The record a flawless model would write for a gold PHEE or GENEVA document."""
    text = strip_markers(doc.text)[0]
    builder = RecordBuilder(doc.id, task, "phee", "gold", "gold", text)
    for event in doc.events:
        trigger = builder.add_entity(event.label, text[event.start : event.end], event.start, event.end, "exact", None)
        event_id = builder.add_event(event.label, trigger, None)
        for start, end, role in event.arguments:
            ref = builder.add_entity(role, text[start:end], start, end, "exact", None)
            builder.add_argument(event_id, role, ref, None)
    return builder.build(0)


@pytest.mark.parametrize("gold_file", ["phee/test.jsonl", "geneva/test.json"])
@pytest.mark.parametrize("task", ["ed", "eae", "ee"])
def test_perfect_event_predictions_score_one(shared_data, task, gold_file):
    gold = read_gold(str(shared_data / gold_file), task)[:60]
    report = score(task, gold, [perfect(doc, task) for doc in gold])
    assert report["f1"] == 1.0 and report["n_gold"] > 0
    if task == "ee":
        assert report["triggers"]["f1"] == 1.0


def test_event_mistakes_are_counted(shared_data):
    gold = read_gold(str(shared_data / "phee" / "test.jsonl"), "ee")[:1]
    record = perfect(gold[0], "ee")
    n_args = len(record["events"][0]["arguments"])
    record["events"][0]["arguments"][0]["role"] = "Wrong"  # one wrong role: one FP, one FN
    report = score("ee", gold, [record])
    assert report["tp"] == n_args - 1 and report["n_pred"] == n_args and report["n_gold"] == n_args
    assert score("ed", gold, [None])["recall"] == 0.0


def test_geneva_gold_brings_its_ontology_as_the_schema(shared_data):
    path = str(shared_data / "geneva" / "test.json")
    marked = read_gold(path, "eae")[0]
    assert marked.text.count("<event>") == 1 and marked.events[0].label == "building"
    ontology = default_schema(path, "eae")
    assert ontology == str(shared_data / "geneva" / "event_ontology.json")
    schema = load_schema(ontology)
    building = schema.event("building")
    assert len(schema.events) == 179 and not schema.entities
    assert building.description.startswith("This frame describes assembly or construction actions")
    assert "created entity" in {role.name for role in building.roles}
    assert default_schema(str(shared_data / "phee" / "test.jsonl"), "eae") is None
    assert default_schema(path, "ner") is None


def test_fewrel_gold_is_balanced_and_scored_micro(shared_data):
    gold = read_gold(str(shared_data / "fewrel_val_wiki" / "val_wiki.json"), "rc")[:32]
    assert len({doc.choice[0] for doc in gold}) == 16
    records = []
    for number, doc in enumerate(gold):
        text, spans = strip_markers(doc.text)
        builder = RecordBuilder(doc.id, "rc", "fewrel", "m", "p", text)
        e1 = builder.add_entity("e1", text[slice(*spans["e1"])], *spans["e1"], "exact", None)
        e2 = builder.add_entity("e2", text[slice(*spans["e2"])], *spans["e2"], "exact", None)
        if number % 2 == 0:  # right on every other item, nothing on the rest
            builder.add_relation(doc.choice[0], e1, e2, None)
        records.append(builder.build(0))
    report = score("rc", gold, records)
    assert report["metric"].startswith("micro F1 over positive labels")
    assert (report["precision"], report["recall"]) == (1.0, 0.5)


def triples_record(doc, triples) -> dict:
    """A record holding these (head text, relation, tail text) triples, as a model wrote them."""
    builder = RecordBuilder(doc.id, "re", "general", "m", "p", doc.text)
    for head, label, tail in triples:
        ends = [builder.add_entity("entity", said, None, None, "unplaced", None) for said in (head, tail)]
        builder.add_relation(label, *ends, None)
    return builder.build(0)


def test_redocred_is_read_sentence_by_sentence_with_its_relations(shared_data):
    gold = read_gold(str(shared_data / "redocred" / "test_revised.json"), "re")
    assert len(gold) == 3966  # every sentence of the 500 test documents
    london = gold[4]
    assert london.text == "In London , Rihanna played a record breaking 10 dates at The O2 Arena ."
    assert [(london.text[s:e], label) for s, e, label in london.entities] == [
        ("London", "location"), ("Rihanna", "person"), ("10", "number"), ("The O2 Arena", "location")]
    assert london.example().triples == (
        ("The O2 Arena", "located in the administrative territorial entity", "London"),)


def test_relation_triples_are_scored_by_their_ends_texts_and_direction(shared_data):
    gold = read_gold(str(shared_data / "redocred" / "test_revised.json"), "re")[:8]
    perfect = [triples_record(doc, doc.example().triples) for doc in gold]
    report = score("re", gold, perfect)
    assert report["f1"] == 1.0 and report["n_gold"] == sum(len(set(d.example().triples)) for d in gold) > 0
    london = gold[4]
    wrong = [triples_record(london, [("london", "located in the administrative territorial entity",
                                      "The  O2 Arena"),  # reversed (case and spacing aside)
                                     ("the o2 arena", "located in the administrative territorial entity",
                                      "London")])]
    report = score("re", [london], wrong)
    assert (report["tp"], report["n_pred"], report["n_gold"]) == (1, 2, 1)

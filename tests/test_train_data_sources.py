"""`ieclid train data` from the larger open sets: MultiCoNER II, Re-DocRED and GENEVA."""

import json
import re

import pytest

from ieclid.datasets import Annotated, oneie_schema, read_annotated
from ieclid.profiles.adelie import AdelieProfile
from ieclid.schema import load_schema
from ieclid.training.data import Recipe, build, parse_source, schema_from_data
from ieclid.training.recasing import is_lower_cased, recased

PLAIN = {"fewshot": 0, "symbols": 0, "json_answers": 0, "natural_answers": 0}


def options_of(message: str) -> list[str]:
    found = re.search(r"\[([^\[\]]*)\]", message)
    return [o.split(": ")[0] for o in found.group(1).split(", ")] if found else []


def text_of(message: str) -> str:
    return re.search(r"Text: '(.*)'", message, re.DOTALL).group(1)


def test_recasing_capitalises_names_and_keeps_offsets():
    text = "the music of hildegard of bingen ; sung in köln by the ßmith trio ."
    spans = [(text.index(name), text.index(name) + len(name), tag) for name, tag in
             [("hildegard of bingen", "Cleric"), ("köln", "HumanSettlement"), ("ßmith trio", "MusicalGRP")]]
    doc = Annotated("x", text, spans)
    again = recased(doc)
    assert again.text == "The music of Hildegard of Bingen ; sung in Köln by the ßmith Trio ."
    assert [again.text[s:e] for s, e, _ in again.entities] == ["Hildegard of Bingen", "Köln", "ßmith Trio"]
    assert is_lower_cased([doc]) and not is_lower_cased([again])


@pytest.fixture(scope="module")
def multiconer(shared_data):
    return build([parse_source(f"{shared_data}/multiconer2_en/en-dev.conll:multiconer2")], Recipe(**PLAIN))


def test_multiconer_types_get_their_names_and_half_the_sentences_capitals(multiconer):
    tags = {"OtherPER", "HumanSettlement", "Artist", "MusicalGRP", "Medication/Vaccine"}
    answered: set[str] = set()
    cased = 0
    for example in multiconer:
        user, answer = example["messages"][0]["content"], example["messages"][-1]["content"]
        text = text_of(user)
        if answer.startswith("[Answer]: {"):
            continue  # JSON, as a ':' in a mention asks
        items = [i.rsplit(": ", 1) for i in answer.removeprefix("[Answer]: ").split("; ") if ": " in i]
        for mention, label in items:
            assert mention in text and label in options_of(user)
            answered.add(label)
        cased += text != text.lower()
    assert not answered & tags
    assert {"person", "human settlement", "artist", "musical group", "medication"} <= answered
    assert 0.35 < cased / len(multiconer) < 0.65  # re-cased or left lower-case, about half each


@pytest.fixture(scope="module")
def redocred(shared_data):
    return shared_data / "redocred" / "dev_revised.json"


def test_redocred_gives_relation_triples_and_marked_pairs(redocred):
    made = build([parse_source(str(redocred))], Recipe(cap=400, describe=0, **PLAIN))
    docs = read_annotated(str(redocred))
    schema = schema_from_data(docs, "re")
    assert "person" not in schema.relation_names and "country of citizenship" in schema.relation_names
    profile, checked = AdelieProfile(), {"re": 0, "rc": 0}
    for example in made:
        user, answer = example["messages"][0]["content"], example["messages"][-1]["content"]
        options = options_of(user)
        with_commas = sum(name in user for name in schema.relation_names if ", " in name)
        assert len(options) - with_commas <= Recipe().max_options and "person" not in options
        if answer == "[Answer]: NA" or answer.startswith("[Answer]: ["):
            continue  # nothing, or JSON where a name holds '(' or ';'
        text = text_of(user)
        if example["task"] == "re":
            triples = profile.parse("re", schema, answer).triples
            assert len(set(triples)) == len(triples)
            assert triples and all(t.head in text and t.tail in text and t.label in user for t in triples)
        else:
            assert text.count("<entity>") == 2 and text.count("</entity>") == 2
            assert profile.parse("rc", schema, answer).choice.label in user
        checked[example["task"]] += 1
    assert checked["re"] > 50 and checked["rc"] > 50


def test_geneva_events_come_with_the_ontologys_descriptions(shared_data):
    path = shared_data / "geneva" / "test.json"
    first = read_annotated(str(path))[0]
    (event,) = first.events
    assert (first.text[event.start:event.end], event.label) == ("construction", "building")
    assert [(first.text[s:e], role) for s, e, role in event.arguments] == [
        ("of a state public health laboratory and Office of the Chief Medical Examiner", "created entity")]
    schema = oneie_schema(path)
    building = schema.event("building")
    assert building.description.startswith("This frame describes assembly or construction actions")
    assert "created entity" in {role.name for role in building.roles}

    made = build([parse_source(str(shared_data / "geneva" / "val.json"))], Recipe(cap=200, describe=1, **PLAIN))
    tasks = {e["task"] for e in made}
    assert tasks == {"ed", "eae"}
    described = [e for e in made if e["task"] == "ed" and "This frame" in e["messages"][0]["content"]]
    assert len(described) > 100
    for example in made:
        answer = example["messages"][-1]["content"]
        if example["task"] == "ed" and answer != "[Answer]: NA":
            text = text_of(example["messages"][0]["content"])
            items = [i.rsplit(": ", 1) for i in answer.removeprefix("[Answer]: ").split("; ") if ": " in i]
            assert all(trigger in text and schema.event(label) for trigger, label in items)


TRIPLE = re.compile(r"\(([^;()]*); ([^;()]*); ([^;()]*)\)")


def test_redocred_under_the_general_schema_names_and_turns_wikidata_relations(redocred):
    """`:general` renames Wikidata relations by the schema's aliases and swaps the ends of those
    it names the other way round (subsidiary -> part of, founded by -> founded)."""
    notes: list[str] = []
    made = build([parse_source(f"{redocred}:general")], Recipe(cap=1500, describe=0, **PLAIN), notes=notes)
    names = set(load_schema("general").relation_names)
    assert notes and "tags general does not name left out" in notes[0]
    by_text = {doc.text: doc for doc in read_annotated(str(redocred))}
    aliases = {"employer": "works for", "member of": "member of", "member of political party": "member of",
               "member of sports team": "member of", "located in the administrative territorial entity":
               "located in", "country": "located in", "location": "located in", "headquarters location":
               "headquartered in", "residence": "lives in", "place of birth": "born in",
               "country of citizenship": "citizen of", "part of": "part of", "parent organization": "part of",
               "spouse": "spouse of"}
    inverse = {"founded by": "founded", "head of government": "leads", "head of state": "leads",
               "chairperson": "leads", "contains administrative territorial entity": "located in",
               "has part": "part of", "subsidiary": "part of", "owned by": "owns"}
    checked = swapped = 0
    for example in made:
        answer = example["messages"][-1]["content"]
        if example["task"] != "re" or answer == "[Answer]: NA" or answer.startswith("[Answer]: ["):
            continue
        doc = by_text[text_of(example["messages"][0]["content"])]
        spans = [doc.text[s:e] for s, e, _ in doc.entities]
        expected = set()
        for head, tail, label in doc.triples:
            if label in inverse:
                expected.add((spans[tail], inverse[label], spans[head]))
                swapped += 1
            elif label in aliases:
                expected.add((spans[head], aliases[label], spans[tail]))
        # relations the schema does not name (author, genre) are left out, not offered
        assert set(TRIPLE.findall(answer)) == expected
        assert set(options_of(example["messages"][0]["content"])) <= names
        checked += 1
    assert checked > 200 and swapped > 50


def test_a_marked_pair_named_the_other_way_round_answers_its_ends_swapped(tmp_path):
    """rc from `(Alphabet; subsidiary; Google)` under `part of` answers (Google; part of; Alphabet)."""
    tokens = ["Google", "is", "a", "subsidiary", "of", "Alphabet", "."]
    doc = {"title": "g", "sents": [tokens],
           "vertexSet": [[{"name": "Google", "sent_id": 0, "pos": [0, 1], "type": "ORG"}],
                         [{"name": "Alphabet", "sent_id": 0, "pos": [5, 6], "type": "ORG"}]],
           "labels": [{"h": 1, "t": 0, "r": "P355", "evidence": [0]}]}
    (tmp_path / "docs.json").write_text(json.dumps([doc]))
    (tmp_path / "rel_info.json").write_text(json.dumps({"P355": "subsidiary"}))
    made = build([parse_source(f"{tmp_path / 'docs.json'}:general")],
                 Recipe(na_keep=0, fewshot=0, symbols=0, json_answers=0, negative_pairs=0))
    answers = {example["task"]: example["messages"][-1]["content"] for example in made}
    assert answers == {"re": "[Answer]: (Google; part of; Alphabet)\n",
                       "rc": "[Answer]: (Google; part of; Alphabet)\n"}

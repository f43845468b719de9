"""QA4RE relation classification: prompt as published, letters back to labels, real-model runs."""

from dataclasses import replace
from pathlib import Path

import pytest

from ieclid.datasets import read_annotated, read_semeval
from ieclid.demos import select_demos
from ieclid.documents import Document
from ieclid.errors import UsageError
from ieclid.pipeline import ExtractOptions, Extractor
from ieclid.profiles.adelie import tulu
from ieclid.profiles.qa4re import Qa4reProfile, options
from ieclid.schema import load_schema, schema_from_dict
from ieclid.tasks import Example
from ieclid.tasks.markers import find_marked_pair, untyped

SEMEVAL = load_schema("semeval2010")
MARKED = "the <e1>dolphin</e1> 's <e2>tail</e2> is so powerful"
FIXTURES = Path(__file__).parent / "fixtures"


def test_options_follow_qa4re_templates_and_order():
    opts = options(SEMEVAL, "dolphin", "tail")
    assert len(opts) == 19 and opts[-1] == ("[dolphin] has no known relations to [tail]", None, False)
    # SURE_SEMEVAL_LABEL_TEMPLATES, in SEMEVAL_VALID_CONDITIONS_REV order
    assert opts[0] == ("[dolphin] is the component of [tail]", "Component-Whole", False)
    assert opts[1] == ("[tail] is the component of [dolphin]", "Component-Whole", True)
    assert ("[tail] is the destination of [dolphin]", "Entity-Destination", False) in opts
    assert ("[tail] produces [dolphin]", "Product-Producer", False) in opts


def test_prompt_text_is_the_published_one():
    profile = Qa4reProfile(tulu, "adelie")
    question = profile.question(SEMEVAL, MARKED)
    assert question.startswith(
        "Determine which option can be inferred from the given Sentence.\n\n"
        "Sentence: the [dolphin] 's [tail] is so powerful\nOptions:\nA. [dolphin] is the component of [tail]\n"
    )
    assert question.endswith("S. [dolphin] has no known relations to [tail]\n\n"
                             "Which option can be inferred from the given Sentence?\n\nOption:")
    reversed_order = profile.question(SEMEVAL, "the <e2>tail</e2> of the <e1>dolphin</e1>")
    assert "Sentence: the [tail] of the [dolphin]" in reversed_order
    assert "A. [dolphin] is the component of [tail]" in reversed_order


def test_letters_parse_back_and_demos_round_trip():
    profile = Qa4reProfile(tulu, "adelie")
    choice = profile.parse("rc", SEMEVAL, " B").choice
    assert (choice.label, choice.reverse) == ("Component-Whole", True)
    assert profile.parse("rc", SEMEVAL, "S").choice.label is None
    bad = profile.parse("rc", SEMEVAL, "Answer: C")
    assert bad.choice.label is None and bad.problems
    demo = Example(MARKED, choice=("Entity-Origin", True))
    choice = profile.parse("rc", SEMEVAL, profile.answer("rc", SEMEVAL, demo)).choice
    assert (choice.label, choice.reverse) == ("Entity-Origin", True)
    assert profile.grammar("rc", SEMEVAL, MARKED).startswith('root ::= " "? (')


def test_every_semeval_item_gets_a_schema_label_or_other(backend, shared_data):
    items = list(read_semeval(shared_data / "semeval2010_task8" / "TEST_FILE_FULL.TXT"))[:10]
    demos = select_demos(read_annotated(str(FIXTURES / "semeval_train_excerpt.txt")), "rc", SEMEVAL, 2)
    profile = Qa4reProfile(backend.format_chat, "chat-json")
    extractor = Extractor(backend, profile, ExtractOptions("rc", SEMEVAL, {"rc": demos}))
    for item in items:
        record = extractor.extract(Document(item.id, item.text))
        assert "error" not in record and not record["warnings"]
        assert record["usage"]["completion_tokens"] <= 2
        for relation in record["relations"]:
            assert relation["label"] in SEMEVAL.relation_names


TYPED = schema_from_dict(
    {
        "name": "typed",
        "relations": {
            "employee_of": {"template": "{head} is an employee of {tail}", "types": ["person:organization"]},
            "headquartered_in": {"template": "{head} is based in {tail}", "types": ["organization:location"]},
            "located_in": {"template": "{head} is located in {tail}"},
        },
    },
    "typed.yaml",
)


def test_typed_markers_limit_the_options():
    pair = find_marked_pair("<e1:person>Ann</e1> works at <e2:organization>Acme</e2>.")
    assert (pair.text, pair.e1_type, pair.e2_type, pair.e1_text) == ("Ann works at Acme.", "person", "organization", "Ann")
    assert untyped("<e1:person>Ann</e1> at <e2>Acme</e2>") == "<e1>Ann</e1> at <e2>Acme</e2>"
    narrowed = TYPED.for_types("Person", "ORGANIZATION")  # types compare without case
    assert narrowed.relation_names == ["employee_of", "located_in"]  # untyped relations stay
    statements = [s for s, _, _ in options(narrowed, "Ann", "Acme")]
    assert statements == ["[Ann] is an employee of [Acme]", "[Ann] is located in [Acme]",
                          "[Ann] has no known relations to [Acme]"]
    assert TYPED.for_types("organization", "person").relation_names == ["located_in"]  # undirected: one way
    with pytest.raises(ValueError, match="takes no type"):
        find_marked_pair("<e1>Ann</e1:person> <e2>Acme</e2>")
    with pytest.raises(UsageError, match="head_type:tail_type"):
        schema_from_dict({"relations": {"r": {"types": ["person"]}}}, "bad.yaml")


def test_typed_pair_runs_with_allowed_relations_only(backend):
    profile = Qa4reProfile(backend.format_chat, "chat-json")
    extractor = Extractor(backend, profile, ExtractOptions("rc", TYPED))
    record = extractor.extract(Document("d", "<e1:person>Ann</e1> joined <e2:organization>Acme</e2> in 2019."))
    assert record["text"] == "Ann joined Acme in 2019." and "error" not in record
    assert all(r["label"] in ("employee_of", "located_in") for r in record["relations"])
    assert record["usage"]["completion_tokens"] == 1
    typed_only = replace(TYPED, relations=TYPED.relations[:2])  # located_in (untyped) would always be offered
    strict = Extractor(backend, profile, ExtractOptions("rc", typed_only))
    none = strict.extract(Document("n", "<e1:date>2019</e1> and <e2:date>2020</e2>"))
    assert none["relations"] == [] and none["usage"]["completion_tokens"] == 0
    assert "no relation of the schema holds between date and date" in none["warnings"]

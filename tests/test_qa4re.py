"""QA4RE relation classification: prompt as published, letters back to labels, real-model runs."""

from pathlib import Path

from ieclid.datasets import read_annotated, read_semeval
from ieclid.demos import select_demos
from ieclid.documents import Document
from ieclid.pipeline import ExtractOptions, Extractor
from ieclid.profiles.adelie import tulu
from ieclid.profiles.qa4re import Qa4reProfile, options
from ieclid.schema import load_schema
from ieclid.tasks import Example

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

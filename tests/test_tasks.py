"""Events, event relations, open IE, tables and the InstructUIE profile: prompts as trained,
every answer shape parsed, grammars that llama.cpp accepts, records that keep their references."""

import pytest

from ieclid.profiles.adelie import AdelieProfile
from ieclid.profiles.chat_json import ChatJsonProfile
from ieclid.profiles.instructuie import InstructUieProfile
from ieclid.records import RecordBuilder
from ieclid.schema import load_schema
from ieclid.tasks import Example, Request
from ieclid.tasks.markers import find_marked_trigger, mark, strip_markers
from ieclid.tasks.tables import header_lines, parse_table, table_grammar

PHEE = load_schema("phee")
MATRES = load_schema("matres")
NER = load_schema("conll2003")
ADELIE = AdelieProfile()
CHAT = ChatJsonProfile(lambda messages: repr(messages))
UIE = InstructUieProfile()
TEXT = "The patient developed a rash after taking amoxicillin."
MARKED = "The patient developed a rash after <event>taking</event> amoxicillin."
ERE = "He <e1>arrived</e1> and then <e2>left</e2>."


def pairs(answer):
    return [(m.text, m.label) for m in answer.mentions]


def test_markers_round_trip_and_errors():
    clean, spans = strip_markers(MARKED)
    assert clean == TEXT and clean[slice(*spans["event"])] == "taking"
    assert mark(clean, spans) == MARKED
    with pytest.raises(ValueError, match=r"<event>\.\.</event>"):
        find_marked_trigger(TEXT)
    with pytest.raises(ValueError, match="never closed"):
        strip_markers("a <event>b")


def test_adelie_event_prompts_use_the_trained_wording():
    ed = ADELIE.prompt("ed", PHEE, TEXT, [])
    assert "The collection of categories is : [Adverse_event, Potential_therapeutic_event]." in ed
    assert ed.endswith('"[Answer]: {event}: {class}; ".\nText: \'' + TEXT + "'\n<|assistant|>\n")
    eae = ADELIE.prompt("eae", PHEE, MARKED, [], Request(event_type="Adverse_event"))
    assert "Roleset: [Subject, Age," in eae and "<event> taking </event>" in eae
    ere = ADELIE.prompt("ere", MATRES, ERE, [])
    assert "[before, after, equal, vague, none]" in ere and "The first event: arrived\nThe second event: left" in ere
    oie = ADELIE.prompt("openie", NER, TEXT, [])
    assert f"in the following sentence: Text: '{TEXT}'." in oie and "({predicate}; {subject}" in oie
    demo = Example("A man fell.", tuples=(("fell", "A man"),))
    assert "[Answer]: (fell; A man);</s>" in ADELIE.prompt("openie", NER, TEXT, [demo])


def test_adelie_answers_for_events_relations_and_tuples():
    answer = ADELIE.parse("ed", PHEE, "[Answer]: rash: adverse_event; ")
    assert pairs(answer) == [("rash", "Adverse_event")]
    roles = ADELIE.parse("eae", PHEE, "[Answer]: amoxicillin: Drug; The patient: subject; ")
    assert pairs(roles) == [("amoxicillin", "Drug"), ("The patient", "Subject")]
    assert ADELIE.parse("ere", MATRES, "[Answer]: (arrived; before; left); ").choice.label == "before"
    assert ADELIE.parse("ere", MATRES, "[Answer]: (arrived; none; left); ").choice.label is None
    assert ADELIE.parse("ere", MATRES, "[Answer]: NA").choice.label is None
    tuples = ADELIE.parse("openie", NER, "[Answer]: (met; Merkel; Macron; on Monday); \n(spoke; He); \n")
    assert [t.elements for t in tuples.tuples] == [("met", "Merkel", "Macron", "on Monday"), ("spoke", "He")]
    assert ADELIE.parse("openie", NER, "[Answer]: No tuples.").tuples == []
    assert ADELIE.parse("openie", NER, "[Answer]: nothing here").problems


def test_chat_json_answers_for_events_relations_and_tuples():
    answer = CHAT.parse("ed", PHEE, '[{"trigger": "rash", "type": "Adverse_event"}]')
    assert pairs(answer) == [("rash", "Adverse_event")]
    roles = CHAT.parse("eae", PHEE, '[{"text": "amoxicillin", "label": "Drug"}, {"text": 3}]')
    assert pairs(roles) == [("amoxicillin", "Drug")] and roles.problems
    assert CHAT.parse("ere", MATRES, '{"relation": "after"}').choice.label == "after"
    assert CHAT.parse("ere", MATRES, '{"relation": "none"}').choice.label is None
    tuples = CHAT.parse("openie", NER, '[{"predicate": "met", "subject": "Merkel", "time": "Monday"}]')
    assert tuples.tuples[0].elements == ("met", "Merkel", "", "Monday")
    assert "(an event of type Adverse_event)" in CHAT.system("eae", PHEE, Request(event_type="Adverse_event"))


def test_tables_parse_pad_and_constrain():
    problems: list[str] = []
    table = parse_table("[Answer]: | Drug | Dose |\n| --- | --- |\n| amoxicillin | 2 g |\n| x |\n", (), problems)
    assert table.columns == ("Drug", "Dose") and table.rows == (("amoxicillin", "2 g"), ("x", ""))
    assert problems == ["a table row has 1 cells for 2 columns"]
    assert parse_table("| a | b |\n", ("Drug", "Dose"), []).rows == (("a", "b"),)
    assert header_lines(("A", "B")) == "| A | B |\n| --- | --- |\n"
    assert 'row ::= "|" cell "|" cell "|\\n"' in table_grammar("", ("A", "B"))
    prompt = ADELIE.prompt("table", NER, TEXT, [], Request(instruction="drugs", columns=("Drug",)))
    assert prompt.startswith("<|system|>\nYou are a helpful assistant.")
    assert prompt.endswith("drugs\n\nText: " + TEXT + "\n<|assistant|>\n[Answer]: | Drug |\n| --- |\n")


def test_instructuie_prompts_and_answers():
    prompt = UIE.prompt("ner", NER, "Obama spoke .", [])
    assert prompt == (
        'Please list all entity words in the text that fit the category.Output format is "type1: word1; '
        'type2: word2". \nOption: person, location, organization, misc \nText: Obama spoke . \nAnswer:'
    )
    assert pairs(UIE.parse("ner", NER, " person: Obama; location: Paris")) == [("Obama", "person"), ("Paris", "location")]
    assert UIE.parse("ner", NER, " None").mentions == []
    eea = UIE.prompt("eae", PHEE, MARKED, [], Request(event_type="Adverse_event"))
    assert "Event type: Adverse_event \n  Option: Subject," in eea and "<event>" not in eea
    assert pairs(UIE.parse("eae", PHEE, " amoxicillin: Drug")) == [("amoxicillin", "Drug")]
    rel = load_schema("semeval2010")
    triples = UIE.parse("re", rel, " Cause-Effect: rash, amoxicillin")
    assert [(t.head, t.label, t.tail) for t in triples.triples] == [("rash", "Cause-Effect", "amoxicillin")]
    with pytest.raises(Exception, match="does not do --task openie"):
        UIE.prompt("openie", NER, TEXT, [])


@pytest.mark.parametrize("profile", [ADELIE, CHAT, UIE, AdelieProfile(True), ChatJsonProfile(repr, True)])
@pytest.mark.parametrize(
    ("task", "schema", "text", "request_"),
    [
        ("ed", PHEE, TEXT, None),
        ("eae", PHEE, MARKED, Request(event_type="Adverse_event")),
        ("ere", MATRES, ERE, None),
        ("openie", NER, TEXT, None),
        ("table", NER, TEXT, Request(instruction="drugs")),
        ("table", NER, TEXT, Request(instruction="drugs", columns=("Drug", "Dose"))),
    ],
)
def test_every_grammar_is_valid_gbnf(backend, profile, task, schema, text, request_):
    if profile is UIE and task not in ("ed", "eae"):
        return
    backend.grammar_sampler(profile.grammar(task, schema, text, request_))  # raises on an invalid grammar


def test_records_link_events_tuples_and_tables_by_id():
    builder = RecordBuilder("d", "ee", "phee", "m", "p", TEXT)
    drug = builder.add_entity("Drug", "amoxicillin", 42, 53, "exact", 0.9)
    trigger = builder.add_entity("Adverse_event", "rash", 24, 28, "exact", 0.8)
    event = builder.add_event("Adverse_event", trigger, 0.8)
    builder.add_argument(event, "Drug", drug, 0.9)
    builder.add_argument(event, "Drug", drug, 0.9)
    record = builder.build(0.1)
    assert [e["id"] for e in record["entities"]] == ["T1", "T2"]  # renumbered in reading order
    assert record["events"] == [{
        "id": "E1", "label": "Adverse_event", "trigger": "T1", "arguments": [{"role": "Drug", "ref": "T2", "score": 0.9}],
        "score": 0.8,
    }]
    oie = RecordBuilder("d", "openie", "openie", "m", "p", TEXT)
    pred = oie.add_entity("predicate", "developed", 12, 21, "exact", None)
    oie.add_tuple({"predicate": pred, "subject": None}, 0.5)
    assert oie.build(0)["tuples"] == [{"id": "O1", "predicate": "T1", "subject": None, "score": 0.5}]
    table = RecordBuilder("d", "table", "table", "m", "p", TEXT)
    table.add_rows(("Drug",), [("amoxicillin",), ("amoxicillin",)], [[[42, 53]], [[42, 53]]])
    assert table.build(0)["table"] == {"columns": ["Drug"], "rows": [["amoxicillin"]], "offsets": [[[42, 53]]]}

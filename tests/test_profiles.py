"""Parsers for every answer shape each profile allows, plus garbage; prompts as trained."""

import pytest

from ieclid.assembly import verbatim_spans
from ieclid.profiles import guess_profile, make_profile
from ieclid.profiles.adelie import NER_FEW, NER_QUERY, AdelieProfile, tulu
from ieclid.profiles.base import match_label
from ieclid.profiles.chat_json import ChatJsonProfile, end_before_a_repeat
from ieclid.schema import load_schema, schema_from_labels
from ieclid.settings import RunSettings
from ieclid.tasks import Example
from ieclid.tasks.tables import end_before_a_repeated_row

NER = load_schema("conll2003")
REL = load_schema("semeval2010")
MARKED = "the <e1>dolphin</e1> 's <e2>tail</e2> is so powerful"
ADELIE = AdelieProfile()
CHAT = ChatJsonProfile(lambda messages: repr(messages))


def mentions(answer):
    return [(m.text, m.label) for m in answer.mentions]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[Answer]: Barack Obama: person; Redmond: location; ", [("Barack Obama", "person"), ("Redmond", "location")]),
        ("[Answer]: Barack Obama: PERSON.; Microsoft: Organization", [("Barack Obama", "person"), ("Microsoft", "organization")]),
        ("Barack Obama: person;", [("Barack Obama", "person")]),  # no [Answer]: marker
        ("[Answer]: NA", []),
        ("[Answer]: No entities found.", []),
        ("", []),
    ],
)
def test_adelie_ner_answers(text, expected):
    answer = ADELIE.parse("ner", NER, text)
    assert mentions(answer) == expected and not answer.problems


def test_adelie_ner_garbage_and_unknown_labels_are_reported_not_dropped():
    assert ADELIE.parse("ner", NER, "[Answer]: I think so").problems
    answer = ADELIE.parse("ner", NER, "[Answer]: Paris: city; ")
    assert mentions(answer) == [("Paris", "city")]


def test_adelie_rc_maps_verbalised_directions_back():
    whole = ADELIE.parse("rc", REL, "[Answer]: (dolphin; Whole and Component; tail)\n").choice
    assert (whole.label, whole.reverse) == ("Component-Whole", True)
    part = ADELIE.parse("rc", REL, "[Answer]: (dolphin; Component and Whole; tail)\n").choice
    assert (part.label, part.reverse) == ("Component-Whole", False)
    assert ADELIE.parse("rc", REL, "[Answer]: NA").choice.label is None
    assert ADELIE.parse("rc", REL, "[Answer]: Not related").choice.label is None
    garbage = ADELIE.parse("rc", REL, "the relation is unclear")
    assert garbage.choice.label is None and garbage.problems


def test_adelie_re_triples_are_normalised_to_the_schema_direction():
    answer = ADELIE.parse("re", REL, "[Answer]: (kitchen; Whole and Component; apartment)\n(a; Bogus; b)\n")
    assert [(t.head, t.label, t.tail) for t in answer.triples] == [
        ("apartment", "Component-Whole", "kitchen"),
        ("a", "Bogus", "b"),
    ]
    assert answer.problems == ["relation outside the schema: 'Bogus'"]


def test_adelie_prompts_match_the_released_format():
    zero = ADELIE.prompt("ner", NER, "Obama spoke .", [])
    assert zero.startswith("<|user|>\nFor the given context \"Text: 'Obama spoke .'\", identify")
    assert zero.endswith('Please give the answer in the form "[Answer]: {entity}: {type}; ".\n\n<|assistant|>\n')
    demo = Example("Ann left .", mentions=(("Ann", "person"),))
    few = ADELIE.prompt("ner", NER, "Obama spoke .", [demo])
    assert "<|assistant|>\n[Answer]: Ann: person;</s>\n<|user|>\nText: 'Obama spoke .'\n<|assistant|>\n" in few
    rc = ADELIE.prompt("rc", REL, MARKED, [])
    assert "the <entity> dolphin </entity> 's <entity> tail </entity>" in rc
    assert 'find the entity "dolphin" and "tail"' in rc
    assert tulu([{"role": "system", "content": "S"}]) == "<|system|>\nS\n<|assistant|>\n"


def test_adelie_prompts_for_models_ieclid_aligned_follow_the_recipe_and_share_all_but_the_text():
    """ieclid's own adapters get the canonical form of `ieclid train data`: the instruction with
    described options, the query, then the text, so every document's prompt starts alike."""
    ours = make_profile("adelie", repr, tulu=False)
    first, second = (ours.messages("ner", NER, text, [])[0]["content"] for text in ("Obama spoke .", "Hi ."))
    expected_options = ", ".join(f"{label.name}: {label.description}" for label in NER.entities)
    assert first == NER_FEW.format(options=expected_options) + NER_QUERY + "Text: 'Obama spoke .'"
    assert second.removesuffix("Text: 'Hi .'") == first.removesuffix("Text: 'Obama spoke .'")
    # options without a description for every label stay names only, as the data writes them
    bare = ours.messages("ner", schema_from_labels("person,place", "entities"), "Hi .", [])[0]["content"]
    assert "Options: [person, place]. " in bare
    assert ADELIE.messages("ner", NER, "Hi .", [])[0]["content"].startswith("For the given context")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[{"Obama": "person"}, {"Paris": "location"}]', [("Obama", "person"), ("Paris", "location")]),
        ('[{"text": "Obama", "label": "person"}, {"text": "Paris", "label": "location"}]', [("Obama", "person"), ("Paris", "location")]),
        ('{"entities": [{"entity": "Obama", "type": "Person"}]}', [("Obama", "person")]),
        ('[["Obama", "person"]]', [("Obama", "person")]),
        ("[]", []),
        ('Sure! [{"text": "Obama", "label": "person"}] hope this helps', [("Obama", "person")]),
    ],
)
def test_chat_json_ner_answers(text, expected):
    answer = CHAT.parse("ner", NER, text)
    assert mentions(answer) == expected and not answer.problems


def test_chat_json_keeps_complete_items_of_a_cut_off_answer():
    answer = CHAT.parse("ner", NER, '[{"text": "Obama", "label": "person"}, {"text": "Par')
    assert mentions(answer) == [("Obama", "person")]
    assert answer.problems == ["answer cut off or invalid after 1 items"]
    assert CHAT.parse("ner", NER, "no idea").problems
    assert CHAT.parse("ner", NER, '[{"foo": 1}]').problems
    assert CHAT.parse("ner", NER, '[{"text": "Obama"}]').problems  # a named key, not a mention


def test_chat_json_ner_answers_in_entity_objects_item_by_item():
    """ner's answer is {"entities": [{"text", "label"}, ...]}: demonstrations show it, the grammar
    holds to it, and a cut-off answer keeps its complete items, each at its own position."""
    demo = Example("Bo went to Rome .", mentions=(("Bo", "person"), ("Rome", "location")))
    shown = CHAT.answer("ner", NER, demo)
    assert shown == '{"entities": [{"text": "Bo", "label": "person"}, {"text": "Rome", "label": "location"}]}'
    grammar = CHAT.grammar("ner", NER, "Bo went to Rome .")
    assert 'list ::= "{\\"entities\\": [" ws' in grammar
    answer = CHAT.parse("ner", NER, shown)
    assert [shown[slice(*m.where)] for m in answer.mentions] == [
        '{"text": "Bo", "label": "person"}', '{"text": "Rome", "label": "location"}']
    cut = CHAT.parse("ner", NER, shown[:-12])
    assert mentions(cut) == [("Bo", "person")] and cut.problems


def test_a_repeated_entity_object_ends_the_answer_in_its_wrapper():
    repeat = '{"entities": [{"text": "A", "label": "person"}, {"text": "A", "label": "person"},'
    assert end_before_a_repeat(repeat) == '{"entities": [{"text": "A", "label": "person"}]}'
    assert end_before_a_repeat(repeat[:-12]) is None  # the latest item is not closed yet
    assert end_before_a_repeat('[{"A": "person"}, {"A": "person"}') == '[{"A": "person"}]'


def test_chat_json_item_positions_cover_the_item_text():
    text = '[{"Obama": "person"}, {"Paris": "location"}]'
    obama, paris = CHAT.parse("ner", NER, text).mentions
    assert text[slice(*obama.where)] == '{"Obama": "person"}'
    assert text[slice(*paris.where)] == '{"Paris": "location"}'


def test_chat_json_rc_options_and_none():
    choice = CHAT.parse("rc", REL, '{"relation": "Whole and Component"}').choice
    assert (choice.label, choice.reverse) == ("Component-Whole", True)
    assert CHAT.parse("rc", REL, '{"relation": "Other"}').choice.label is None
    odd = CHAT.parse("rc", REL, '{"relation": "friendship"}')
    assert odd.choice.label is None and odd.problems


def test_chat_json_re_triples():
    answer = CHAT.parse("re", REL, '[{"head": "kitchen", "relation": "component-whole", "tail": "flat"}]')
    assert [(t.head, t.label, t.tail) for t in answer.triples] == [("kitchen", "Component-Whole", "flat")]


def test_demo_answers_parse_back_to_the_demo():
    demo = Example("Ann met Bob .", mentions=(("Ann", "person"), ("Bob", "person")))
    for profile in (ADELIE, CHAT):
        assert mentions(profile.parse("ner", NER, profile.answer("ner", NER, demo))) == list(demo.mentions)
    rc_demo = Example(MARKED, choice=("Component-Whole", True))
    for profile in (ADELIE, CHAT):
        choice = profile.parse("rc", REL, profile.answer("rc", REL, rc_demo)).choice
        assert (choice.label, choice.reverse) == ("Component-Whole", True)


def test_profile_choice_from_metadata():
    assert guess_profile({"general.name": "ADELIE SFT 7B"}, "m.gguf") == "adelie"
    assert guess_profile({}, "/models/adelie-dpo.Q4_K_M.gguf") == "adelie"
    assert guess_profile({"general.name": "Smollm2"}, "x.gguf") == "chat-json"
    assert guess_profile({"general.name": "Smollm2", "ieclid.profile": "adelie"}, "x.gguf") == "adelie"
    assert make_profile("adelie", str).name == "adelie"


def test_adelie_wording_in_the_models_own_chat_format_unless_it_is_an_adelie_release():
    """ADELIE's releases were trained on Tulu turns; a model `ieclid train` aligned was trained on
    its own chat template, so the same wording goes into that."""
    chatml = lambda messages: "".join(f"<|im_start|>{m['role']}\n{m['content']}" for m in messages)  # noqa: E731
    released = make_profile("adelie", chatml).prompt("ner", NER, "Obama spoke .", [])
    ours = make_profile("adelie", chatml, tulu=False).prompt("ner", NER, "Obama spoke .", [])
    assert released.startswith("<|user|>\nFor the given context")
    assert ours.startswith("<|im_start|>user\nRecognize entities") and "<|user|>" not in ours
    assert match_label("Person.", ["person"]) == "person"
    assert match_label("creative work", ["creative-work"]) == "creative-work"


@pytest.mark.parametrize(("task", "profile", "demos", "expected"), [
    ("ner", "chat-json", False, True),  # a chat model, zero-shot: mentions held to the text
    ("ee", "chat-json", False, True),
    ("ner", "chat-json", True, False),  # copies of demonstration mentions stay unplaced
    ("openie", "chat-json", False, False),
    ("ner", "adelie", False, False),  # IE-aligned models write spans themselves
])
def test_verbatim_spans_by_default_only_for_a_chat_model_labelling_spans_zero_shot(task, profile, demos, expected):
    assert verbatim_spans(RunSettings(task=task), profile, demos) is expected
    assert verbatim_spans(RunSettings(task=task, grammar=False), profile, demos) is False
    for given in (True, False):  # --verbatim / --free-spans always win
        assert verbatim_spans(RunSettings(task=task, verbatim=given), profile, demos) is given


def test_chat_json_list_answers_end_before_their_first_repeated_item():
    end = CHAT.ending("ner")
    police, army = '{"Police": "group"}', '{"Army": "group"}'
    assert end(f"[{police}") is None
    assert end(f"[{police}, {army}") is None
    assert end(f'[{police}, {{"Police": "person"}}') is None  # another label is another item
    assert end(f'[{police}, {army}, {{"Pol') is None
    assert end(f"[{police}, {army}, {police}") == f"[{police}, {army}]"
    assert end(f"[{police}, {police}") == f"[{police}]"
    assert end(f"[{police}, {police},") == end(f"[{police}, {police}]") == f"[{police}]"
    ended = CHAT.parse("ner", NER, end(f"[{police}, {army}, {police}"))
    assert mentions(ended) == [("Police", "group"), ("Army", "group")] and not ended.problems
    assert CHAT.ending("re") is end and CHAT.ending("openie") is end
    assert CHAT.ending("rc") is None and CHAT.ending("table") is end_before_a_repeated_row


def test_table_answers_end_before_a_row_that_cycles_through_earlier_cells():
    end = end_before_a_repeated_row
    rows = "| atenolol | 50 mg |\n| amlodipine | 10 mg |\n"
    assert end(rows) is None and end(rows + "| 50 mg | 10") is None
    assert end(rows + "| 50 mg | 10 mg |\n") == rows  # cells moved to other columns
    assert end(rows + "| atenolol | 50 mg |\n") == rows  # a repeated row
    pairs = "| Ann | Paris |\n| Bob | London |\n"
    assert end(pairs + "| Ann | London |\n") is None  # known cells in their own columns: a new fact
    assert AdelieProfile().ending("ner") is None

"""Real-model extraction with the embedded SmolLM2 on real sentences from shared/data."""

from pathlib import Path

import pytest

from ieclid.datasets import read_annotated, read_conll, read_semeval
from ieclid.demos import select_demos
from ieclid.documents import Document
from ieclid.pipeline import ExtractOptions, Extractor
from ieclid.profiles.adelie import AdelieProfile
from ieclid.profiles.chat_json import ChatJsonProfile
from ieclid.schema import load_schema

FIXTURES = Path(__file__).parent / "fixtures"


def check_grounded(record: dict, labels: set[str]) -> None:
    """The record contract: placed entities index the text exactly, labels are in the schema."""
    text = record["text"]
    ids = {e["id"] for e in record["entities"]}
    for entity in record["entities"]:
        assert entity["status"] in {"exact", "fuzzy", "unplaced"}
        if entity["status"] == "exact":
            assert text[entity["start"] : entity["end"]] == entity["text"]
        assert entity["label"] in labels
        assert entity.get("score") is None or 0 < entity["score"] <= 1
    for relation in record.get("relations", []):
        assert relation["head"] in ids and relation["tail"] in ids
    assert record["usage"]["prompt_tokens"] > 0


@pytest.fixture(scope="module")
def wnut_sentences(shared_data):
    return list(read_conll(shared_data / "wnut17" / "test.conll"))[:12]


@pytest.mark.parametrize("verbatim", [False, True])
@pytest.mark.parametrize("profile_name", ["chat-json", "adelie"])
def test_ner_four_shot_records_are_grounded_and_valid(backend, wnut_sentences, profile_name, verbatim):
    schema = load_schema("wnut17")
    demos = select_demos(list(read_conll(FIXTURES / "wnut17_train_excerpt.conll")), "ner", schema, 4)
    if profile_name == "chat-json":
        profile = ChatJsonProfile(backend.format_chat, verbatim)
    else:
        profile = AdelieProfile(verbatim)
    extractor = Extractor(backend, profile, ExtractOptions("ner", schema, {"ner": demos}))
    found = 0
    for gold in wnut_sentences:
        record = extractor.extract(Document(gold.id, gold.text))
        assert "error" not in record, record
        check_grounded(record, set(schema.entity_names))
        if verbatim:  # the span grammar makes every mention a verbatim, placed span
            assert all(e["status"] == "exact" for e in record["entities"])
        found += len(record["entities"])
    assert found > 0


def test_greedy_decoding_is_deterministic(backend, wnut_sentences):
    schema = load_schema("wnut17")
    extractor = Extractor(backend, ChatJsonProfile(backend.format_chat), ExtractOptions("ner", schema))
    doc = Document("d", wnut_sentences[3].text)
    first, second = extractor.extract(doc), extractor.extract(doc)
    for record in (first, second):  # timing and cache reuse differ between two runs
        record["usage"].pop("seconds")
        record["usage"].pop("cached_prompt_tokens")
    assert first == second


def test_rc_returns_a_schema_label_or_none_for_semeval_items(backend, shared_data):
    schema = load_schema("semeval2010")
    items = [d for d in read_semeval(shared_data / "semeval2010_task8" / "TEST_FILE_FULL.TXT")][:8]
    demos = select_demos(read_annotated(str(FIXTURES / "semeval_train_excerpt.txt")), "rc", schema, 4)
    for profile in (ChatJsonProfile(backend.format_chat), AdelieProfile()):
        extractor = Extractor(backend, profile, ExtractOptions("rc", schema, {"rc": demos}))
        for item in items:
            record = extractor.extract(Document(item.id, item.text))
            assert "<e1>" not in record["text"]
            e1, e2 = record["entities"]
            assert (e1["label"], e2["label"]) == ("e1", "e2")
            check_grounded(record, {"e1", "e2"})
            assert len(record["relations"]) <= 1
            for relation in record["relations"]:
                assert relation["label"] in schema.relation_names
                assert {relation["head"], relation["tail"]} == {"T1", "T2"}


def test_re_triples_point_at_grounded_entities(backend, shared_data):
    schema = load_schema("semeval2010")
    items = [d for d in read_semeval(shared_data / "semeval2010_task8" / "TEST_FILE_FULL.TXT")][:4]
    extractor = Extractor(backend, ChatJsonProfile(backend.format_chat), ExtractOptions("re", schema))
    for item in items:
        text = item.text.replace("<e1>", "").replace("</e1>", "").replace("<e2>", "").replace("</e2>", "")
        record = extractor.extract(Document(item.id, text))
        assert "error" not in record
        check_grounded(record, {"entity"})
        assert all(r["label"] in schema.relation_names for r in record["relations"])


def test_long_document_is_chunked_and_offsets_map_back(backend, shared_data):
    sentences = [d.text for d in read_conll(shared_data / "crossner" / "politics" / "test.txt")][:20]
    text = "\n".join(sentences)
    schema = load_schema("crossner_politics")
    options = ExtractOptions("ner", schema, max_chunk_tokens=64)
    record = Extractor(backend, ChatJsonProfile(backend.format_chat), options).extract(Document("long", text))
    assert record["text"] == text
    check_grounded(record, set(schema.entity_names))
    assert any(e["start"] > len(text) // 2 for e in record["entities"])  # later chunks contribute


@pytest.mark.parametrize("profile_name", ["chat-json", "adelie"])
def test_free_span_names_on_lower_case_function_words_are_left_out(backend, monkeypatch, profile_name):
    """What the verbatim grammar rules out, free spans may not bring back: "by the ARTs", "of"."""
    from ieclid.backends.base import Completion
    from ieclid.tasks import Example

    schema = load_schema("wnut17")
    profile = AdelieProfile(False) if profile_name == "adelie" else ChatJsonProfile(backend.format_chat, False)
    said = [("The Wire", "creative-work"), ("by the ARTs", "group"), ("of", "location"), ("Mulder", "person")]
    answer = profile.answer("ner", schema, Example("", tuple(said)))
    monkeypatch.setattr(backend, "complete", lambda prompt, **_: Completion(answer, 10, 12))
    extractor = Extractor(backend, profile, ExtractOptions("ner", schema, propagate=False))
    record = extractor.extract(Document("d", "The Wire was praised by the ARTs of Mulder."))
    assert [(e["text"], e["label"]) for e in record["entities"]] == [("The Wire", "creative-work"),
                                                                      ("Mulder", "person")]


def test_empty_and_marker_less_documents(backend):
    schema = load_schema("conll2003")
    extractor = Extractor(backend, ChatJsonProfile(backend.format_chat), ExtractOptions("ner", schema))
    record = extractor.extract(Document("empty", ""))
    assert record["entities"] == [] and "error" not in record
    rc = Extractor(backend, AdelieProfile(), ExtractOptions("rc", load_schema("semeval2010")))
    bad = rc.extract(Document("x", "no markers here"))
    assert "missing e1 and e2" in bad["error"]


def test_eae_takes_the_marked_events_type_from_the_document(backend, monkeypatch, shared_data):
    """A benchmark (or the Python API) that knows the event's type gets that type's roles asked."""
    from ieclid.backends.base import Completion

    schema = load_schema(str(shared_data / "geneva" / "event_ontology.json"))
    prompts = []

    def complete(prompt, **_):
        prompts.append(prompt)
        return Completion("[Answer]: a laboratory: created entity; ", 10, 12)

    monkeypatch.setattr(backend, "complete", complete)
    extractor = Extractor(backend, AdelieProfile(), ExtractOptions("eae", schema))
    record = extractor.extract(Document("d", "The <event>construction</event> of a laboratory began.",
                                        event_type="building"))
    roleset = prompts[0].split("Roleset: [", 1)[1].split("]", 1)[0].split(", ")
    assert sorted(roleset) == sorted(role.name for role in schema.event("building").roles)
    assert record["events"][0]["label"] == "building"
    assert [(e["text"], e["label"]) for e in record["entities"]][1:] == [("a laboratory", "created entity")]
    untyped = extractor.extract(Document("d", "The <event>construction</event> of a laboratory began."))
    assert untyped["events"][0]["label"] == "event"

"""`ieclid train data`: augmentations as ADELIE's recipe describes, answers that parse back."""

import random
import re
from collections import Counter

import orjson
import pytest
from test_cli import assert_one_line_error, ieclid

from ieclid.datasets import read_conll, read_semeval
from ieclid.profiles.adelie import NER_FEW, AdelieProfile, entity_markers
from ieclid.schema import load_schema
from ieclid.training.data import Recipe, Source, build, parse_source
from ieclid.training.label_names import FALLBACKS, RENAMES
from ieclid.training.passages import joined


@pytest.fixture(scope="module")
def sources(shared_data):
    data = shared_data
    return [
        parse_source(f"{data}/wnut17/train_first2000.conll:wnut17"),
        parse_source(f"{data}/semeval2010_task8/TRAIN_FILE_first2000.TXT:semeval2010"),
        parse_source(f"{data}/phee/train_first2000.jsonl:phee"),
        parse_source(f"{data}/carb/data/gold/dev.tsv"),
    ]


@pytest.fixture(scope="module")
def built(sources):
    return build(sources, Recipe(cap=400))


def options_of(message: str) -> list[str]:
    found = re.search(r"\[([^\[\]]*)\]", message)
    return [o.split(": ")[0] for o in found.group(1).split(", ")] if found else []


def test_sources_are_capped_mixed_and_reproducible(sources, built):
    counts = Counter((e["source"], e["task"]) for e in built)
    assert set(counts) == {("train_first2000", "ner"), ("TRAIN_FILE_first2000", "rc"), ("train_first2000", "ed"),
                           ("train_first2000", "eae"), ("dev", "openie")}
    assert max(counts.values()) <= 400
    assert len({e["task"] for e in built[:50]}) >= 3  # shuffled together, not one block per source
    assert build(sources[:1], Recipe(cap=50, seed=3)) == build(sources[:1], Recipe(cap=50, seed=3))
    assert build(sources[:1], Recipe(cap=50, seed=3)) != build(sources[:1], Recipe(cap=50, seed=4))


def test_most_empty_answers_are_dropped(shared_data):
    source = Source(str(shared_data / "wnut17" / "train_first2000.conll"), load_schema("wnut17"))
    docs = list(read_conll(shared_data / "wnut17" / "train_first2000.conll"))
    empty_share = sum(1 for d in docs if not d.entities) / len(docs)
    made = build([source], Recipe(cap=10**6))
    kept_empty = sum(1 for e in made if e["messages"][-1]["content"] == "[Answer]: NA")
    assert empty_share > 0.3  # WNUT-17 is mostly sentences without entities
    expected = round(0.2 * empty_share * len(docs))
    assert abs(kept_empty - expected) < 0.25 * expected + 10


def test_augmentations_happen_at_about_their_rates(built):
    ner = [e for e in built if e["task"] == "ner"]
    firsts = [e["messages"][0]["content"] for e in ner]
    assert 0.35 < sum(len(e["messages"]) > 2 for e in ner) / len(ner) < 0.65  # few-shot for half
    assert all(len(e["messages"]) <= 18 for e in ner)  # at most 8 demonstrations + the example
    assert 0.02 < sum("LABEL_1" in f for f in firsts) / len(ner) < 0.25  # symbols for some
    assert sum("json format" in f for f in firsts) > 0 and sum('" is a ' in e["messages"][-1]["content"]
                                                              for e in ner) > 0
    assert len({f.split("[")[0][:30] for f in firsts}) >= 4  # several instructions from the pool


def test_gold_labels_are_always_offered_and_symbols_are_consistent(built):
    for example in built:
        if example["task"] not in ("ner", "ed", "eae"):
            continue
        offered = set(options_of(example["messages"][0]["content"]))
        for answer in example["messages"][1::2]:
            content = answer["content"].removeprefix("[Answer]: ")
            if content == "NA" or content.startswith("{") or '" is a ' in content:
                continue
            used = {item.rsplit(": ", 1)[1] for item in content.split("; ") if ": " in item}
            assert used <= offered, (used, offered)


def test_canonical_answers_parse_back_with_the_adelie_profile(built):
    """Triplet answers are what the adelie profile reads at extraction time."""
    schema = load_schema("wnut17")
    profile = AdelieProfile()
    checked = 0
    for example in built:
        first = example["messages"][0]["content"]
        if example["task"] != "ner" or "LABEL_" in first or "json" in first or "sentences" in first:
            continue
        answer = example["messages"][-1]["content"]
        parsed = profile.parse("ner", schema, answer)
        written = [tuple(i.rsplit(": ", 1)) for i in answer.removeprefix("[Answer]: ").split("; ") if i.strip()]
        if answer != "[Answer]: NA":
            assert [(m.text, m.label) for m in parsed.mentions] == written and not parsed.problems
            checked += 1
    assert checked > 50
    # the first pool entry is the adelie profile's own few-shot instruction
    assert any(e["messages"][0]["content"].startswith(NER_FEW.split("{")[0]) for e in built)


def test_general_chat_is_mixed_at_the_ie_share(sources, tmp_path):
    general = [{"messages": [{"role": "user", "content": f"hi {n}"}, {"role": "assistant", "content": "hello"}]}
               for n in range(2000)]
    mixed = build(sources[:1], Recipe(cap=100), general, ie_share=0.2)
    assert Counter(e["task"] for e in mixed) == {"ner": 100, "chat": 400}


def test_cli(shared_data, tmp_path):
    out = tmp_path / "sft.jsonl"
    result = ieclid("train", "data", "--source", f"{shared_data}/wnut17/train_first2000.conll:wnut17",
                    "--source", f"{shared_data}/carb/data/gold/dev.tsv", "--cap", "20", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(lines) == 40 and all(line["messages"][-1]["role"] == "assistant" for line in lines)
    assert_one_line_error(ieclid("train", "data", "--source", "nope.conll", "--out", str(out)), 2,
                          "training file not found")
    assert_one_line_error(ieclid("train", "data", "--source", f"{shared_data}/wnut17/dev.conll:nope",
                                 "--out", str(out)), 2, "unknown schema")


def test_relation_answers_parse_back_to_the_gold_direction(shared_data):
    source = parse_source(f"{shared_data}/semeval2010_task8/TRAIN_FILE_first2000.TXT:semeval2010")
    made = build([source], Recipe(cap=300, json_answers=0, symbols=0))
    path = shared_data / "semeval2010_task8" / "TRAIN_FILE_first2000.TXT"
    gold = {entity_markers(doc.text): doc.choice for doc in read_semeval(path)}
    schema, profile, checked = load_schema("semeval2010"), AdelieProfile(), 0
    for example in made:
        text = re.search(r"Text: '(.*)'", example["messages"][-2]["content"], re.DOTALL)
        if text and text.group(1) in gold and gold[text.group(1)][0]:
            choice = profile.parse("rc", schema, example["messages"][-1]["content"]).choice
            assert (choice.label, choice.reverse) == gold[text.group(1)]
            checked += 1
    assert checked > 100


@pytest.fixture(scope="module")
def politics(shared_data):
    return parse_source(f"{shared_data}/crossner/politics/train.txt:crossner_politics")


def triplets(answer: str) -> list[tuple[str, str]]:
    """The (mention, type) items of a triplet answer; none for a JSON one (forced by a ':' in a mention)."""
    if answer.startswith("[Answer]: {"):
        return []
    items = answer.removeprefix("[Answer]: ").split("; ")
    return [tuple(item.rsplit(": ", 1)) for item in items if ": " in item]


def test_renamed_types_are_offered_and_answered_under_the_same_name(politics):
    made = build([politics], Recipe(cap=200, rename=1.0, symbols=0, json_answers=0, natural_answers=0))
    plain = build([politics], Recipe(cap=200, symbols=0, json_answers=0, natural_answers=0))
    other_names = {name for names in RENAMES.values() for name in names}
    renamed = 0
    for example in made:
        offered = set(options_of(example["messages"][0]["content"]))
        renamed += bool(offered & other_names)
        for answer in example["messages"][1::2]:
            assert {label for _, label in triplets(answer["content"])} <= offered
    assert renamed > 0.8 * len(made)  # about half of each example's types, so nearly every example
    assert not any(set(options_of(e["messages"][0]["content"])) & other_names for e in plain)


def test_merged_types_fall_back_to_the_coarse_type(politics, shared_data):
    made = build([politics], Recipe(cap=300, merge=1.0, symbols=0, json_answers=0, natural_answers=0))
    gold = {doc.text: dict(doc.example().mentions) for doc in read_conll(shared_data / "crossner/politics/train.txt")}
    fallen = 0
    for example in made:
        offered = set(options_of(example["messages"][0]["content"]))
        assert "politician" not in offered and "politicalparty" not in offered
        text = re.search(r"Text: '(.*)'", example["messages"][-2]["content"], re.DOTALL).group(1)
        for mention, label in triplets(example["messages"][-1]["content"]):
            expected = {"politician": "person", "politicalparty": "organisation", "election": "event",
                        "country": "location"}.get(gold[text][mention], gold[text][mention])
            assert label == expected and label in offered
            fallen += label != gold[text][mention]
    assert fallen > 100


def test_other_names_keep_the_held_out_label_sets_held_out():
    held_out = {label.name for domain in ("ai", "literature", "music")
                for label in load_schema(f"crossner_{domain}").entities}
    trained = set(RENAMES)  # the training sets' own names may recur in held-out sets
    for names in RENAMES.values():
        assert not set(names) & (held_out - trained)
    assert set(FALLBACKS) <= trained and set(FALLBACKS.values()) <= trained


def test_cli_rejects_shares_outside_zero_to_one(shared_data, tmp_path):
    assert_one_line_error(ieclid("train", "data", "--source", f"{shared_data}/wnut17/dev.conll", "--rename", "1.5",
                                 "--out", str(tmp_path / "x.jsonl")), 2, "--rename, --merge and --passages are shares")


def test_multiconer_specific_types_fall_back_to_its_coarse_ones(shared_data):
    source = parse_source(f"{shared_data}/multiconer2_en/en-dev.conll:multiconer2")
    made = build([source], Recipe(cap=300, merge=1.0, fewshot=0, symbols=0, json_answers=0, natural_answers=0))
    schema = load_schema("multiconer2")
    tag_name = {alias: label.name for label in schema.entities for alias in label.aliases}
    gold = {doc.text.lower(): {m.lower(): tag_name[t] for m, t in doc.example().mentions}
            for doc in read_conll(shared_data / "multiconer2_en/en-dev.conll")}
    fallen = 0
    for example in made:
        lists = re.findall(r"\[([^\[\]]*)\]", example["messages"][0]["content"])  # the text may hold brackets
        offered = set(max(lists, key=lambda found: found.count(", ")).split(", "))
        assert not offered & {"artist", "athlete", "sports team", "public company", "human settlement", "software"}
        text = re.search(r"Text: '(.*)'", example["messages"][0]["content"], re.DOTALL).group(1)
        for mention, label in triplets(example["messages"][-1]["content"]):
            specific = gold[text.lower()][mention.lower()]
            assert label == FALLBACKS.get(specific, specific) and label in offered
            fallen += label != specific
    assert fallen > 100


def test_passages_join_neighbouring_sentences_with_every_mention_labelled(shared_data):
    path = shared_data / "crossner/politics/dev.txt"
    docs = list(read_conll(path))
    passages = joined(docs, 1.0, random.Random(0))
    assert len(docs) / 4 <= len(passages) < len(docs) / 2
    assert " ".join(p.text for p in passages) == " ".join(d.text for d in docs)
    assert [m for p in passages for m in p.example().mentions] == [m for d in docs for m in d.example().mentions]
    assert joined(docs, 0.0, random.Random(0)) == docs

    made = build([parse_source(f"{path}:crossner_politics")],
                 Recipe(cap=50, passages=1.0, fewshot=0, symbols=0, json_answers=0, natural_answers=0, rename=0))
    several = 0
    for example in made:
        text = re.search(r"Text: '(.*)'", example["messages"][0]["content"], re.DOTALL).group(1)
        answer = example["messages"][-1]["content"]
        inside = [d for d in docs if d.text in text]
        several += len(inside) > 1
        last = max((d for d in inside if text.endswith(d.text)), key=lambda d: len(d.text))
        if not answer.startswith("[Answer]: {"):  # a ':' in a mention makes the answer JSON
            answered = [mention for mention, _ in triplets(answer)]
            assert [m for m, _ in last.example().mentions] == answered[len(answered) - len(last.entities):]
    assert several > 40


def test_passages_leave_relation_examples_alone(shared_data):
    docs = list(read_semeval(shared_data / "semeval2010_task8/TRAIN_FILE_first2000.TXT"))[:40]
    assert joined(docs, 1.0, random.Random(0)) == docs


def test_reviewed_relation_records_teach_relations(tmp_path):
    """Records `ieclid extract --task re` wrote (ends labelled `entity`), as reviewed, give `re`
    and `rc` examples in the records' own relations, and no NER examples of the bare ends."""
    text = "Tim Cook works for Apple in Cupertino."
    ends = [("T1", "Tim Cook"), ("T2", "Apple"), ("T3", "Cupertino")]
    record = {"id": "1", "text": text,
              "entities": [{"id": i, "label": "entity", "text": t, "start": text.index(t),
                            "end": text.index(t) + len(t)} for i, t in ends],
              "relations": [{"label": "works for", "head": "T1", "tail": "T2"},
                            {"label": "headquartered in", "head": "T2", "tail": "T3"}]}
    path = tmp_path / "reviewed.jsonl"
    path.write_bytes(orjson.dumps(record) + b"\n")
    recipe = Recipe(fewshot=0, symbols=0, json_answers=0, negative_pairs=0)
    made = build([parse_source(str(path))], recipe)
    assert Counter(e["task"] for e in made) == {"re": 1, "rc": 2}
    (re_answer,) = [e["messages"][-1]["content"] for e in made if e["task"] == "re"]
    assert re_answer == "[Answer]: (Tim Cook; works for; Apple)\n(Apple; headquartered in; Cupertino)\n"
    rc_answers = {e["messages"][-1]["content"] for e in made if e["task"] == "rc"}
    assert rc_answers == {"[Answer]: (Tim Cook; works for; Apple)\n",
                          "[Answer]: (Apple; headquartered in; Cupertino)\n"}
    record["entities"][0]["label"] = "person"  # typed entities teach NER as well
    path.write_bytes(orjson.dumps(record) + b"\n")
    assert {e["task"] for e in build([parse_source(str(path))], recipe)} == {"ner", "re", "rc"}

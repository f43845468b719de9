from pathlib import Path

import pytest

from ieclid.datasets import read_annotated, read_conll, read_semeval
from ieclid.demos import select_demos
from ieclid.errors import UsageError
from ieclid.schema import load_schema

FIXTURES = Path(__file__).parent / "fixtures"


def test_conll_entities_map_to_character_offsets():
    docs = list(read_conll(FIXTURES / "wnut17_train_excerpt.conll"))
    assert len(docs) == 40
    for doc in docs:
        for start, end, label in doc.entities:
            assert doc.text[start:end].strip() == doc.text[start:end] and label
    first_with = next(d for d in docs if d.entities)
    assert first_with.example().mentions


def test_semeval_reader_parses_direction():
    docs = list(read_semeval(FIXTURES / "semeval_train_excerpt.txt"))
    assert docs[0].text.startswith("The system as described above") and docs[0].choice == ("Component-Whole", True)
    assert docs[1].choice == (None, False)  # Other


def test_format_detection_and_errors(tmp_path: Path):
    assert read_annotated(str(FIXTURES / "semeval_train_excerpt.txt"))[0].choice
    assert read_annotated(str(FIXTURES / "wnut17_train_excerpt.conll"))[0].text
    records = tmp_path / "r.jsonl"
    records.write_text('{"text": "Ann met Bob", "entities": [{"label": "person", "text": "Bob", "start": 8, "end": 11}]}\n')
    assert read_annotated(str(records))[0].entities == [(8, 11, "person")]
    prose = tmp_path / "p.txt"
    prose.write_text("just some prose here\n")
    with pytest.raises(UsageError, match="unknown format"):
        read_annotated(str(prose))
    with pytest.raises(UsageError, match="not found"):
        read_annotated(str(tmp_path / "missing"))


def test_demo_selection_is_deterministic_and_covers_labels():
    docs = list(read_conll(FIXTURES / "wnut17_train_excerpt.conll"))
    schema = load_schema("wnut17")
    demos = select_demos(docs, "ner", schema, 4)
    assert demos == select_demos(docs, "ner", schema, 4)
    assert len(demos) == 4 and all(d.mentions for d in demos)
    shown = {label for d in demos for _, label in d.mentions}
    assert len(shown) >= 3


CONLL_LAYOUTS = {
    # CoNLL-2003 as distributed: space-separated token POS chunk tag, IOB1, -DOCSTART- lines.
    "conll2003_iob1.txt": (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\ncall NN I-NP O\n"
        "to TO I-VP O\nboycott VB I-VP O\nBritish JJ I-NP I-MISC\nlamb NN I-NP O\n. . O O\n\n"
        "Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n\n"
        "In IN I-PP O\nParis NNP I-NP I-LOC\nLondon NNP I-NP B-LOC\n"
    ),
    "two_columns_tab_iob2.conll": "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\n\nPeter\tB-PER\nBlackburn\tI-PER\n",
    "two_columns_space_bioes.txt": "EU S-ORG\nrejects O\nGerman S-MISC\n\nPeter B-PER\nBlackburn E-PER\n",
    "multiconer_comments.conll": (
        "\n# id 5239d808\tdomain=en\neli _ _ B-OtherPER\nlilly _ _ I-OtherPER\nfounder _ _ O\n\n"
        "# id 77\tdomain=en\nparis _ _ U-LOC\n"
    ),
}


@pytest.mark.parametrize("name", sorted(CONLL_LAYOUTS))
def test_conll_layouts_are_read_as_demonstrations(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text(CONLL_LAYOUTS[name])
    docs = read_annotated(str(path))
    mentions = [(d.text[s:e], label) for d in docs for s, e, label in d.entities]
    if name.startswith("multiconer"):
        assert [d.text for d in docs] == ["eli lilly founder", "paris"]
        assert mentions == [("eli lilly", "OtherPER"), ("paris", "LOC")]
        return
    assert docs[0].text.startswith("EU rejects German")
    assert ("EU", "ORG") in mentions and ("German", "MISC") in mentions
    assert ("Peter Blackburn", "PER") in mentions
    if name.startswith("conll2003"):
        assert "-DOCSTART-" not in " ".join(d.text for d in docs)
        assert ("British", "MISC") in mentions
        # IOB1: B- separates two adjacent mentions of one type.
        assert ("Paris", "LOC") in mentions and ("London", "LOC") in mentions


def test_the_shared_conll2003_layout_is_readable_by_extract_and_eval(shared_data: Path):
    """Any CoNLL file with POS and chunk columns (MultiCoNER's `_ _` columns here) is sniffed as
    CoNLL both for --demos and --gold."""
    from ieclid.evaluation.run import read_gold

    path = shared_data / "multiconer2_en" / "en-dev.conll"
    assert read_annotated(str(path))[0].entities
    assert read_gold(str(path), "ner")[0].text == read_annotated(str(path))[0].text


def test_demo_tags_map_to_labels_by_alias_name_abbreviation_or_label_map(tmp_path: Path):
    from ieclid.demos import demo_labels, parse_label_map

    path = tmp_path / "demos.txt"
    path.write_text(CONLL_LAYOUTS["conll2003_iob1.txt"])
    docs = read_annotated(str(path))
    schema = load_schema("conll2003")  # aliases PER, LOC, ORG, MISC
    assert demo_labels(docs, "ner", schema).mapping == {
        "LOC": "location", "MISC": "misc", "ORG": "organization", "PER": "person"
    }
    long_names = load_schema("crossner_politics")
    found = demo_labels(docs, "ner", long_names)
    assert found.mapping["PER"] == "person" and found.mapping["ORG"] == "organisation"
    assert found.mapping["LOC"] == "location" and found.mapping["MISC"] == "misc"
    from ieclid.schema import schema_from_labels

    labels = schema_from_labels("people,place,company,other", "entities")
    assert demo_labels(docs, "ner", labels).mapping == {}
    mapped = demo_labels(docs, "ner", labels, parse_label_map("PER=people,LOC=place,ORG=company"))
    assert mapped.mapping == {"PER": "people", "LOC": "place", "ORG": "company"} and mapped.unknown == ("MISC",)
    demos = select_demos(docs, "ner", labels, 4, labels=mapped)
    assert {label for d in demos for _, label in d.mentions} <= {"people", "place", "company"} and demos
    with pytest.raises(UsageError, match="is not TAG=label"):
        parse_label_map("PER")
    with pytest.raises(UsageError, match="not a label of this run"):
        demo_labels(docs, "ner", labels, {"PER": "human"})

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

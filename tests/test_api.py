"""The Python API (`ieclid.extract`, `ieclid.Extractor`) on the default model."""

import subprocess
import sys
from pathlib import Path

import pytest

import ieclid

NEWS = "Angela Merkel and Emmanuel Macron met in Berlin on Tuesday."


def mentions(record: dict) -> set[tuple[str, str]]:
    return {(e["text"], e["label"]) for e in record["entities"]}


def test_extract_takes_texts_and_labels_as_a_list():
    (record,) = ieclid.extract([NEWS], labels=["person", "location"], threads=2)
    assert record["id"] == "1" and record["text"] == NEWS
    assert {("Angela Merkel", "person"), ("Berlin", "location")} <= mentions(record)
    for entity in record["entities"]:
        assert NEWS[entity["start"] : entity["end"]] == entity["text"]


def test_an_extractor_loads_once_and_takes_texts_paths_and_ids(tmp_path: Path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("Tim Cook visited Paris.\n")
    (folder / "b.txt").write_text("Maria Keller works for Microsoft in Zurich.\n")
    with ieclid.Extractor(task="ner", schema="conll2003", threads=2) as extractor:
        first = extractor.extract("Tim Cook visited Paris.")
        by_path = extractor.extract([folder, "", Path(folder / "a.txt")])
        by_id = extractor.extract({"memo-7": "Microsoft hired Maria Keller."})
    assert [r["id"] for r in by_path] == [str(folder / "a.txt"), str(folder / "b.txt"), "2",
                                          str(folder / "a.txt")]
    assert "empty" in by_path[2]["error"]
    assert mentions(by_path[0]) == mentions(first[0]) == mentions(by_path[3])
    assert ("Zurich", "location") in mentions(by_path[1])
    assert by_id[0]["id"] == "memo-7" and ("Microsoft", "organization") in mentions(by_id[0])
    with pytest.raises(ieclid.IeclidError, match="closed"):
        extractor.extract("Too late.")


def test_records_come_one_by_one_in_input_order():
    texts = [f"Sentence {n} mentions Berlin." for n in range(6)]
    with ieclid.Extractor(labels="location", threads=2) as extractor:
        ids = [record["id"] for record in extractor.iter_extract(texts)]
    assert ids == [str(n) for n in range(1, 7)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temprature": 0.5}, "unknown option 'temprature'"),
        ({"min_score": 3.0}, "--min-score must be between"),
        ({"schema": "no-such-schema"}, "no-such-schema"),
    ],
)
def test_bad_options_are_errors_before_the_model_loads(options, message):
    with pytest.raises(ieclid.IeclidError, match=message):
        ieclid.extract("Paris.", **options)


def test_a_missing_path_or_a_wrong_type_is_an_error():
    with pytest.raises(ieclid.IeclidError, match="input not found"):
        ieclid.extract([Path("/no/such/file.txt")])
    with pytest.raises(ieclid.IeclidError, match="not int"):
        ieclid.extract([42])


def test_importing_ieclid_loads_no_model_code():
    code = "import sys, ieclid; print('llama_cpp' in sys.modules, 'ieclid.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]

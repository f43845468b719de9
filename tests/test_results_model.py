"""What a new user sees on ordinary text with the default model: the content of each task's
answer, not only its shape. Each case is one a user met and reported wrong."""

from pathlib import Path

import pytest
from test_cli import ROOT, assert_one_line_error, ieclid, records

from ieclid.grammar import FUNCTION_WORDS

CHAT_DEBRIS = ("system", "user", "assistant", "<|", "|>")


def one(result) -> dict:
    assert result.returncode == 0, result.stderr
    (record,) = records(result.stdout)
    assert "error" not in record, record
    return record


def mentions(record: dict) -> set[tuple[str, str]]:
    return {(e["text"], e["label"]) for e in record["entities"]}


def test_table_of_drugs_and_doses_is_filled_from_the_text():
    text = "Patients received 50 mg of atenolol daily and 10 mg of amlodipine twice a day.\n"
    record = one(ieclid("extract", "-q", "--task", "table", "-i", "every drug with its dose", "-", stdin=text))
    table = record["table"]
    assert not any(word in " ".join(table["columns"]).lower() for word in CHAT_DEBRIS), table
    rows = [" | ".join(row) for row in table["rows"]]
    assert any("atenolol" in row and "50 mg" in row for row in rows), rows
    assert any("amlodipine" in row and "10 mg" in row for row in rows), rows
    for row, offsets in zip(table["rows"], table["offsets"], strict=True):
        for cell, where in zip(row, offsets, strict=True):
            assert where is None or record["text"][where[0] : where[1]] == cell


def test_table_with_given_columns_has_rows():
    text = (ROOT / "examples" / "news.txt").read_text()
    record = one(ieclid("extract", "-q", "--task", "table", "-i", "every person with their organisation",
                        "--columns", "Person,Organisation", "-", stdin=text))
    assert record["table"]["columns"] == ["Person", "Organisation"]
    people = {row[0] for row in record["table"]["rows"]}
    assert people & {"Angela Merkel", "Emmanuel Macron", "Maria Keller"}, record["table"]


def test_ere_on_unmarked_text_detects_events_by_their_words():
    text = "The storm hit the coast on Monday, and the evacuation began two days later.\n"
    record = one(ieclid("extract", "-q", "--task", "ere", "-", stdin=text))
    assert record["events"], record
    assert not any(e["text"].lower() in FUNCTION_WORDS for e in record["entities"]), record["entities"]


def test_min_score_leaves_out_what_the_model_listed_unsurely():
    path = str(ROOT / "examples" / "news.txt")
    everything = one(ieclid("extract", "-q", "--min-score", "0", path))["entities"]
    sure = one(ieclid("extract", "-q", "--min-score", "0.9", path))["entities"]
    assert all(e["score"] >= 0.9 for e in sure if not e.get("propagated")), sure
    assert {e["text"] for e in sure} < {e["text"] for e in everything}
    assert any(e["score"] < 0.9 for e in everything)


def test_every_sentence_of_a_document_is_read():
    record = one(ieclid("extract", "-q", str(ROOT / "examples" / "news.txt")))
    found = {text for text, _ in mentions(record)}
    assert {"Angela Merkel", "Berlin"} <= found  # first sentence
    assert {"Microsoft", "Zurich", "Maria Keller"} <= found, found  # second sentence


def test_later_mentions_of_a_name_are_labelled_too(tmp_path: Path):
    text = "Kylian Mbappe joined Real Madrid in 2024. Fans cheered when Mbappe scored.\n"
    on = one(ieclid("extract", "-q", "-", stdin=text))
    later = text.rindex("Mbappe")
    assert any(e["start"] == later and e["label"] == "person" for e in on["entities"]), on["entities"]
    off = one(ieclid("extract", "-q", "--no-propagate", "-", stdin=text))
    assert not any(e.get("propagated") for e in off["entities"])
    assert all(e.get("propagated") or e in off["entities"] for e in on["entities"])


CONLL_2003 = (
    "-DOCSTART- -X- -X- O\n\n"
    "Angela NNP B-NP B-PER\nMerkel NNP I-NP I-PER\nvisited VBD B-VP O\nSiemens NNP B-NP B-ORG\n"
    "in IN B-PP O\nMunich NNP B-NP B-LOC\n. . O O\n\n"
    "Boris NNP B-NP B-PER\nJohnson NNP I-NP I-PER\nleft VBD B-VP O\nLondon NNP B-NP B-LOC\n"
    "for IN B-PP O\nthe DT B-NP O\nWorld NNP I-NP B-MISC\nCup NNP I-NP I-MISC\n. . O O\n"
)


def test_conll2003_demonstrations_are_used(tmp_path: Path):
    demos = tmp_path / "train.txt"
    demos.write_text(CONLL_2003)
    text = "Olaf Scholz met executives of Volkswagen in Hamburg.\n"
    result = ieclid("extract", "-q", "--demos", str(demos), "--shots", "2", "-", stdin=text)
    record = one(result)
    assert record["usage"]["prompt_tokens"] > 150  # the demonstrations are in the prompt
    assert ("Olaf Scholz", "person") in mentions(record)


def test_demonstration_tags_that_fit_no_label_are_an_error_or_mapped(tmp_path: Path):
    demos = tmp_path / "train.txt"
    demos.write_text(CONLL_2003)
    text = "Olaf Scholz met executives of Volkswagen in Hamburg.\n"
    labels = ["--labels", "human,place,company", "--demos", str(demos), "--shots", "2"]
    assert_one_line_error(ieclid("extract", *labels, "-", stdin=text), 2, "--label-map")
    mapped = ieclid("extract", "-q", *labels, "--label-map", "PER=human,LOC=place,ORG=company", "-", stdin=text)
    assert "MISC" in mapped.stderr and "left out" in mapped.stderr  # named, not silent
    assert ("Olaf Scholz", "human") in mentions(one(mapped))


@pytest.mark.parametrize("shots", ["5"])
def test_fewer_demonstrations_than_shots_is_said(tmp_path: Path, shots: str):
    demos = tmp_path / "train.txt"
    demos.write_text(CONLL_2003)
    result = ieclid("extract", "-q", "--demos", str(demos), "--shots", shots, "-", stdin="Ann met Bob.\n")
    assert result.returncode == 0 and "fewer than --shots 5" in result.stderr


def test_relation_extraction_defaults_to_relations_of_ordinary_text():
    text = "Tim Cook, the chief executive of Apple, visited Berlin on Monday.\n"
    record = one(ieclid("extract", "-q", "--task", "re", "-", stdin=text))
    assert record["schema"] == "general"
    labels = {r["label"] for r in record["relations"]}
    assert labels and labels <= {"works for", "leads", "located in", "member of", "founded", "lives in",
                                 "headquartered in", "born in", "citizen of", "part of", "owns",
                                 "spouse of", "met with"}, record

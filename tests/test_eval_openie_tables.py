"""CaRB reproduces the published curves; table scoring matches rouge_score; hand-made cases score as they should."""

from itertools import pairwise
from pathlib import Path

import orjson
import pytest
from test_cli import assert_one_line_error, ieclid

from ieclid.evaluation import carb
from ieclid.evaluation.run import read_gold, score
from ieclid.records import RecordBuilder

SYSTEMS = [("OpenIE-4", "openie4_output.txt"), ("OpenIE-5", "openie5_output.txt")]


def published_curve(path: Path) -> dict[float, tuple[float, float]]:
    """CaRB's dump/*.dat: `precision, recall, confidence` per threshold."""
    rows = [line.split("\t") for line in path.read_text().splitlines()[1:]]
    return {float(c): (float(p), float(r)) for p, r, c in rows}


def trapezoid_auc(curve: dict[float, tuple[float, float]]) -> float:
    points = [curve[c] for c in sorted(curve)] + [(1.0, 0.0)]
    return abs(sum((b[1] - a[1]) * (a[0] + b[0]) / 2 for a, b in pairwise(points)))


@pytest.mark.parametrize(("system", "output"), SYSTEMS)
def test_reproduces_published_curves(shared_data, system, output):
    root = shared_data / "carb"
    result = carb.score(carb.read_gold(root / "data/gold/test.tsv"), carb.read_system(root / "system_outputs/test" / output))
    published = published_curve(root / "dump" / f"{system}.dat")
    assert len(result.curve) == len(published)
    for confidence, precision, recall in result.curve:
        assert published[confidence] == pytest.approx((precision, recall), abs=1e-12)
    best = max(2 * p * r / (p + r) for p, r in published.values() if p + r)
    assert result.f1 == pytest.approx(best, abs=0.001)
    assert result.auc == pytest.approx(trapezoid_auc(published), abs=0.001)


def ex(pred: str, *args: str, confidence: float = 1.0) -> carb.Extraction:
    return carb.Extraction(pred, list(args), confidence)


def test_matcher_hand_cases():
    gold = ex("acted as", "the premiums", "a price depressant")
    assert carb.match(gold, ex("acted as", "the premiums", "a price depressant")) == (1.0, 1.0)
    # extra words cost precision; arguments beyond the second are joined to it
    assert carb.match(gold, ex("acted as", "the premiums paid", "a price", "depressant")) == (7 / 8, 1.0)
    assert carb.match(gold, ex("rose", "the premiums", "a price depressant")) == (0.0, 0.0)  # no predicate word
    assert carb.match(gold, ex("acted as", "the premiums")) == (0.0, 0.0)  # second argument missing
    assert carb.match(ex("was", "it", "late"), ex("be", "it", "late")) == (1.0, 1.0)  # "be" matches its forms
    said = ex("said", "analysts", "prices fell")
    assert carb.match(said, ex("said", "prices fell", "analysts")) == (1.0, 1.0)  # said-type: either order
    assert carb.match(ex("met", "Merkel", "Macron"), ex("met", "Macron", "Merkel"))[1] < 1.0


def test_curve_and_best_point_by_hand():
    gold = {"A cat sat .": [ex("sat", "A cat", "")], "Dogs bark loudly .": [ex("bark", "Dogs", "loudly")]}
    predicted = {
        "A cat sat .": [ex("sat", "A cat", "", confidence=0.9)],
        "Dogs bark loudly .": [ex("bark", "Cats", "quietly", confidence=0.5)],
    }
    result = carb.score(gold, predicted)
    # threshold 0.5: both extractions; precision (1 + 1/3) / 2, recall (1 + 1/3) / 2
    assert result.curve[0] == (0.5, pytest.approx(2 / 3), pytest.approx(2 / 3))
    # threshold 0.9: only the first; recall counts the second sentence's gold tuple too
    assert result.curve[1] == (0.9, 1.0, 0.5)
    assert result.f1 == 0.667
    # area under (0.5, 1) -> (2/3, 2/3), the point (0, 1) added
    assert result.auc == round((2 / 3 - 0.5) * (1 + 2 / 3) / 2 + 0.5 * 1.0, 3)
    assert carb.score(gold, {}).as_dict() == {"auc": 0.0, "precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_tabbed_reader_and_records(tmp_path):
    tabbed = tmp_path / "system.tsv"
    tabbed.write_text("Dogs bark loudly .\t0.8\tbark\tDogs\tloudly\n")
    assert carb.read_system(tabbed) == {"Dogs bark loudly .": [ex("bark", "Dogs", "loudly", confidence=0.8)]}
    builder = RecordBuilder("d", "openie", "openie", "m", "p", "Dogs bark loudly .")
    slots = {
        "predicate": builder.add_entity("predicate", "bark", 5, 9, "exact", None),
        "subject": builder.add_entity("subject", "Dogs", 0, 4, "exact", None),
        "object": None, "time": None,
        "location": builder.add_entity("location", "loudly", 10, 16, "exact", None),
    }
    builder.add_tuple(slots, 0.25)
    assert carb.from_records([builder.build(0)]) == {
        "Dogs bark loudly .": [ex("bark", "Dogs", "loudly", confidence=0.25)]
    }


def test_eval_openie_scores_records_against_carb_gold(shared_data):
    gold = read_gold(str(shared_data / "carb/data/gold/test.tsv"), "openie")[:3]
    records = []
    for doc in gold:
        builder = RecordBuilder(doc.id, "openie", "openie", "gold", "gold", doc.text)
        for predicate, subject, *rest in doc.tuples:
            slots = dict.fromkeys(("predicate", "subject", "object", "time", "location"))
            slots["predicate"] = builder.add_entity("predicate", predicate, None, None, "unplaced", None)
            slots["subject"] = builder.add_entity("subject", subject, None, None, "unplaced", None)
            if rest:
                slots["object"] = builder.add_entity("object", " ".join(rest), None, None, "unplaced", None)
            builder.add_tuple(slots, 1.0)
        records.append(builder.build(0))
    report = score("openie", gold, records)
    assert report["f1"] == 1.0 and report["auc"] == 1.0 and report["n"] == 3
    assert score("openie", gold, [None, None, None])["recall"] == 0.0


def test_format_carb_cli(shared_data, tmp_path):
    root = shared_data / "carb"
    result = ieclid("eval", "--format", "carb", "--json", "--gold", str(root / "data/gold/test.tsv"),
                    "--pred", str(root / "system_outputs/test/openie4_output.txt"))
    assert result.returncode == 0, result.stderr
    report = orjson.loads(result.stdout)
    assert (report["auc"], report["f1"]) == (0.272, 0.488)
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("no tabs here\n")
    assert_one_line_error(
        ieclid("eval", "--format", "carb", "--gold", str(root / "data/gold/test.tsv"), "--pred", str(garbage)),
        2, "expected 'sentence<TAB>confidence",
    )
    assert_one_line_error(
        ieclid("eval", "--format", "carb", "--gold", str(root / "data/gold/test.tsv")), 2, "needs --pred"
    )


def test_rouge_lsum_equals_rouge_score():
    """The paper computes ROUGE-Lsum with Google's rouge_score; ours must give the same numbers."""
    import random

    from rouge_score import rouge_scorer

    from ieclid.evaluation.tables import rouge_lsum

    reference = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=False)
    words = ["drug", "dose", "rash", "aspirin", "5", "mg", "daily", "the", "of", "a", "patient", "N/A", "fever", "-"]
    rng = random.Random(7)

    def table() -> str:
        rows = rng.randint(1, 5)
        return "\n".join(
            "| " + " | ".join(" ".join(rng.choices(words, k=rng.randint(1, 3))) for _ in range(3)) + " |"
            for _ in range(rows)
        )

    for _ in range(300):
        pred, gold = table(), table()
        assert rouge_lsum(pred, gold) == pytest.approx(reference.score(gold, pred)["rougeLsum"].fmeasure, abs=1e-12)
    assert rouge_lsum("", "| a |") == 0.0


def test_table_scores_by_hand(tmp_path):
    gold_path = tmp_path / "gold.jsonl"
    gold_path.write_text(
        '{"id": "a", "text": "Aspirin 100 mg caused a rash.", "table": {"columns": ["Drug", "Dose", "Effect"],'
        ' "rows": [["Aspirin", "100 mg", "rash"]]}}\n'
        '{"id": "b", "text": "Paris is in France.", "table": "| City | Country |\\n| --- | --- |\\n| Paris | France |"}\n'
    )
    gold = read_gold(str(gold_path), "table")
    assert gold[1].table == {"columns": ["City", "Country"], "rows": [["Paris", "France"]]}
    same = [{"id": d.id, "text": d.text, "table": d.table} for d in gold]
    perfect = score("table", gold, same)
    assert (perfect["f1"], perfect["rouge_lsum"]) == (1.0, 100.0)
    # one right column name of three, one wrong; the second document without a table
    guess = [{"id": "a", "text": gold[0].text, "table": {"columns": ["drug", "Amount"], "rows": [["Aspirin", "n/a"]]}},
             None]
    report = score("table", gold, guess)
    assert (report["tp"], report["n_pred"], report["n_gold"], report["missing"]) == (1, 2, 5, 1)
    assert 0 < report["rouge_lsum"] < 50
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"id": "c", "text": "No table here."}\n')
    assert_one_line_error(ieclid("eval", "--task", "table", "--gold", str(plain)), 2, "with gold tables")

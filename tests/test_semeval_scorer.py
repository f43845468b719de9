"""The SemEval-2010 Task 8 scorer reproduces the official scorer's outputs in scorer_fixtures."""

import re

import pytest

from ieclid.evaluation.semeval import read_answers, score

SECTIONS = {
    "(2*9+1)-WAY EVALUATION": "directed",
    "(9+1)-WAY EVALUATION IGNORING": "undirected",
    "(9+1)-WAY EVALUATION TAKING": "official",
}
LABEL_LINE = re.compile(
    r"^\s*(\S+) :\s+P =.*?=\s+([\d.]+)%\s+R =\s+(\d+)/\s*(\d+) =\s+([\d.]+)%\s+F1 =\s+([\d.]+)%"
)
MICRO = re.compile(r"^P =\s+(\d+)/\s*(\d+) =\s+([\d.]+)%\s+R =\s+(\d+)/\s*(\d+) =\s+([\d.]+)%\s+F1 =\s+([\d.]+)%")
MACRO = re.compile(r"^P =\s+([\d.]+)%\tR =\s+([\d.]+)%\tF1 =\s+([\d.]+)%")
ACCURACY = re.compile(r"^Accuracy \((.*?)\) = (\d+)/(\d+) =\s+([\d.]+)%")


def parse_expected(text: str) -> dict[str, dict]:
    expected: dict[str, dict] = {}
    section = None
    mode = None
    for line in text.splitlines():
        for marker, name in SECTIONS.items():
            if marker in line:
                section = expected.setdefault(name, {"labels": {}, "accuracy": []})
        if section is None:
            continue
        if line.startswith("Micro-averaged"):
            mode = "micro"
            continue
        if line.startswith("MACRO-averaged"):
            mode = "macro"
            continue
        if (m := LABEL_LINE.match(line)) and mode is None:
            section["labels"][m.group(1)] = tuple(float(m.group(i)) for i in (2, 5, 6))
        elif mode == "micro" and (m := MICRO.match(line)):
            section["micro"] = (*tuple(int(m.group(i)) for i in (1, 2, 4, 5)), float(m.group(7)))
            mode = None
        elif mode == "macro" and (m := MACRO.match(line)):
            section["macro"] = tuple(float(m.group(i)) for i in (1, 2, 3))
            mode = None
        elif m := ACCURACY.match(line):
            section["accuracy"].append((int(m.group(2)), int(m.group(3)), float(m.group(4))))
    return expected


def pct(x: float) -> float:
    return float(f"{x:.2f}")


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_reproduces_the_official_scorer(shared_data, n):
    fixtures = shared_data / "semeval2010_task8" / "scorer_fixtures"
    key = read_answers(str(fixtures / f"answer_key{n}.txt"))
    proposed = read_answers(str(fixtures / f"proposed_answer{n}.txt"))
    expected = parse_expected((fixtures / f"result_scores{n}.txt").read_text())
    got = score(key, proposed)
    assert set(expected) == {"directed", "undirected", "official"}
    for mode, want in expected.items():
        evaluation = got[mode]
        labels = {("_Other" if k == "Other" else k): v for k, v in evaluation.per_label.items()}
        assert set(labels) == set(want["labels"]), mode
        for name, (p, r, f1) in want["labels"].items():
            s = labels[name]
            assert (pct(s.precision), pct(s.recall), pct(s.f1)) == (p, r, f1), (mode, name)
        m = evaluation.micro
        assert (m.tp, m.pred, m.tp, m.gold, pct(m.f1)) == want["micro"], mode
        assert (pct(evaluation.macro_precision), pct(evaluation.macro_recall), pct(evaluation.macro_f1)) == want["macro"]
        figures = evaluation.as_dict()
        accuracies = [figures["accuracy"], figures["accuracy_skipped_wrong"], figures["accuracy_skipped_other"]]
        assert [pct(a) for a in accuracies] == [a[2] for a in want["accuracy"]], mode

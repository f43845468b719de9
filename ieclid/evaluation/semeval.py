"""The official SemEval-2010 Task 8 scorer (v1.2), reimplemented.

Three evaluations, as the Perl scorer prints them:
  (i)   `directed`: (2*9+1)-way, each direction its own label;
  (ii)  `undirected`: (9+1)-way, direction ignored;
  (iii) `official`: (9+1)-way, a right relation with the wrong direction counts against
        precision (xDIRx). Its macro-F1 over the 9 relations is the task's score.
Labels are averaged over those present in the answer key, Other excluded; skipped
examples and predicted labels absent from the key count as Other, as in the original.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ieclid.errors import UsageError

OTHER = "Other"
_DIRECTED = re.compile(r"^([A-Za-z]+-[A-Za-z]+)\((e[12]),(e[12])\)$")


def undirected(label: str) -> str:
    match = _DIRECTED.match(label)
    return match.group(1) if match else label


@dataclass
class LabelScore:
    tp: int
    pred: int  # precision denominator (with xDIRx in the official evaluation)
    gold: int

    @property
    def precision(self) -> float:
        return 100.0 * self.tp / self.pred if self.pred else 0.0

    @property
    def recall(self) -> float:
        return 100.0 * self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    """One of the three evaluations; figures are percentages, as the scorer prints them."""

    per_label: dict[str, LabelScore] = field(default_factory=dict)
    micro: LabelScore = field(default_factory=lambda: LabelScore(0, 0, 0))
    macro_precision: float = 0.0
    macro_recall: float = 0.0
    macro_f1: float = 0.0
    correct: int = 0
    classified: int = 0
    total: int = 0
    skipped_other: int = 0

    @property
    def coverage(self) -> float:
        return 100.0 * self.classified / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        def figures(s: LabelScore) -> dict:
            return {"precision": s.precision, "recall": s.recall, "f1": s.f1,
                    "tp": s.tp, "n_pred": s.pred, "n_gold": s.gold}

        return {
            "micro": figures(self.micro),
            "macro": {"precision": self.macro_precision, "recall": self.macro_recall, "f1": self.macro_f1},
            "per_label": {k: figures(v) for k, v in self.per_label.items()},
            "coverage": self.coverage,
            "accuracy": 100.0 * self.correct / self.classified if self.classified else 0.0,
            "accuracy_skipped_wrong": 100.0 * self.correct / self.total if self.total else 0.0,
            "accuracy_skipped_other": (
                100.0 * (self.correct + self.skipped_other) / self.total if self.total else 0.0
            ),
        }


def _evaluate(key: dict[str, str], proposed: dict[str, str], mode: str) -> Evaluation:
    project = (lambda x: x) if mode == "directed" else undirected
    labels = sorted({project(label) for label in key.values()})
    result = Evaluation(total=len(key))
    diag: Counter[str] = Counter()
    column: Counter[str] = Counter()
    wrong_direction: Counter[str] = Counter()
    actual = Counter(project(label) for label in key.values())
    for example, gold_label in key.items():
        if example not in proposed:
            result.skipped_other += gold_label == OTHER
            continue
        result.classified += 1
        gold, pred = project(gold_label), project(proposed[example])
        if mode == "official" and gold == pred and gold_label != proposed[example]:
            wrong_direction[gold] += 1  # right relation, wrong direction: not in the matrix
            continue
        column[pred] += 1
        if gold == pred:
            diag[gold] += 1
    result.correct = sum(diag.values())
    for label in labels:
        predicted = column[label] + wrong_direction[label]
        result.per_label[label] = LabelScore(diag[label], predicted, actual[label])
    relations = [label for label in labels if label != OTHER]
    scores = [result.per_label[label] for label in relations]
    result.micro = LabelScore(
        sum(s.tp for s in scores), sum(s.pred for s in scores), sum(s.gold for s in scores)
    )
    if scores:
        result.macro_precision = sum(s.precision for s in scores) / len(scores)
        result.macro_recall = sum(s.recall for s in scores) / len(scores)
        result.macro_f1 = sum(s.f1 for s in scores) / len(scores)
    return result


def score(key: dict[str, str], proposed: dict[str, str]) -> dict[str, Evaluation]:
    """All three evaluations of `proposed` (id -> label) against `key` (id -> label)."""
    return {mode: _evaluate(key, proposed, mode) for mode in ("directed", "undirected", "official")}


def read_answers(path: str) -> dict[str, str]:
    """`<id><TAB><label>` lines; like the Perl scorer, a repeated id keeps its last label."""
    answers: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip():
            raise UsageError(f"{path}:{number}: expected '<id><TAB><relation>', got {line!r}")
        answers[parts[0].strip()] = parts[1].strip()
    return answers


def directed_label(name: str | None, reverse: bool) -> str:
    """`("Component-Whole", True)` -> `Component-Whole(e2,e1)`; no relation -> Other."""
    if name is None:
        return OTHER
    return name + ("(e2,e1)" if reverse else "(e1,e2)")


def label_of(relation: dict | None, e1: str = "T1") -> str:
    """The SemEval label of an ieclid rc record's relation (None: no relation -> Other)."""
    if not relation:
        return OTHER
    return directed_label(relation["label"], relation["head"] != e1)

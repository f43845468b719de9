"""Exact-match micro precision/recall/F1 over (start, end, label) spans, overall and per label.

This is the closed-IE entity metric of the papers: a predicted entity counts only when
both its character span and its type equal a gold entity's. Duplicates count once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

Span = tuple[int, int, str]


@dataclass
class PRF:
    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "n_pred": self.n_pred,
            "n_gold": self.n_gold,
        }


@dataclass
class SpanScores:
    overall: PRF = field(default_factory=PRF)
    per_label: dict[str, PRF] = field(default_factory=dict)

    def add(self, gold: Iterable[Span], pred: Iterable[Span]) -> None:
        """Add one document's gold and predicted spans."""
        gold_set, pred_set = set(gold), set(pred)
        hits = gold_set & pred_set
        self.overall.tp += len(hits)
        self.overall.n_pred += len(pred_set)
        self.overall.n_gold += len(gold_set)
        for label, count in Counter(s[2] for s in gold_set).items():
            self.per_label.setdefault(label, PRF()).n_gold += count
        for label, count in Counter(s[2] for s in pred_set).items():
            self.per_label.setdefault(label, PRF()).n_pred += count
        for label, count in Counter(s[2] for s in hits).items():
            self.per_label[label].tp += count

    def as_dict(self) -> dict:
        return {
            **self.overall.as_dict(),
            "per_label": {k: v.as_dict() for k, v in sorted(self.per_label.items())},
        }

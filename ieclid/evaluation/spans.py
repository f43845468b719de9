"""Exact-match micro precision/recall/F1 over (start, end, label) spans, overall and per label.

This is the closed-IE entity metric of the papers: a predicted entity counts only when
both its character span and its type equal a gold entity's. Duplicates count once. The
confusion table shows where the errors went, label by label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

Span = tuple[Hashable, Hashable, str]  # (start, end, label); relation triples: (head text, tail text, label)
MISSED = "(missed)"  # confusion: a gold span no prediction has
SPURIOUS = "(spurious)"  # confusion: the row of predicted spans that no gold span has


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
    # gold label -> predicted label -> count, for the errors: a span found with another label,
    # a gold span not found at all (MISSED) and a predicted span that is no gold span (SPURIOUS).
    confusion: dict[str, Counter] = field(default_factory=dict)

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
        predicted = {(s, e): label for s, e, label in pred_set - hits}
        gold_bounds = {(s, e) for s, e, _ in gold_set}
        for start, end, label in gold_set - hits:
            found = predicted.get((start, end), MISSED)
            self.confusion.setdefault(label, Counter())[found] += 1
        for (start, end), label in predicted.items():
            if (start, end) not in gold_bounds:
                self.confusion.setdefault(SPURIOUS, Counter())[label] += 1

    def as_dict(self) -> dict:
        return {
            **self.overall.as_dict(),
            "per_label": {k: v.as_dict() for k, v in sorted(self.per_label.items())},
            "confusion": {gold: dict(found.most_common()) for gold, found in sorted(self.confusion.items())},
        }

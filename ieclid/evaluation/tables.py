"""On-demand table scoring as in the On-Demand IE paper (Jiao et al., 2023), used by ADELIE.

Content: ROUGE-Lsum (rouge_score's summary-level LCS, each table line a "sentence", no
stemming) between the markdown tables, empty cells written `N/A` on both sides, x100,
averaged over documents. Header: micro precision/recall/F1 of column names. The paper
matches headers softly by MiniLM embedding cosine; ieclid matches them exactly after
lower-casing and trimming, which needs no model download and never credits a wrong column.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ieclid.evaluation.spans import PRF
from ieclid.tasks.tables import EMPTY_CELLS, header_lines

_TOKEN = re.compile(r"[a-z0-9]+")


def to_markdown(columns: list[str], rows: list[list[str]]) -> str:
    """The table as the model writes it, empty cells as `N/A` (the paper's normalisation)."""
    lines = [header_lines(tuple(columns)).rstrip("\n")]
    for row in rows:
        cells = ["N/A" if c.strip().lower() in EMPTY_CELLS else c for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _tokens(line: str) -> list[str]:
    """rouge_score's default tokenizer: lower case, runs of [a-z0-9]."""
    return _TOKEN.findall(line.lower())


def _lcs_indices(ref: list[str], cand: list[str]) -> list[int]:
    """Indices into `ref` of one longest common subsequence, backtracked as rouge_score does."""
    table = [[0] * (len(cand) + 1) for _ in range(len(ref) + 1)]
    for i in range(1, len(ref) + 1):
        for j in range(1, len(cand) + 1):
            if ref[i - 1] == cand[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    i, j, found = len(ref), len(cand), []
    while i > 0 and j > 0:
        if ref[i - 1] == cand[j - 1]:
            found.append(i - 1)
            i, j = i - 1, j - 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return found[::-1]


def rouge_lsum(prediction: str, reference: str) -> float:
    """Summary-level ROUGE-L F-measure: union LCS of each reference line against all predicted lines."""
    ref_lines = [t for t in (_tokens(line) for line in reference.split("\n")) if t]
    pred_lines = [t for t in (_tokens(line) for line in prediction.split("\n")) if t]
    m, n = sum(map(len, ref_lines)), sum(map(len, pred_lines))
    if not m or not n:
        return 0.0
    ref_counts = Counter(t for line in ref_lines for t in line)
    pred_counts = Counter(t for line in pred_lines for t in line)
    hits = 0
    for ref in ref_lines:
        union = sorted(set().union(*(_lcs_indices(ref, pred) for pred in pred_lines)))
        for token in (ref[i] for i in union):
            if ref_counts[token] > 0 and pred_counts[token] > 0:
                hits += 1
                ref_counts[token] -= 1
                pred_counts[token] -= 1
    recall, precision = hits / m, hits / n
    return 2 * precision * recall / (precision + recall) if hits else 0.0


@dataclass
class TableScores:
    headers: PRF = field(default_factory=PRF)
    rouge: list[float] = field(default_factory=list)

    def add(self, gold: dict | None, pred: dict | None) -> None:
        """One document's gold and predicted tables ({columns, rows}; None: no table)."""
        gold, pred = gold or {"columns": [], "rows": []}, pred or {"columns": [], "rows": []}
        gold_names = [c.strip().lower() for c in gold["columns"]]
        pred_names = [c.strip().lower() for c in pred["columns"]]
        self.headers.n_gold += len(gold_names)
        self.headers.n_pred += len(pred_names)
        self.headers.tp += sum((Counter(gold_names) & Counter(pred_names)).values())
        if gold["columns"] or pred["columns"]:
            predicted = to_markdown(pred["columns"], pred["rows"])
            self.rouge.append(100 * rouge_lsum(predicted, to_markdown(gold["columns"], gold["rows"])))

    def as_dict(self) -> dict:
        return {
            "rouge_lsum": round(sum(self.rouge) / len(self.rouge), 2) if self.rouge else 0.0,
            "headers": self.headers.as_dict(),
        }

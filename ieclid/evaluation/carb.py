"""The CaRB open IE scorer (Bhardwaj et al., 2019), reimplemented to give the same numbers.

Follows dair-iitd/CaRB `carb.py` + `matcher.py` (binary lenient tuple match, optimised
global matching for precision, row-max for recall, one precision/recall point per distinct
confidence, AUC with the point (recall 0, precision 1) added) and openie6's gold reader,
which drops context arguments (`C: ...`). With that reader the scores reproduce the
published curves in CaRB's `dump/*.dat` exactly; CaRB's own current gold reader keeps the
context arguments and gives slightly lower figures (OpenIE-4 AUC 0.268 instead of 0.272).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from ieclid.errors import UsageError

_PTB_ESCAPES = (
    ("(", "-LRB-"), (")", "-RRB-"), ("[", "-LSB-"), ("]", "-RSB-"), ("{", "-LCB-"), ("}", "-RCB-")
)
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")
_BE = ("be", "is", "am", "are", "was", "were", "been", "being")
_SAID = ("said", "told", "added", "adds", "says")
_SYSTEM_ARG = re.compile(r"\); [A-Za-z]*Argument\(")


@dataclass
class Extraction:
    pred: str
    args: list[str]
    confidence: float = 1.0


@dataclass
class CarbResult:
    auc: float
    precision: float
    recall: float
    f1: float
    curve: list[tuple[float, float, float]] = field(default_factory=list)  # (confidence, P, R)

    def as_dict(self) -> dict:
        return {"auc": self.auc, "precision": self.precision, "recall": self.recall, "f1": self.f1}


def sentence_key(text: str) -> str:
    """CaRB's sentence key: no spaces, PTB brackets unescaped, no punctuation."""
    key = text.replace(" ", "")
    for char, escape in _PTB_ESCAPES:
        key = key.replace(escape, char)
    return _PUNCT.sub("", key)


def read_gold(path: Path) -> dict[str, list[Extraction]]:
    """CaRB gold TSV (`sentence, predicate, arg1, arg2...`), keyed by the stripped sentence."""
    gold: dict[str, list[Extraction]] = {}
    for line in _lines(path):
        data = line.strip().split("\t")
        if len(data) >= 2:
            args = [a.strip() for a in data[2:] if "C: " not in a]
            gold.setdefault(data[0].strip(), []).append(Extraction(data[1].strip(), args))
    if not gold:
        raise UsageError(f"{path}: expected CaRB gold tuples ('sentence<TAB>predicate<TAB>args...')")
    return gold


def read_system(path: Path) -> dict[str, list[Extraction]]:
    """Another system's output: OpenIE-4 or OpenIE-5 (`conf, context, arg1, rel, args, sentence`,
    told apart by OpenIE-5's several arguments in one field), or CaRB's tabbed format
    (`sentence, confidence, predicate, arg1, arg2...`)."""
    lines = [line.strip().split("\t") for line in _lines(path) if line.strip()]
    if not lines:
        raise UsageError(f"{path}: no extractions")
    if all(len(d) >= 3 and d[2].startswith("SimpleArgument(") for d in lines[:20]):
        several = any(len(d) > 4 and _SYSTEM_ARG.search(d[4]) for d in lines)
        return _read_openie(lines, path, five=several)
    result: dict[str, list[Extraction]] = {}
    for number, data in enumerate(lines, start=1):
        if len(data) < 4:
            raise UsageError(f"{path}:{number}: expected 'sentence<TAB>confidence<TAB>predicate<TAB>args...'")
        try:
            confidence = float(data[1])
        except ValueError:
            raise UsageError(f"{path}:{number}: confidence {data[1]!r} is not a number") from None
        result.setdefault(data[0], []).append(Extraction(data[2], data[3:], confidence))
    return result


def _read_openie(lines: list[list[str]], path: Path, five: bool) -> dict[str, list[Extraction]]:
    """CaRB's OpenIE-4/5 readers: `Kind(text,List([start, end)))` wrappers; OpenIE-5 puts the
    context in front of arg1 unless it already starts arg1 + relation."""
    result: dict[str, list[Extraction]] = {}
    for number, data in enumerate(lines, start=1):
        if len(data) < 6 or not all(data[2:5]):
            continue
        try:
            if five:
                arg1, rel = (_unwrap(s) for s in data[2:4])
                args = [_unwrap(s) for s in data[4].strip().split(");")]
                if data[1] and not f"{arg1} {rel}".startswith(_unwrap(data[1])):
                    arg1 = f"{_unwrap(data[1])} {arg1}"
            else:
                arg1, rel, arg2 = (_unwrap(s) for s in data[2:5])
                args = [arg2]
            confidence = float(data[0])
        except ValueError:
            raise UsageError(f"{path}:{number}: not an OpenIE-{5 if five else 4} extraction") from None
        result.setdefault(data[5], []).append(Extraction(rel, [arg1, *args], confidence))
    return result


def _unwrap(s: str) -> str:
    return s[s.index("(") + 1 : s.index(",List(")]


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise UsageError(f"file not found: {path}")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file") from None


def from_records(records: Iterable[dict]) -> dict[str, list[Extraction]]:
    """ieclid open IE records: predicate, then the non-empty slots in order (subject, object,
    time, location), as ADELIE's scorer reads its `(predicate; arg; ...)` answers. A tuple's
    score is its confidence (0 where there is none)."""
    result: dict[str, list[Extraction]] = {}
    for record in records:
        texts = {e["id"]: e["text"] for e in record.get("entities", [])}
        extractions = result.setdefault(record.get("text", ""), [])
        for item in record.get("tuples", []):
            pred = texts.get(item.get("predicate"))
            if not pred:
                continue
            args = [texts[item[s]] for s in ("subject", "object", "time", "location") if item.get(s) in texts]
            score = item.get("score")
            extractions.append(Extraction(pred, args, float(score) if score is not None else 0.0))
    return result


def match(ref: Extraction, ex: Extraction) -> tuple[float, float]:
    """CaRB's binary lenient tuple match: (precision, recall) of word overlap after collapsing
    the arguments to [arg1, the rest]; "said"-type gold predicates may match with the
    arguments reversed."""
    r = _binary(ref.pred, ref.args)
    straight = _lenient(r, _binary(ex.pred, ex.args))
    if not any(verb in ref.pred for verb in _SAID):
        return straight
    if len(ex.args) >= 2:
        reverse = Extraction(ex.pred, [" ".join(ex.args[1:]), ex.args[0]])
    else:
        reverse = ex
    return max(straight, _lenient(r, reverse))


def _binary(pred: str, args: list[str]) -> Extraction:
    return Extraction(pred, [args[0], " ".join(args[1:])] if len(args) >= 2 else args)


def _overlap(gold: list[str], predicted: list[str]) -> int:
    """Gold words found in the prediction, each predicted word used once (removed from it)."""
    count = 0
    for word in gold:
        if word in predicted:
            count += 1
            predicted.remove(word)
    return count


def _lenient(ref: Extraction, ex: Extraction) -> tuple[float, float]:
    predicted, gold = ex.pred.split(), ref.pred.split()
    p_num, p_den, r_den = 0, len(predicted), len(gold)
    matched = _overlap(gold, predicted)
    if "be" in predicted and any(form in gold for form in _BE):
        matched += 1
        predicted.remove("be")
    if matched == 0:
        return (0.0, 0.0)
    p_num = r_num = matched
    for i, gold_arg in enumerate(ref.args):
        gold = gold_arg.split()
        r_den += len(gold)
        if len(ex.args) <= i:
            if i < 2:
                return (0.0, 0.0)
            continue
        predicted = ex.args[i].split()
        p_den += len(predicted)
        matched = _overlap(gold, predicted)
        p_num += matched
        r_num += matched
    return (p_num / p_den if p_den else 0.0, r_num / r_den if r_den else 0.0)


def score(gold: dict[str, list[Extraction]], predicted: dict[str, list[Extraction]]) -> CarbResult:
    """Precision/recall at every distinct confidence; AUC and the best-F1 point (rounded to 3
    places, as CaRB prints them)."""
    gold = {sentence_key(k): v for k, v in gold.items()}
    predicted = {sentence_key(k): v for k, v in predicted.items()}
    thresholds = sorted({ex.confidence for exs in predicted.values() for ex in exs})
    index = {conf: i for i, conf in enumerate(thresholds)}
    n = len(thresholds)
    p, pl, r, rl = [0.0] * n, [0] * n, [0.0] * n, [0] * n
    for sentence, gold_exs in gold.items():
        pred_exs = predicted.get(sentence, [])
        scores = [[match(g, e) for e in pred_exs] for g in gold_exs]
        prev = 0
        for conf in sorted(e.confidence for e in pred_exs):
            c = index[conf]
            if c < prev:
                continue  # a repeated confidence: its point is already counted
            kept = [j for j, e in enumerate(pred_exs) if e.confidence >= conf]
            recall_num = sum(max((row[j][1] for j in kept), default=0) for row in scores)
            precision_num = _global_match(scores, kept)
            for k in range(prev, c + 1):
                p[k] += precision_num
                pl[k] += len(kept)
                r[k] += recall_num
                rl[k] += len(scores)
            prev = c + 1
        for k in range(prev, n):
            rl[k] += len(scores)
    precisions = [a / b if b > 0 else 1.0 for a, b in zip(p, pl, strict=True)]
    recalls = [a / b if b > 0 else 0.0 for a, b in zip(r, rl, strict=True)]
    if not thresholds:
        return CarbResult(0.0, 0.0, 0.0, 0.0)
    f1s = [2 * a * b / (a + b) if a + b else 0.0 for a, b in zip(precisions, recalls, strict=True)]
    best = max(range(n), key=lambda i: (f1s[i], -i))  # the first maximum, as np.argmax
    return CarbResult(
        auc=round(_auc([*recalls, 0.0], [*precisions, 1.0]), 3),
        precision=round(precisions[best], 3),
        recall=round(recalls[best], 3),
        f1=round(f1s[best], 3),
        curve=list(zip(thresholds, precisions, recalls, strict=True)),
    )


def _global_match(scores: list[list[tuple[float, float]]], kept: list[int]) -> float:
    """Greedy one-to-one matching by best precision, first pair winning ties (CaRB's order)."""
    rows: set[int] = set()
    cols: set[int] = set()
    total = 0.0
    for _ in range(min(len(scores), len(kept))):
        best, best_row, best_col = -1.0, -1, -1
        for i, row in enumerate(scores):
            if i in rows:
                continue
            for j in kept:
                if j not in cols and row[j][0] > best:
                    best, best_row, best_col = row[j][0], i, j
        rows.add(best_row)
        cols.add(best_col)
        total += best
    return total


def _auc(x: list[float], y: list[float]) -> float:
    """Trapezoidal area under y(x) for x monotonic (recall falls as the threshold rises)."""
    points = list(zip(x, y, strict=True))
    return abs(sum((x2 - x1) * (y1 + y2) / 2 for (x1, y1), (x2, y2) in pairwise(points)))

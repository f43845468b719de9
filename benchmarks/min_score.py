"""How entity F1 moves with `--min-score`, model by model: the figures the default was chosen from.

For each model of the model matrix (the embedded default and the foreign GGUFs, where they are
there) and each split (WNUT-17 and CrossNER AI, dev to choose, test to check), `ieclid extract
--min-score 0` runs once, zero-shot; its records are then cut at each threshold: an entity the
model listed is kept when its score (the probability of its least likely token) reaches the
threshold, and a propagated one when an entity of the same text and label is kept (as
`--min-score` does in a run).

Prints one JSON object per model and split, and a markdown table at the end.

Usage: python benchmarks/min_score.py [--limit 200] [--splits dev test] [--sets wnut17 crossner_ai]
                                      [--models smollm2-ie qwen2 gemma3] [--thresholds 0 0.3 ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import orjson
from model_matrix import DATA, MODELS, available
from throughput import f1, run

from ieclid.datasets import read_conll

SPLITS = {  # set -> (schema, {split: file})
    "wnut17": ("wnut17", {"dev": DATA / "wnut17" / "dev.conll", "test": DATA / "wnut17" / "test.conll"}),
    "crossner_ai": ("crossner_ai", {"dev": DATA / "crossner" / "ai" / "dev.txt",
                                    "test": DATA / "crossner" / "ai" / "test.txt"}),
}


def cut(record: dict, threshold: float) -> dict:
    """The record as a run with `--min-score threshold` would have written its entities."""
    listed = [e for e in record["entities"] if not e.get("propagated")]
    kept = [e for e in listed if e.get("score") is None or e["score"] >= threshold]
    names = {(e["text"], e["label"]) for e in kept}
    spread = [e for e in record["entities"] if e.get("propagated") and (e["text"], e["label"]) in names]
    return {**record, "entities": kept + spread}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--splits", nargs="+", choices=["dev", "test"], default=["dev", "test"])
    parser.add_argument("--sets", nargs="+", choices=list(SPLITS), default=list(SPLITS))
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0, 0.3, 0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, given in available(args.models):
            for set_name in args.sets:
                schema, files = SPLITS[set_name]
                for split in args.splits:
                    gold = list(read_conll(files[split]))[: args.limit]
                    sentences = Path(tmp) / f"{set_name}.{split}.txt"
                    sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
                    records, _, _ = run([
                        sys.executable, "-m", "ieclid", "extract", "--lines", "-q", "--min-score", "0",
                        "--schema", schema, "--threads", str(args.threads), "--model", given,
                        str(sentences),
                    ])
                    row = {"model": name, "set": set_name, "split": split, "sentences": len(gold),
                           "f1": {str(t): round(100 * f1(gold, [cut(r, t) for r in records]), 1)
                                  for t in args.thresholds}}
                    rows.append(row)
                    print(orjson.dumps(row).decode(), flush=True)
    print("\n| model | data | split | " + " | ".join(f"≥ {t}" for t in args.thresholds) + " |")
    print("|---|---|---|" + "---|" * len(args.thresholds))
    for r in rows:
        cells = " | ".join(map(str, r["f1"].values()))
        print(f"| {r['model']} | {r['set']} | {r['split']} | {cells} |")


if __name__ == "__main__":
    main()

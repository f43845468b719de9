"""Whole documents against the same sentences given one by one: entity F1 by chunking.

Test sentences of WNUT-17 and CrossNER AI (the first --limit of each) are joined, in order, into
documents of 3 to 8 sentences (sizes drawn with a fixed seed), separated by one space as in
running text. `ieclid extract` runs on the sentences one per line (`--lines`), then on the
documents with each --chunk-sentences value (0: as many sentences as --max-chunk-tokens allows,
the packing used before). Document records are scored against the gold entities moved to
their offsets in the document, so both ways are scored on the same mentions.

Prints one JSON object per run.

Usage: python benchmarks/documents.py [--limit 200] [--chunk-sentences 1 2 4 0] [--model M]
                                      [--shots 0] [--sets wnut17 crossner_ai]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import orjson
from model_matrix import SETS
from throughput import run, write_demos

from ieclid.datasets import read_conll
from ieclid.evaluation.spans import SpanScores
from ieclid.schema import load_schema


def documents(gold: list, seed: int = 0) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Sentences joined into documents of 3-8 sentences: (text, gold entities at their offsets)."""
    rng = random.Random(seed)
    docs, start = [], 0
    while start < len(gold):
        size = rng.randint(3, 8)
        text, entities = "", []
        for sentence in gold[start : start + size]:
            offset = len(text) + (1 if text else 0)
            text += (" " if text else "") + sentence.text
            entities += [(s + offset, e + offset, label) for s, e, label in sentence.entities]
        docs.append((text, entities))
        start += size
    return docs


def score(gold: list[list[tuple[int, int, str]]], records: list[dict]) -> dict:
    scores = SpanScores()
    for entities, record in zip(gold, records, strict=True):
        scores.add(entities, [(e["start"], e["end"], e["label"]) for e in record.get("entities", [])
                              if e.get("start") is not None])
    overall = scores.overall
    return {"f1": round(100 * overall.f1, 1), "precision": round(100 * overall.precision, 1),
            "recall": round(100 * overall.recall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--chunk-sentences", type=int, nargs="+", default=[1, 2, 4, 0])
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--shots", type=int, default=0)
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as tmp:
        for set_name in args.sets:
            schema_name, test, train = SETS[set_name]
            gold = list(read_conll(test))[: args.limit]
            docs = documents(gold)
            extra = write_demos(Path(tmp) / "demos.jsonl", load_schema(schema_name), args.shots, train) \
                if args.shots else []
            common = ["--schema", schema_name, "--threads", str(args.threads), *model, *extra]
            lines = Path(tmp) / "sentences.txt"
            lines.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
            joined = Path(tmp) / "documents.txt"
            joined.write_text("\n".join(text for text, _ in docs) + "\n", encoding="utf-8")
            runs = [("sentences", [str(lines)])] + [
                (f"documents, --chunk-sentences {n}", [str(joined), "--chunk-sentences", str(n)])
                for n in args.chunk_sentences
            ]
            for name, inputs in runs:
                records, seconds, _ = run([sys.executable, "-m", "ieclid", "extract", "--lines", "-q",
                                           *common, *inputs])
                golds = [d.entities for d in gold] if name == "sentences" else [e for _, e in docs]
                print(orjson.dumps({
                    "set": set_name, "run": name, "sentences": len(gold), "documents": len(docs),
                    "shots": args.shots, **score(golds, records), "seconds": round(seconds, 1),
                }).decode(), flush=True)


if __name__ == "__main__":
    main()

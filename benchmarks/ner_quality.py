"""Entity F1 (exact span + type) and speed of `ieclid extract` on CoNLL-format NER data.

Usage:
  python benchmarks/ner_quality.py --data ../shared/data/wnut17/test.conll --schema wnut17 \
      [--demos ../shared/data/wnut17/train_first2000.conll --shots 4] [--limit 200]
      [--verbatim | --free-spans]

Documents are decoded together as `ieclid extract` does by default. Prints one JSON object:
precision, recall, f1, sentences, seconds, sentences_per_second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from ieclid.assembly import open_extractor
from ieclid.datasets import read_conll
from ieclid.documents import Document
from ieclid.evaluation.spans import SpanScores
from ieclid.run import extract_each
from ieclid.settings import RunSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--demos")
    parser.add_argument("--shots", type=int, default=4)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--model")
    parser.add_argument("--profile")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-grammar", action="store_true")
    spans = parser.add_mutually_exclusive_group()
    spans.add_argument("--verbatim", dest="verbatim", action="store_const", const=True,
                       help="mentions held to spans of the text (default: as ieclid extract chooses)")
    spans.add_argument("--free-spans", dest="verbatim", action="store_const", const=False)
    parser.add_argument("--save", help="write the predicted records here (JSONL)")
    args = parser.parse_args()

    gold_docs = list(read_conll(Path(args.data)))[: args.limit]
    settings = RunSettings(
        task="ner", schema=args.schema, model=args.model, profile=args.profile,
        demos=args.demos, shots=args.shots, threads=args.threads, grammar=not args.no_grammar,
        verbatim=args.verbatim,
    )
    extractor, backend = open_extractor(settings)
    scores = SpanScores()
    records = []
    started = time.perf_counter()
    documents = (Document(gold.id, gold.text) for gold in gold_docs)
    records_made = extract_each(extractor.extract, documents, settings.in_flight, backend.schedule)
    for gold, record in zip(gold_docs, records_made, strict=True):
        records.append(record)
        pred = [(e["start"], e["end"], e["label"]) for e in record["entities"] if e["start"] is not None]
        scores.add(gold.entities, pred)
    seconds = time.perf_counter() - started
    backend.close()
    if args.save:
        Path(args.save).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    result = {
        "data": args.data,
        "shots": args.shots if args.demos else 0,
        "profile": extractor.profile.name,
        "verbatim": extractor.profile.verbatim,
        "sentences": len(gold_docs),
        "seconds": round(seconds, 2),
        "sentences_per_second": round(len(gold_docs) / seconds, 2),
        **{k: v for k, v in scores.as_dict().items() if k != "per_label"},
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()

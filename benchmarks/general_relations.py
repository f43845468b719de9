"""The `general` relation schema (`re`'s default) scored on a public relation set, model by model.

Re-DocRED's test documents (Wikipedia introductions, every relation between their entities
annotated from Wikidata; ../shared/data/redocred) are read sentence by sentence, as `ieclid eval
--task re` reads them, and their Wikidata relations are renamed to the general schema's where
one fits, as the schema's `aliases` and `inverse_aliases` say (employer -> works for, place of
birth -> born in, subsidiary -> part of reversed, ...). Relations with no counterpart (author,
genre, dates...) are left out of the gold, so a prediction the general schema cannot express
costs nothing, and one it can but Re-DocRED does not annotate counts as wrong.

`ieclid eval --task re` then runs each model on the first --limit sentences with the general
schema and scores triples exactly (relation and both ends' texts, direction counts). Prints one
JSON object per model and a markdown table, overall and per relation.

Usage: python benchmarks/general_relations.py [--limit 200] [--models smollm2-ie qwen2 gemma3]
                                              [--lora ADAPTER] [--threads 2] [--ieclid-args '...']
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson
from model_matrix import DATA, MODELS, available

from ieclid.datasets import read_docred
from ieclid.demos import demo_labels
from ieclid.schema import load_schema

TEST = DATA / "redocred" / "test_revised.json"


def gold_records(limit: int) -> list[dict]:
    """The first `limit` test sentences as ieclid records with the general schema's relations."""
    docs = list(read_docred(TEST))[:limit]
    labels = demo_labels(docs, "re", load_schema("general"))
    records = []
    for doc in docs:
        entities = [{"id": f"T{n + 1}", "label": label, "text": doc.text[s:e], "start": s, "end": e}
                    for n, (s, e, label) in enumerate(doc.entities)]
        relations = []
        for head, tail, label in doc.triples:
            if label in labels.mapping:
                head, tail = (tail, head) if label in labels.inverse else (head, tail)
                name = labels.mapping[label]
                relations.append({"label": name, "head": f"T{head + 1}", "tail": f"T{tail + 1}"})
        records.append({"id": doc.id, "text": doc.text, "entities": entities, "relations": relations})
    return records


def score(gold: Path, model: list[str], threads: int, save: str, extra: Sequence[str] = ()) -> dict:
    """`ieclid eval --task re` of one model (its options in `model`) on the gold records."""
    out = subprocess.run(
        [sys.executable, "-m", "ieclid", "eval", "--task", "re", "--gold", str(gold), "--json", *model,
         "--threads", str(threads), "--save", save, "-q", *extra],
        capture_output=True, check=True,
    ).stdout
    return orjson.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ieclid-args", default="", help="more options for ieclid eval")
    parser.add_argument("--lora", help="also score the embedded base with this adapter (a training try)")
    args = parser.parse_args()
    runs = [(name, ["--model", given]) for name, given in available(args.models)]
    if args.lora:
        runs.append((f"smollm2 + {Path(args.lora).name}", ["--model", "smollm2", "--lora", args.lora]))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gold = Path(tmp) / "redocred_general.jsonl"
        records = gold_records(args.limit)
        gold.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        for name, model in runs:
            report = score(gold, model, args.threads, tmp, shlex.split(args.ieclid_args))
            row = {"model": name, "sentences": len(records), **{k: report[k] for k in (
                "precision", "recall", "f1", "tp", "n_pred", "n_gold")},
                "per_label": {k: v["f1"] for k, v in report["per_label"].items()}}
            rows.append((name, report))
            print(orjson.dumps(row).decode(), flush=True)
    labels = sorted({label for _, report in rows for label in report["per_label"]})
    print("\n| model | P | R | F1 | " + " | ".join(labels) + " |")
    print("|---|---|---|---|" + "---|" * len(labels))
    for name, report in rows:
        cells = [f"{100 * report[k]:.1f}" for k in ("precision", "recall", "f1")]
        per = report["per_label"]
        cells += [f"{100 * per[label]['f1']:.1f} ({per[label]['n_gold']})" if label in per else "-"
                  for label in labels]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

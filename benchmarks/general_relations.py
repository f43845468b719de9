"""The `general` relation schema (`re`'s default) scored on a public relation set, model by model.

Re-DocRED's test documents (Wikipedia introductions, every relation between their entities
annotated from Wikidata; ../shared/data/redocred) are read sentence by sentence, as `ieclid eval
--task re` reads them, and their Wikidata relations are renamed to the general schema's where
one fits (employer -> works for, place of birth -> born in, subsidiary -> part of reversed, ...;
MAPPED below). Relations with no counterpart (author, genre, dates...) are left out of the gold,
so a prediction the general schema cannot express costs nothing, and one it can but Re-DocRED
does not annotate counts as wrong.

`ieclid eval --task re` then runs each model on the first --limit sentences with the general
schema and scores triples exactly (relation and both ends' texts, direction counts). Prints one
JSON object per model and a markdown table, overall and per relation.

Usage: python benchmarks/general_relations.py [--limit 200] [--models smollm2-ie qwen2 gemma3]
                                              [--threads 2] [--ieclid-args '...']
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
from model_matrix import DATA, MODELS, available

from ieclid.datasets import read_docred
from ieclid.schema import load_schema

TEST = DATA / "redocred" / "test_revised.json"
MAPPED = {  # Wikidata name -> (general relation, whether head and tail swap)
    "employer": ("works for", False),
    "member of": ("member of", False),
    "member of political party": ("member of", False),
    "member of sports team": ("member of", False),
    "founded by": ("founded", True),
    "head of government": ("leads", True),
    "head of state": ("leads", True),
    "chairperson": ("leads", True),
    "located in the administrative territorial entity": ("located in", False),
    "contains administrative territorial entity": ("located in", True),
    "country": ("located in", False),
    "location": ("located in", False),
    "headquarters location": ("headquartered in", False),
    "residence": ("lives in", False),
    "place of birth": ("born in", False),
    "country of citizenship": ("citizen of", False),
    "part of": ("part of", False),
    "has part": ("part of", True),
    "parent organization": ("part of", False),
    "subsidiary": ("part of", True),
    "owned by": ("owns", True),
    "spouse": ("spouse of", False),
}


def gold_records(limit: int) -> list[dict]:
    """The first `limit` test sentences as ieclid records with the general schema's relations."""
    records = []
    for doc in list(read_docred(TEST))[:limit]:
        entities = [{"id": f"T{n + 1}", "label": label, "text": doc.text[s:e], "start": s, "end": e}
                    for n, (s, e, label) in enumerate(doc.entities)]
        relations = []
        for head, tail, label in doc.triples:
            if label in MAPPED:
                name, swap = MAPPED[label]
                head, tail = (tail, head) if swap else (head, tail)
                relations.append({"label": name, "head": f"T{head + 1}", "tail": f"T{tail + 1}"})
        records.append({"id": doc.id, "text": doc.text, "entities": entities, "relations": relations})
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ieclid-args", default="", help="more options for ieclid eval")
    args = parser.parse_args()
    general = {r.name for r in load_schema("general").relations}
    assert {name for name, _ in MAPPED.values()} <= general
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gold = Path(tmp) / "redocred_general.jsonl"
        records = gold_records(args.limit)
        gold.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        for name, given in available(args.models):
            out = subprocess.run(
                [sys.executable, "-m", "ieclid", "eval", "--task", "re", "--gold", str(gold), "--json",
                 "--model", given, "--threads", str(args.threads), "--save", tmp, "-q",
                 *shlex.split(args.ieclid_args)],
                capture_output=True, check=True,
            ).stdout
            report = orjson.loads(out)
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

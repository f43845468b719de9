"""Zero-shot entity F1 on the five CrossNER test splits, beside published figures of the peers.

The peers (GLiNER, UniNER, ChatGPT as GLiNER's paper reports it) were scored on UniNER's
processed CrossNER test sets: the whole test splits, the label names in words
("programming language" for CrossNER's `programlang`) and no description, and without the
`misc` class. This benchmark runs `ieclid extract --lines` on each whole test split two ways and
scores both without `misc` (left out of the gold and of the predictions):

- `names`: the papers' protocol: `--labels` with the names in words, `misc` not offered;
- `schema`: ieclid's built-in `crossner_<domain>` schema as a user gets it (descriptions,
  `misc` offered, its predictions then left out of the score).

Usage: python benchmarks/zero_shot_peers.py [--domains ai literature music politics science]
           [--protocols names schema] [--split test|dev] [--limit N] [--model M] [--lora A]
           [--threads 2]
(--limit: the first N sentences of each split, for a quick look; the table wants the whole.
--split dev scores the dev splits instead, for choosing between adapters without looking at
the test splits the table reports; the published figures are test figures.)
Prints one JSON object per run and a markdown table with the published figures beside.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import orjson
from throughput import ROOT, run

from ieclid.datasets import read_conll
from ieclid.evaluation.spans import SpanScores
from ieclid.schema import load_schema

DATA = ROOT.parent / "shared" / "data" / "crossner"
DOMAINS = ("ai", "literature", "music", "politics", "science")
IN_WORDS = {  # CrossNER's run-together tags as UniNER's processed sets name them
    "programlang": "programming language", "literarygenre": "literary genre",
    "musicgenre": "music genre", "musicalartist": "musical artist",
    "musicalinstrument": "musical instrument", "politicalparty": "political party",
    "astronomicalobject": "astronomical object", "chemicalcompound": "chemical compound",
    "chemicalelement": "chemical element", "academicjournal": "academic journal",
}
LEFT_OUT = "misc"
# Published zero-shot entity F1 (the papers' protocol above); sources in MODEL_CARD.md.
PEERS = {
    "GLiNER-L (304M; Zaratiana et al. 2023, table 1)":
        {"ai": 57.2, "literature": 64.4, "music": 69.6, "politics": 72.6, "science": 62.6},
    "gliner_medium-v2.1 (209M; its model card)":
        {"ai": 52.0, "literature": 62.6, "music": 68.9, "politics": 65.7, "science": 65.2},
    "ChatGPT (GLiNER paper, table 1, from UniNER)":
        {"ai": 52.4, "literature": 39.8, "music": 66.6, "politics": 68.5, "science": 67.0},
}


def run_split(domain: str, protocol: str, args: argparse.Namespace, tmp: Path) -> dict:
    """Extract one test split under one protocol; entity scores without `misc`, and seconds."""
    gold = list(read_conll(DATA / domain / f"{args.split}.txt"))
    if args.limit:
        gold = gold[: args.limit]
    sentences = tmp / f"{domain}.txt"
    sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
    tags = [name for name in load_schema(f"crossner_{domain}").entity_names if name != LEFT_OUT]
    if protocol == "names":
        to_tag = {IN_WORDS.get(tag, tag): tag for tag in tags}
        chosen = ["--labels", ",".join(to_tag)]
    else:
        to_tag = {tag: tag for tag in tags}
        chosen = ["--schema", f"crossner_{domain}"]
    command = [sys.executable, "-m", "ieclid", "extract", "--lines", "-q", "--threads", str(args.threads),
               *chosen, str(sentences)]
    for option in ("model", "lora"):
        if getattr(args, option):
            command += [f"--{option}", getattr(args, option)]
    records, seconds, _ = run(command)
    scores = SpanScores()
    for doc, record in zip(gold, records, strict=True):
        said = [(e["start"], e["end"], to_tag[e["label"]]) for e in record["entities"]
                if e.get("start") is not None and e["label"] in to_tag]
        scores.add([span for span in doc.entities if span[2] != LEFT_OUT], said)
    overall = scores.overall
    return {"domain": domain, "protocol": protocol, "split": args.split, "sentences": len(gold),
            "precision": round(100 * overall.precision, 1), "recall": round(100 * overall.recall, 1),
            "f1": round(100 * overall.f1, 1), "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", nargs="+", choices=DOMAINS, default=list(DOMAINS))
    parser.add_argument("--protocols", nargs="+", choices=("names", "schema"), default=["names", "schema"])
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    parser.add_argument("--limit", type=int, default=0, help="first N sentences of each split (0: all)")
    parser.add_argument("--model")
    parser.add_argument("--lora")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    found: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for protocol in args.protocols:
            for domain in args.domains:
                row = run_split(domain, protocol, args, Path(tmp))
                found[protocol, domain] = row["f1"]
                print(orjson.dumps(row).decode(), flush=True)

    def average(values: list[float]) -> str:
        return f"{sum(values) / len(values):.1f}" if values else "-"

    print("\n| system | " + " | ".join(args.domains) + " | average |")
    print("|---|" + "---|" * (len(args.domains) + 1))
    for protocol in args.protocols:
        cells = [found[protocol, d] for d in args.domains]
        print(f"| ieclid, {protocol} | " + " | ".join(map(str, cells)) + f" | {average(cells)} |")
    for name, figures in PEERS.items() if args.split == "test" else ():
        cells = [figures[d] for d in args.domains]
        print(f"| {name} | " + " | ".join(map(str, cells)) + f" | {average(cells)} |")


if __name__ == "__main__":
    main()

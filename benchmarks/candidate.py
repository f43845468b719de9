"""A candidate adapter against the shipped default, on what decides whether it ships.

The default ships a new adapter only when it beats the shipped one on the held-out sets and
loses no more than a point elsewhere (MODEL_CARD.md). This runs, for the shipped default and
for the embedded base with the candidate adapter, side by side and alternating:

- held-out NER: the whole CrossNER AI, literature and music dev splits, the peers' `names`
  protocol (as `zero_shot_peers.py --split dev` scores them);
- relation triples: the first --re-limit Re-DocRED test sentences in the general schema, exact
  triples (as `general_relations.py` scores them);
- every other task zero-shot on its first --limit test items (as `quality_baseline.py` runs
  them): WNUT-17, CrossNER politics and science, SemEval-2010 and FewRel (direct), CaRB, PHEE
  and GENEVA.

Prints one JSON object per measurement and a markdown table: shipped, candidate, the change,
and `worse` where the candidate loses more than a point.

Usage: python benchmarks/candidate.py ADAPTER [--limit 100] [--re-limit 600] [--ner-limit 0]
                                              [--threads 2]
(--ner-limit N: the first N sentences of each dev split, for a quick look.)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import orjson
from general_relations import gold_records
from general_relations import score as score_re
from quality_baseline import configurations, evaluate
from zero_shot_peers import run_split

HELD_OUT = ("ai", "literature", "music")
OTHERS = ("wnut17", "crossner_politics", "crossner_science", "semeval2010", "fewrel", "carb", "geneva",
          "phee")
SETTINGS = ("0-shot", "direct 0-shot")


def measurements(args: argparse.Namespace, tmp: Path):
    """(measure, side, F1 in %, seconds), shipped and candidate in turn for each measure."""
    chosen = {"shipped": (None, None), "candidate": ("smollm2", args.adapter)}  # (--model, --lora)
    runs = {side: ["--model", model, "--lora", lora] if model else []
            for side, (model, lora) in chosen.items()}
    for domain in HELD_OUT:
        for side, (model, lora) in chosen.items():
            options = argparse.Namespace(split="dev", limit=args.ner_limit, threads=args.threads, model=model,
                                         lora=lora)
            result = run_split(domain, "names", options, tmp)
            yield f"CrossNER {domain} dev (held out)", side, result["f1"], result["seconds"]
    gold = tmp / "redocred_general.jsonl"
    gold.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in gold_records(args.re_limit)))
    for side, model in runs.items():
        report = score_re(gold, model, args.threads, str(tmp))
        yield f"Re-DocRED test re, first {args.re_limit}", side, round(100 * report["f1"], 1), None
    threads = ["--threads", str(args.threads)]
    for name, setting, eval_args in configurations():
        if not name.startswith(OTHERS) or setting not in SETTINGS:
            continue
        for side, model in runs.items():
            save = tmp / f"{name}.{side}.jsonl"
            report, seconds, stderr = evaluate([*eval_args, *threads], args.limit, model, save)
            if report is None:
                raise SystemExit(f"{name} {setting} ({side}) failed: {stderr.strip()[-300:]}")
            yield f"{name} {setting}", side, round(100 * report["f1"], 1), round(seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapter", help="the candidate LoRA adapter GGUF (ieclid train export)")
    parser.add_argument("--limit", type=int, default=100, help="test items of each other task")
    parser.add_argument("--re-limit", type=int, default=600, help="Re-DocRED test sentences")
    parser.add_argument("--ner-limit", type=int, default=0, help="sentences of each dev split (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not Path(args.adapter).is_file():
        raise SystemExit(f"adapter not found: {args.adapter}")
    table: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for measure, side, f1, seconds in measurements(args, Path(tmp)):
            table.setdefault(measure, {})[side] = f1
            print(orjson.dumps({"measure": measure, "side": side, "f1": f1, "seconds": seconds}).decode(),
                  flush=True)
    print("\n| measure | shipped | candidate | change | |\n|---|---|---|---|---|")
    for measure, row in table.items():
        change = row["candidate"] - row["shipped"]
        print(f"| {measure} | {row['shipped']:.1f} | {row['candidate']:.1f} | {change:+.1f} | "
              f"{'worse' if change < -1 else ''} |")
    held_out = [table[f"CrossNER {d} dev (held out)"] for d in HELD_OUT]
    print(f"\nheld-out NER average: shipped {sum(r['shipped'] for r in held_out) / 3:.1f}, "
          f"candidate {sum(r['candidate'] for r in held_out) / 3:.1f}")


if __name__ == "__main__":
    main()

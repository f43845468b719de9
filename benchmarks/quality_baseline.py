"""The project's quality baseline: `ieclid eval` from the CLI on every scored test split.

Usage:
  python benchmarks/quality_baseline.py [--limit 100] [--model M] [--lora A] [--profile P]
      [--only wnut17,semeval] [--setting 0-shot] [--json OUT]

Runs, on the first N test items of each data set in ../shared/data, zero-shot and 4-shot
(demonstrations from the train split): NER on WNUT-17 and the five CrossNER domains,
SemEval-2010 relation classification directly and as QA4RE multiple choice (official
macro scores), FewRel the same (micro-F1, QA4RE's metric), CaRB open IE
(best-F1 point), PHEE event detection, arguments and extraction, and GENEVA (115 event types,
FrameNet roles) event detection and arguments zero-shot. Prints a markdown table
(precision/recall/F1 in %, seconds) and optionally writes the raw reports.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import orjson

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
CROSSNER = ("ai", "literature", "music", "politics", "science")


def configurations() -> list[tuple[str, str, list[str]]]:
    """(data set, setting, eval arguments) for every row of the baseline."""
    rows: list[tuple[str, str, list[str]]] = []
    ner = [("wnut17", DATA / "wnut17/test.conll", DATA / "wnut17/train_first2000.conll", "wnut17")]
    for d in CROSSNER:
        folder = DATA / "crossner" / d
        ner.append((f"crossner_{d}", folder / "test.txt", folder / "train.txt", f"crossner_{d}"))
    for name, gold, train, schema in ner:
        base = ["--task", "ner", "--gold", str(gold), "--schema", schema]
        rows.append((name, "0-shot", base))
        rows.append((name, "4-shot", [*base, "--demos", str(train), "--shots", "4"]))
    semeval = DATA / "semeval2010_task8"
    base = ["--task", "rc", "--gold", str(semeval / "TEST_FILE_FULL.TXT")]
    demos = ["--demos", str(semeval / "TRAIN_FILE_first2000.TXT"), "--shots", "4"]
    for method in ("direct", "qa4re"):
        rows.append(("semeval2010", f"{method} 0-shot", [*base, "--method", method]))
        rows.append(("semeval2010", f"{method} 4-shot", [*base, "--method", method, *demos]))
    fewrel = ["--task", "rc", "--schema", "fewrel", "--gold", str(DATA / "fewrel_val_wiki/val_wiki.json")]
    for method in ("direct", "qa4re"):
        rows.append(("fewrel", f"{method} 0-shot", [*fewrel, "--method", method]))
    rows.append(("carb", "0-shot", ["--task", "openie", "--gold", str(DATA / "carb/data/gold/test.tsv")]))
    geneva = DATA / "geneva" / "test.json"  # its event_ontology.json beside is the schema
    for task in ("ed", "eae"):
        rows.append((f"geneva_{task}", "0-shot", ["--task", task, "--gold", str(geneva)]))
    phee = DATA / "phee"
    for task in ("ed", "eae", "ee"):
        base = ["--task", task, "--gold", str(phee / "test.jsonl")]
        rows.append((f"phee_{task}", "0-shot", base))
        rows.append((f"phee_{task}", "4-shot", [*base, "--demos", str(phee / "train_first2000.jsonl")]))
    return rows


def evaluate(eval_args: list[str], limit: int, model: list[str],
             save: Path) -> tuple[dict | None, float, str]:
    """One row: `ieclid eval` on the first `limit` items with the model options; the report (None
    when it failed), the seconds it took, and its stderr."""
    command = [sys.executable, "-m", "ieclid", "eval", *eval_args, "--limit", str(limit), "--json",
               "--quiet", "--save", str(save), *model]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    return (orjson.loads(result.stdout) if result.returncode == 0 else None), seconds, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--model")
    parser.add_argument("--lora", help="a LoRA adapter GGUF on the model (ieclid train export)")
    parser.add_argument("--profile", help="prompt profile (adelie for models ieclid train aligned)")
    parser.add_argument("--setting", help="comma-separated settings to run (e.g. 0-shot)")
    parser.add_argument("--only", help="comma-separated data set name prefixes (e.g. wnut17,semeval)")
    parser.add_argument("--json", help="write every report here (JSONL)")
    parser.add_argument("--save-dir", default="/tmp/ieclid-baseline", help="where predictions are saved")
    args = parser.parse_args()

    Path(args.save_dir).mkdir(parents=True, exist_ok=True)
    wanted = tuple(args.only.split(",")) if args.only else ("",)
    if args.json:
        Path(args.json).write_bytes(b"")
    print("| data set | setting | P | R | F1 | n | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, setting, eval_args in configurations():
        if not name.startswith(wanted) or (args.setting and setting not in args.setting.split(",")):
            continue
        save = Path(args.save_dir) / f"{name}.{setting.replace(' ', '_')}.jsonl"
        model = [part for option in ("model", "lora", "profile") if getattr(args, option)
                 for part in (f"--{option}", getattr(args, option))]
        report, seconds, stderr = evaluate(eval_args, args.limit, model, save)
        if report is None:
            print(f"| {name} | {setting} | failed: {stderr.strip()[:80]} | | | | |", flush=True)
            continue
        report.update(dataset=name, setting=setting, seconds=round(seconds, 1))
        if args.json:
            with Path(args.json).open("ab") as out:
                out.write(orjson.dumps(report) + b"\n")
        print(f"| {name} | {setting} | {100 * report['precision']:.1f} | {100 * report['recall']:.1f} | "
              f"{100 * report['f1']:.1f} | {report['n']} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()

"""What `--engine ray` costs on one machine: a local Ray with 1 and 2 actors against a local run.

The same documents (the first --limit WNUT-17 test sentences, one a line, `--lines`), the default
model, zero-shot; each run a process of its own timed as a whole (Ray's start and the actors'
model loading included), the configurations alternated in each repeat. Prints one JSON object
per run and a markdown table of median seconds; checks that every run's records are the local
run's (timings aside).

Usage: python benchmarks/ray_overhead.py [--limit 200] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import orjson
from throughput import DATA, f1, run

from ieclid.datasets import read_conll

CONFIGS = {
    "local": [],
    "ray, 1 actor": ["--engine", "ray", "--actors", "1"],
    "ray, 2 actors": ["--engine", "ray", "--actors", "2"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    gold = list(read_conll(DATA / "test.conll"))[: args.limit]
    seconds: dict[str, list[float]] = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        sentences = Path(tmp) / "sentences.txt"
        sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
        reference = None
        for repeat in range(1, args.repeats + 1):
            for name, options in CONFIGS.items():
                records, took, _ = run([sys.executable, "-m", "ieclid", "extract", "-q", "--lines",
                                        "--schema", "wnut17", *options, str(sentences)])
                same = [{k: v for k, v in r.items() if k != "usage"} for r in records]
                reference = reference or same
                seconds[name].append(took)
                print(orjson.dumps({"config": name, "repeat": repeat, "seconds": round(took, 1),
                                    "f1": round(100 * f1(gold, records), 1),
                                    "same_records_as_local": same == reference}).decode(), flush=True)
    print("\n| " + " | ".join(CONFIGS) + " |\n|" + "---|" * len(CONFIGS))
    print("| " + " | ".join(f"{statistics.median(s):.1f} s" for s in seconds.values()) + " |")


if __name__ == "__main__":
    main()

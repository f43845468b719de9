"""`ieclid extract` on a quiet machine and beside a busy process: default threads against fixed ones.

The same sentences (the first --limit of WNUT-17 test), the default model, zero-shot, each run a
process of its own timed as a whole, with the default thread count (which follows the cores
other processes leave free, ieclid/backends/cpu_share.py), `--threads 1`, and `--threads N` for
every usable core (the default before it followed them). "loaded" runs with --busy processes
each spinning a core (`python -c 'while 1: pass'`) from before the run until after it. The
configurations alternate within each repeat, so the machine's drift hits them alike.

Prints one JSON object per run, and a markdown table of median seconds at the end.

Usage: python benchmarks/busy_machine.py [--limit 60] [--repeats 3] [--busy 1] [--model smollm2-ie]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from throughput import DATA, f1, run

from ieclid.backends.cpu_share import usable_cores
from ieclid.datasets import read_conll

SPIN = [sys.executable, "-c", "while 1: pass"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=1, help="spinning processes beside the loaded runs")
    parser.add_argument("--model", default="smollm2-ie")
    args = parser.parse_args()
    cores = usable_cores()
    configs = {"default": [], "--threads 1": ["--threads", "1"],
               f"--threads {cores}": ["--threads", str(cores)]}
    gold = list(read_conll(DATA / "test.conll"))[: args.limit]
    seconds: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sentences = Path(tmp) / "sentences.txt"
        sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "ieclid", "extract", "--lines", "-q", "--schema", "wnut17",
                   "--model", args.model, str(sentences)]
        run(command)  # the model's CPU copy is made before anything is timed
        for repeat in range(1, args.repeats + 1):
            for condition in ("quiet", "loaded"):
                spinners = [subprocess.Popen(SPIN) for _ in range(args.busy if condition == "loaded" else 0)]
                time.sleep(0.5 if spinners else 0)
                try:
                    for name, extra in configs.items():
                        records, sec, _ = run([*command, *extra])
                        seconds.setdefault((condition, name), []).append(sec)
                        print(orjson.dumps({"condition": condition, "config": name, "repeat": repeat,
                                            "seconds": round(sec, 1), "f1": round(100 * f1(gold, records), 1),
                                            "sentences": len(gold)}).decode(), flush=True)
                finally:
                    for spinner in spinners:
                        spinner.kill()
                        spinner.wait()
    print(f"\n| condition | {' | '.join(configs)} |")
    print("|---|" + "---|" * len(configs))
    for condition in ("quiet", "loaded"):
        cells = [f"{statistics.median(seconds[condition, name]):.1f} s" for name in configs]
        print(f"| {condition} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

"""Seconds and peak memory of `ieclid train sft` on this machine, by precision and checkpointing.

The same short run (the default recipe, train/aligned.yaml, with the CPU batching docs/training.md
advises: batch 1 with 8 accumulated, at most 1,024 tokens) on the same data from the default's
sources (`ieclid train data`, the first --examples of WNUT-17 train, CrossNER politics train and
SemEval-2010 train), from the embedded SmolLM2 base, under each setting:

- `fp32, checkpointing`: what `ieclid train sft` did on a CPU before it chose by itself;
- `fp32`: `--fp32`, activation checkpointing as ieclid chooses (off on a CPU where the batch's
  activations fit in half the free memory);
- `default`: as ieclid chooses both (bf16 where the CPU has AVX512-BF16 or AMX).

The settings take turns, --repeats times, since this shared machine's speed drifts; prints one
JSON object per run (the trainer's seconds, the process's wall seconds and peak RSS, the loss)
and the median seconds of each setting with its speed-up over the first.

Usage: python benchmarks/train_speed.py [--steps 4] [--examples 200] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import yaml
from throughput import ROOT, measured

from ieclid.training.sft import hf_checkpoint

DATA = ROOT.parent / "shared" / "data"
SOURCES = ("wnut17/train_first2000.conll:wnut17", "crossner/politics/train.txt:crossner_politics",
           "semeval2010_task8/TRAIN_FILE_first2000.TXT:semeval2010")
SETTINGS = {  # name -> what the recipe file adds to train/aligned.yaml
    "fp32, checkpointing": {"bf16": False, "activation_checkpointing": True},
    "fp32": {"bf16": False},
    "default": {},
}


def ieclid(*args: str) -> tuple[float, float]:
    """Run `ieclid ARGS`; its wall seconds and peak RSS in MB (exit on failure)."""
    _, seconds, rss = measured([sys.executable, "-m", "ieclid", *args], stdout=subprocess.DEVNULL)
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--examples", type=int, default=200, help="per source")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    recipe = yaml.safe_load((ROOT / "train" / "aligned.yaml").read_text())
    seconds: dict[str, list[float]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data.jsonl"
        sources = [arg for source in SOURCES for arg in ("--source", str(DATA / source))]
        ieclid("train", "data", *sources, "--cap", str(args.examples), "--out", str(data))
        base = hf_checkpoint("smollm2", work)  # dequantized once, outside the timed runs
        for repeat in range(args.repeats):
            for name, extra in SETTINGS.items():
                config = work / "recipe.yaml"
                config.write_text(yaml.safe_dump({**recipe, **extra}))
                out = work / f"{name.replace(', ', '-')}-{repeat}"
                wall, rss = ieclid("train", "sft", "--data", str(data), "--base", base, "--out", str(out),
                                   "--config", str(config), "--batch-size", "1", "--grad-accum", "8",
                                   "--max-length", "1024", "--max-steps", str(args.steps), "--lr", "1e-4")
                last = orjson.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
                seconds[name].append(float(last["train_runtime"]))
                print(orjson.dumps({"setting": name, "train_seconds": last["train_runtime"],
                                    "wall_seconds": round(wall, 1), "peak_rss_mb": round(rss),
                                    "loss": last.get("train_loss")}).decode(), flush=True)
    first = statistics.median(next(iter(seconds.values())))
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name}: median {median:.1f} s for {args.steps} steps, speed-up {first / median:.2f}")


if __name__ == "__main__":
    main()

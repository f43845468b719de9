"""Throughput of `ieclid extract` against a competent llama-cpp-python script, same work.

Same model (the embedded SmolLM2 unless --model), same sentences (the first --limit of the
WNUT-17 test split), the same demonstrations (chosen by ieclid from the training split and
given to both as ieclid records), 2 threads. Each side runs as its own process, so its time
includes loading the model and its peak memory is its own. Prints a table and one JSON
object per run: sentences/s, prompt and completion tokens, entity F1, peak RSS, speed-up,
and the compute floor for ieclid's work (new prompt tokens at the measured prompt rate plus
generated tokens at the measured generation rate).

Usage: python benchmarks/throughput.py [--limit 200] [--shots 0 4] [--threads 2] [--split test|dev]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from ieclid.datasets import read_conll
from ieclid.demos import select_demos
from ieclid.evaluation.spans import SpanScores
from ieclid.models import resolve_model
from ieclid.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "wnut17"


def run(command: list[str]) -> tuple[list[dict], float, float]:
    """Run a child; its records, wall seconds and peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{proc.stderr.read().decode()}")
    records = [orjson.loads(line) for line in out.splitlines()]
    return records, seconds, usage.ru_maxrss / 1024


def rates(model: str, threads: int) -> tuple[float, float]:
    """Measured prompt and single-sequence generation rates (tokens/s) of this model here."""
    from llama_cpp import Llama

    llm = Llama(model_path=model, n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    text = " ".join(d.text for d in list(read_conll(DATA / "dev.conll"))[:40])
    tokens = llm.tokenize(text.encode())[:512]
    started = time.perf_counter()
    llm.eval(tokens)
    prompt_rate = len(tokens) / (time.perf_counter() - started)
    started = time.perf_counter()
    for token in tokens[:64]:
        llm.eval([token])
    generation_rate = 64 / (time.perf_counter() - started)
    llm.close()
    return prompt_rate, generation_rate


def f1(gold, records) -> float:
    scores = SpanScores()
    for doc, record in zip(gold, records, strict=True):
        scores.add(doc.entities, [(e["start"], e["end"], e["label"]) for e in record["entities"]
                                  if e.get("start") is not None])
    return scores.overall.f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--shots", type=int, nargs="+", default=[0, 4])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model")
    parser.add_argument("--split", choices=("test", "dev"), default="test",
                        help="dev: for design choices (the reported figures are on test)")
    args = parser.parse_args()
    model = resolve_model(args.model)
    schema = load_schema("wnut17")
    gold = list(read_conll(DATA / f"{args.split}.conll"))[: args.limit]
    prompt_rate, generation_rate = rates(model, args.threads)
    print(f"measured rates: prompt {prompt_rate:.0f} tok/s, generation {generation_rate:.0f} tok/s",
          file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        sentences = Path(tmp) / "sentences.txt"
        sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
        for shots in args.shots:
            demos_path = "-"
            extra: list[str] = []
            if shots:
                demos = select_demos(list(read_conll(DATA / "train_first2000.conll")), "ner", schema, shots)
                demos_path = str(Path(tmp) / "demos.jsonl")
                Path(demos_path).write_bytes(b"".join(orjson.dumps({
                    "text": d.text,
                    "entities": [{"label": lab, "text": t, "start": d.text.find(t),
                                  "end": d.text.find(t) + len(t)} for t, lab in d.mentions],
                }) + b"\n" for d in demos))
                extra = ["--demos", demos_path, "--shots", str(shots)]
            script, s_sec, s_mem = run([sys.executable, "benchmarks/baseline_script.py", model,
                                        str(sentences), ",".join(schema.entity_names), demos_path,
                                        str(args.threads)])
            ours, o_sec, o_mem = run([sys.executable, "-m", "ieclid", "extract", "--lines", "-q", "--schema",
                                      "wnut17", "--threads", str(args.threads), "--model", model,
                                      str(sentences), *extra])
            new_prompt = sum(r["usage"]["prompt_tokens"] - r["usage"]["cached_prompt_tokens"] for r in ours)
            generated = sum(r["usage"]["completion_tokens"] for r in ours)
            floor = new_prompt / prompt_rate + generated / generation_rate
            result = {
                "shots": shots, "sentences": len(gold),
                "script": {"sentences_per_second": round(len(gold) / s_sec, 2), "seconds": round(s_sec, 1),
                           "prompt_tokens": sum(r["usage"]["prompt_tokens"] for r in script),
                           "completion_tokens": sum(r["usage"]["completion_tokens"] for r in script),
                           "f1": round(f1(gold, script), 4), "peak_mb": round(s_mem)},
                "ieclid": {"sentences_per_second": round(len(gold) / o_sec, 2), "seconds": round(o_sec, 1),
                           "prompt_tokens": sum(r["usage"]["prompt_tokens"] for r in ours),
                           "prompt_tokens_evaluated": new_prompt, "completion_tokens": generated,
                           "f1": round(f1(gold, ours), 4), "peak_mb": round(o_mem),
                           "floor_seconds": round(floor, 1), "time_over_floor": round(o_sec / floor, 2)},
                "speedup": round(s_sec / o_sec, 2),
                "model_mb": round(Path(model).stat().st_size / 2**20),
            }
            print(orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()

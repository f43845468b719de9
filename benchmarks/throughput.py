"""Throughput of `ieclid extract` against a competent llama-cpp-python script, same work.

Same model (each of --models: the default `smollm2-ie`, the embedded SmolLM2 with ieclid's IE
adapter, which the script applies through llama-cpp-python's `lora_path` as a user would, and
the plain `smollm2`; or a GGUF file), same sentences (the first --limit of the
WNUT-17 test split, or all of it), the same demonstrations (chosen by ieclid from the training split and
given to both as ieclid records), 2 threads. Each side runs as its own process, so its time
includes loading the model and its peak memory is its own. Prints one JSON object per
run: sentences/s, prompt and completion tokens, entity F1, peak RSS, speed-up,
and the compute floor for ieclid's work (new prompt tokens at the measured prompt rate plus
the decoded completion tokens, those the grammar forced up to its end left out, at the rate
llama.cpp measures here for a batch of --parallel sequences, both measured just after
ieclid's run at the context its prompts had: the prompt rate after the prefix its prompts
shared on average, the generation rate after a prompt of their average length, since every
token attends to all before it and a 4-shot prompt's demonstrations cost each step time).
This shared machine's speed drifts by a fifth between runs, so --repeats alternates the two
sides and reports the medians too.

On the CPU, ieclid runs a small Q4_1 model (the embedded one) as its Q8_0 copy (`--cpu-copy`,
its default; made before the timed runs), with the adapter merged into it, so the floor's rates
are measured on the file it actually loads (and with the adapter applied at run time where
ieclid applies it so), with the keys in the type ieclid keeps them in there (Q8_0, its
`--cache-type-k auto`); the script runs the model file as given, with llama-cpp-python's F16
keys (`--model` a Q8_0 file runs both on it). --no-cpu-copy runs ieclid on the file as given too.

On a GPU build, --n-gpu-layers -1 offloads the whole model for both sides and for the floor's
rates.

Usage: python benchmarks/throughput.py [--models smollm2-ie smollm2] [--limit 200] [--shots 0 4]
                                       [--threads 2] [--split test|dev]
                                       [--parallel 1 4] [--repeats 3] [--n-gpu-layers -1]
                                       [--no-cpu-copy]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from ieclid.backends.cells import set_row
from ieclid.backends.cpu_weights import cpu_weights
from ieclid.backends.key_cache import key_type
from ieclid.backends.weight_buffers import model_params, weights_off_amx
from ieclid.datasets import read_conll
from ieclid.demos import select_demos
from ieclid.evaluation.spans import SpanScores
from ieclid.models import bundled_adapter, resolve_model
from ieclid.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "wnut17"


def measured(command: list[str], stdout: int = subprocess.PIPE) -> tuple[bytes, float, float]:
    """Run a child to its end; its stdout, wall seconds and peak RSS in MB. Exits on failure with
    the end of the child's stderr, which goes to a file: a child that writes much there (a
    trainer's progress bars) would otherwise fill the pipe and stall both."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=stdout, stderr=err, cwd=ROOT)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"failed: {' '.join(command)}\n{err.read().decode(errors='replace')[-4000:]}")
    return out, seconds, usage.ru_maxrss / 1024


def run(command: list[str]) -> tuple[list[dict], float, float]:
    """Run a child; its records, wall seconds and peak RSS in MB."""
    out, seconds, rss = measured(command)
    return [orjson.loads(line) for line in out.splitlines()], seconds, rss


def rates(model: str, threads: int, parallel: int, gpu_layers: int = 0, repeats: int = 5,
          lora: str | None = None, prefix: int = 0, context: int = 0) -> tuple[float, float]:
    """Prompt rate after `prefix` tokens already in the cache, and generation rate of `parallel`
    sequences decoded together after a shared prompt of `context` tokens (one llama_decode
    per step, nothing else), in tokens/s, of this model here: the best of
    `repeats` short bursts, since a burst shares the CPU with whatever else runs (single
    measurements here spread from 218 to 351 tokens/s) and the floor is what the CPU can do.

    Measured in a thread of its own, which takes its OpenMP team with it when it ends. A team
    left on the calling thread made a later ieclid run in the same process (its batch engine
    thread has a team of its own) take 57 s instead of 37, as slow as with OMP_WAIT_POLICY=passive:
    with more threads than cores in its teams, libgomp shortens how long a barrier spins before
    it sleeps."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_rates, model, threads, parallel, gpu_layers, repeats, lora, prefix,
                           context).result()


def _rates(model: str, threads: int, parallel: int, gpu_layers: int, repeats: int,
           lora: str | None, prefix: int, context: int) -> tuple[float, float]:
    import llama_cpp

    keys = key_type(llama_cpp, "auto", model, cpu=gpu_layers == 0)  # the keys' type ieclid runs with
    with weights_off_amx():
        llm = llama_cpp.Llama(model_path=model, n_ctx=prefix + 1024, n_threads=threads,
                              n_threads_batch=threads, n_gpu_layers=gpu_layers, type_k=keys,
                              lora_path=lora, verbose=False)
    text = " ".join(d.text for d in list(read_conll(DATA / "dev.conll"))[:200])
    tokens = llm.tokenize(text.encode())[: max(prefix, context) + 512]
    prompt_rate = 0.0
    for _ in range(repeats):
        llm.reset()
        if prefix:
            llm.eval(tokens[:prefix])
        started = time.perf_counter()
        llm.eval(tokens[prefix : prefix + 512])
        prompt_rate = max(prompt_rate, 512 / (time.perf_counter() - started))
    llm.close()

    params = llama_cpp.llama_context_default_params()
    params.n_ctx, params.n_seq_max, params.kv_unified = context + 2048, parallel, True
    params.n_threads = params.n_threads_batch = threads
    params.type_k = keys
    weights_params = model_params()
    weights_params.n_gpu_layers = gpu_layers
    model_handle = llama_cpp.llama_model_load_from_file(model.encode(), weights_params)
    ctx = llama_cpp.llama_init_from_model(model_handle, params)
    adapter = llama_cpp.llama_adapter_lora_init(model_handle, lora.encode()) if lora else None
    if adapter:
        llama_cpp.llama_set_adapters_lora(ctx, (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter), 1,
                                          (ctypes.c_float * 1)(1.0))
    batch = llama_cpp.llama_batch_init(max(parallel, 512), 0, parallel)
    steps = 64
    generation_rate = 0.0
    memory = llama_cpp.llama_get_memory(ctx)
    for _ in range(repeats):
        llama_cpp.llama_memory_clear(memory, True)
        for start in range(0, context, 512):  # the shared prompt, in every sequence
            piece = tokens[start : min(context, start + 512)]
            for row, token in enumerate(piece):
                set_row(batch, row, token, start + row, tuple(range(parallel)), False)
            batch.n_tokens = len(piece)
            llama_cpp.llama_decode(ctx, batch)
        started = time.perf_counter()
        for step in range(steps):
            for seq in range(parallel):
                set_row(batch, seq, tokens[step], context + step, (seq,), True)
            batch.n_tokens = parallel
            llama_cpp.llama_decode(ctx, batch)
        generation_rate = max(generation_rate, steps * parallel / (time.perf_counter() - started))
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(ctx)
    if adapter:
        llama_cpp.llama_adapter_lora_free(adapter)
    llama_cpp.llama_model_free(model_handle)
    return prompt_rate, generation_rate


def write_demos(path: Path, schema, shots: int, train: Path = DATA / "train_first2000.conll") -> list[str]:
    """Write the demonstrations both sides get (chosen by ieclid from the training split) as
    ieclid records; returns ieclid's arguments for them."""
    demos = select_demos(list(read_conll(train)), "ner", schema, shots)
    path.write_bytes(b"".join(orjson.dumps({
        "text": d.text,
        "entities": [{"label": lab, "text": t, "start": d.text.find(t),
                      "end": d.text.find(t) + len(t)} for t, lab in d.mentions],
    }) + b"\n" for d in demos))
    return ["--demos", str(path), "--shots", str(shots)]


def f1(gold, records) -> float:
    scores = SpanScores()
    for doc, record in zip(gold, records, strict=True):
        scores.add(doc.entities, [(e["start"], e["end"], e["label"]) for e in record["entities"]
                                  if e.get("start") is not None])
    return scores.overall.f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200, help="sentences (0: the whole split)")
    parser.add_argument("--shots", type=int, nargs="+", default=[0, 4])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["smollm2-ie", "smollm2"],
                        help="names from 'ieclid models list' or GGUF files")
    parser.add_argument("--parallel", type=int, nargs="+", default=[8],
                        help="ieclid's --parallel values to run (the script always decodes one at a time)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="alternated runs of both sides; with more than one, also their medians")
    parser.add_argument("--n-gpu-layers", type=int, default=0,
                        help="layers offloaded by both sides (-1: all; needs a GPU build of llama.cpp)")
    parser.add_argument("--split", choices=("test", "dev"), default="test",
                        help="dev: for design choices (the reported figures are on test)")
    parser.add_argument("--cpu-copy", action=argparse.BooleanOptionalAction, default=True,
                        help="ieclid's --cpu-copy (the script always runs the model file as given)")
    args = parser.parse_args()
    schema = load_schema("wnut17")
    gold = list(read_conll(DATA / f"{args.split}.conll"))[: args.limit or None]
    with tempfile.TemporaryDirectory() as tmp:
        sentences = Path(tmp) / "sentences.txt"
        sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
        for name in args.models:
            model, lora = resolve_model(name), bundled_adapter(name)
            # the file ieclid loads, and the adapter it applies at run time: what the floor is measured on
            weights, applied = (cpu_weights(model, lora=lora) if args.cpu_copy and args.n_gpu_layers == 0
                                else (model, lora))
            for shots in args.shots:
                measure(args, name, model, lora, weights, applied, gold, schema, sentences, shots)


def measure(args, name: str, model: str, lora: str | None, weights: str, applied: str | None, gold, schema,
            sentences: Path, shots: int) -> None:
    """Both sides on one model and number of demonstrations, --repeats times alternated."""
    demos_path = "-"
    extra: list[str] = []
    if shots:
        demos_path = str(sentences.with_name("demos.jsonl"))
        extra = write_demos(Path(demos_path), schema, shots)
    runs: dict[int, list[dict]] = {parallel: [] for parallel in args.parallel}
    for repeat in range(1, args.repeats + 1):  # alternated, so drift hits both sides alike
        script, s_sec, s_mem = run([sys.executable, "benchmarks/baseline_script.py", model,
                                    str(sentences), ",".join(schema.entity_names), demos_path,
                                    str(args.threads), str(args.n_gpu_layers), *([lora] if lora else [])])
        for parallel in args.parallel:
            ours, o_sec, o_mem = run([
                sys.executable, "-m", "ieclid", "extract", "--lines", "-q", "--schema", "wnut17",
                "--threads", str(args.threads), "--model", name, "--parallel", str(parallel),
                "--n-gpu-layers", str(args.n_gpu_layers),
                "--cpu-copy" if args.cpu_copy else "--no-cpu-copy",
                str(sentences), *extra,
            ])
            # just after the run (the machine drifts), at the context the run's prompts had
            prefix = round(statistics.mean(r["usage"].get("cached_prompt_tokens", 0) for r in ours))
            context = round(statistics.mean(r["usage"]["prompt_tokens"] for r in ours))
            measured = rates(weights, args.threads, parallel, args.n_gpu_layers, lora=applied,
                             prefix=prefix, context=context)
            at_start = rates(weights, args.threads, parallel, args.n_gpu_layers, lora=applied)
            result = {
                "model": name, "shots": shots, "sentences": len(gold), "parallel": parallel,
                "repeat": repeat, "ieclid_model": ours[0]["model"] if ours else None,
                "script": summary(gold, script, s_sec, s_mem),
                "ieclid": summary(gold, ours, o_sec, o_mem, measured),
                "context": [prefix, context],
                "time_over_floor_at_empty_cache":
                    summary(gold, ours, o_sec, o_mem, at_start)["time_over_floor"],
                "speedup": round(s_sec / o_sec, 2),
                "model_mb": round(Path(model).stat().st_size / 2**20),
                "ieclid_weights_mb": round(Path(weights).stat().st_size / 2**20),
            }
            runs[parallel].append(result)
            print(orjson.dumps(result).decode(), flush=True)
    for parallel, results in runs.items() if args.repeats > 1 else ():
        over_floor = [r["ieclid"]["time_over_floor"] for r in results]
        print(orjson.dumps({
            "model": name, "shots": shots, "parallel": parallel, "repeats": args.repeats,
            "median_speedup": statistics.median(r["speedup"] for r in results),
            "median_time_over_floor": statistics.median(over_floor),
        }).decode(), flush=True)


def summary(gold, records: list[dict], seconds: float, peak_mb: float, rates_: tuple | None = None) -> dict:
    """One side's figures; with the measured rates, ieclid's compute floor and its time over it."""
    new_prompt = sum(r["usage"]["prompt_tokens"] - r["usage"].get("cached_prompt_tokens", 0) for r in records)
    generated = sum(r["usage"]["completion_tokens"] for r in records)
    forced = sum(r["usage"].get("forced_tokens", 0) for r in records)
    figures = {
        "sentences_per_second": round(len(gold) / seconds, 2), "seconds": round(seconds, 1),
        "prompt_tokens": sum(r["usage"]["prompt_tokens"] for r in records),
        "prompt_tokens_evaluated": new_prompt, "completion_tokens": generated, "forced_tokens": forced,
        "f1": round(f1(gold, records), 4), "peak_mb": round(peak_mb),
    }
    if rates_:
        # completion tokens the grammar forced up to its end are never decoded
        floor = new_prompt / rates_[0] + (generated - forced) / rates_[1]
        figures.update(rates=[round(rate) for rate in rates_], floor_seconds=round(floor, 1),
                       time_over_floor=round(seconds / floor, 2))
    return figures


if __name__ == "__main__":
    main()

"""ieclid against a competent llama-cpp-python script, model by model: entity F1 and speed.

For each model (the embedded default, and the two foreign GGUFs of `../shared/tools/foreign-ggufs`
where they are there: Qwen2.5-Coder-0.5B-Instruct, qwen2 with a ChatML template; Gemma 3 270M,
gemma3 without one), each data set (the first --limit test sentences of WNUT-17 and of CrossNER
AI) and each number of demonstrations (zero-shot and 4-shot, chosen by ieclid from the training
split and given to both sides), `ieclid extract --lines` and `benchmarks/baseline_script.py` run
as processes of their own on the same sentences with 2 threads, timed as a whole (loading
included). The script gets the same model file, and the default model's adapter through
llama-cpp-python's `lora_path`, as a user would apply it.

Prints one JSON object per row and a markdown table at the end.

Usage: python benchmarks/model_matrix.py [--limit 200] [--shots 0 4] [--sets wnut17 crossner_ai]
                                         [--models smollm2-ie qwen2 gemma3] [--threads 2]
                                         [--sides script ieclid] [--ieclid-args '--min-score 0.4']
(--sides ieclid re-measures ieclid alone, when only ieclid changed.)
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson
from throughput import ROOT, f1, run, write_demos

from ieclid.datasets import read_conll
from ieclid.models import bundled_adapter, resolve_model
from ieclid.schema import load_schema

DATA = ROOT.parent / "shared" / "data"
FOREIGN = Path.home() / ".cache" / "ieclid-foreign"
MODELS = {  # name -> (what ieclid's --model takes, the file)
    "smollm2-ie": ("smollm2-ie", None),
    "qwen2": (str(FOREIGN / "qwen2.5-coder-0.5b-instruct-Q4_K_M.gguf"), None),
    "gemma3": (str(FOREIGN / "gemma-3-270m-Q4_K_M.gguf"), None),
}
SETS = {  # name -> (schema, test file, training file)
    "wnut17": ("wnut17", DATA / "wnut17" / "test.conll", DATA / "wnut17" / "train_first2000.conll"),
    "crossner_ai": ("crossner_ai", DATA / "crossner" / "ai" / "test.txt",
                    DATA / "crossner" / "ai" / "train.txt"),
}


def available(names: list[str]) -> Iterator[tuple[str, str]]:
    """(name, what --model takes) of the models asked for whose files are here."""
    for name in names:
        given, _ = MODELS[name]
        if given.endswith(".gguf") and not Path(given).is_file():
            print(f"skipped {name}: run ../shared/tools/foreign-ggufs first", file=sys.stderr)
            continue
        yield name, given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--shots", type=int, nargs="+", default=[0, 4])
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sides", nargs="+", choices=["script", "ieclid"], default=["script", "ieclid"])
    parser.add_argument("--ieclid-args", default="", help="more options for ieclid, e.g. '--min-score 0.4'")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, given in available(args.models):
            path, lora = resolve_model(given), bundled_adapter(given)
            for set_name in args.sets:
                schema_name, test, train = SETS[set_name]
                schema = load_schema(schema_name)
                gold = list(read_conll(test))[: args.limit]
                sentences = Path(tmp) / f"{set_name}.txt"
                sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
                for shots in args.shots:
                    demos_path, extra = "-", []
                    if shots:
                        demos_path = str(Path(tmp) / f"{set_name}.demos.jsonl")
                        extra = write_demos(Path(demos_path), schema, shots, train)
                    row: dict = {"model": name, "set": set_name, "shots": shots, "sentences": len(gold)}
                    if "script" in args.sides:
                        script, s_sec, _ = run([
                            sys.executable, "benchmarks/baseline_script.py", path, str(sentences),
                            ",".join(schema.entity_names), demos_path, str(args.threads), "0",
                            *([lora] if lora else []),
                        ])
                        row.update(script_f1=round(100 * f1(gold, script), 1),
                                   script_per_s=round(len(gold) / s_sec, 2))
                    if "ieclid" in args.sides:
                        ours, o_sec, _ = run([
                            sys.executable, "-m", "ieclid", "extract", "--lines", "-q", "--schema",
                            schema_name, "--threads", str(args.threads), "--model", given, str(sentences),
                            *extra, *shlex.split(args.ieclid_args),
                        ])
                        row.update(ieclid_f1=round(100 * f1(gold, ours), 1),
                                   ieclid_per_s=round(len(gold) / o_sec, 2))
                    rows.append(row)
                    print(orjson.dumps(row).decode(), flush=True)
    print("\n| model | data | shots | script F1 | ieclid F1 | script sent/s | ieclid sent/s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [r.get(k, "-") for k in ("script_f1", "ieclid_f1", "script_per_s", "ieclid_per_s")]
        print(f"| {r['model']} | {r['set']} | {r['shots']} | " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()

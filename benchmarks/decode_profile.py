"""Where a batched `ieclid extract` run spends its time, against the throughput benchmark's floor.

Runs ieclid in this process on the throughput benchmark's inputs (the first --limit WNUT-17
sentences, the same demonstrations), timing every `llama_decode` and counting its rows: answer
rows (logits wanted: one per answer being generated) and prompt rows. In this process and on
the weights ieclid loaded, it measures the floor's two rates as the throughput benchmark does
(`throughput.rates`: best of five bursts, a 512-token prompt and --parallel answers after an
empty cache), before the run and after it: this shared machine drifts, so the floor takes the
better of the two and the pair shows how far the machine moved. The run's time over that floor
is split into what answer rows cost beyond the floor's batch, what prompt rows cost beyond the
floor's prompt burst (both attend over the shared prefix and the other answers' cells, which
the floor's shapes do not), the host's time between decodes (choosing tokens under the grammar,
the schedule, the documents' own work), and starting up (loading the model, the first prompt
waiting for its document).

--kv-layout also records llama.cpp's KV cache before every step (`LLAMA_KV_CACHE_DEBUG`): the
cells every row attends over (`n_kv`, the highest used cell rounded up to 256) against the cells
in use. It logs lines for every sequence at every step, so its timings are not the run's.

Usage: python benchmarks/decode_profile.py [--limit 200] [--shots 4] [--parallel 8] [--threads 2]
                                           [--model M] [--split test|dev] [--kv-layout]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson
from throughput import DATA, f1, rates, write_demos

from ieclid.backends.cpu_weights import cpu_weights
from ieclid.datasets import read_conll
from ieclid.models import resolve_model
from ieclid.schema import load_schema

FIND_SLOT = re.compile(rb"find_slot: stream\[\d+\], n = +(\d+), used = +(\d+)")


class Decodes:
    """llama_decode wrapped: per call its answer rows, prompt rows, start and seconds."""

    def __init__(self, llama_cpp) -> None:
        self.lc, self.original = llama_cpp, llama_cpp.llama_decode
        self.calls: list[tuple[int, int, float, float]] = []
        llama_cpp.llama_decode = self._decode

    def _decode(self, ctx, batch) -> int:
        rows = batch.n_tokens
        answers = sum(1 for row in range(rows) if batch.logits[row])
        started = time.perf_counter()
        status = self.original(ctx, batch)
        self.calls.append((answers, rows - answers, started, time.perf_counter() - started))
        return status

    def restore(self) -> None:
        self.lc.llama_decode = self.original


class KvLayout:
    """llama.cpp's find_slot debug lines (one per sequence in a step; the first of each step is
    kept): cells in use and the highest used cell before the step."""

    def __init__(self, llama_cpp, decodes: Decodes) -> None:
        import llama_cpp._logger as logger

        os.environ["LLAMA_KV_CACHE_DEBUG"] = "1"  # read when the batch engine makes its context
        self.steps: list[tuple[int, int]] = []
        self._last_call = -1
        self.decodes: Decodes | None = decodes  # None once stopped

        @llama_cpp.llama_log_callback
        def callback(level, text, user_data):
            match = FIND_SLOT.match(text)
            if match and self.decodes is not None and len(self.decodes.calls) != self._last_call:
                self._last_call = len(self.decodes.calls)
                self.steps.append((int(match[1]), int(match[2])))

        self.callback = callback  # kept: llama.cpp holds only the pointer
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
        logger.llama_log_callback = callback  # ieclid restores "the" callback after quiet loads

    def stop(self) -> None:
        self.decodes = None
        del os.environ["LLAMA_KV_CACHE_DEBUG"]  # the floor's contexts are timed

    def summary(self) -> dict:
        highest = [n for n, _ in self.steps]
        used = [u for _, u in self.steps]
        attended = Counter(max(256, -(-n // 256) * 256) for n in highest)
        return {"steps": len(self.steps), "mean_cells_used": round(statistics.fmean(used)),
                "mean_highest_cell": round(statistics.fmean(highest)),
                "n_kv_steps": {str(cells): steps for cells, steps in sorted(attended.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200, help="sentences (0: the whole split)")
    parser.add_argument("--shots", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model")
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    parser.add_argument("--kv-layout", action="store_true",
                        help="record the KV cache layout (perturbs the timings)")
    args = parser.parse_args()
    import llama_cpp

    from ieclid.cli import run

    model = resolve_model(args.model)
    weights, _ = cpu_weights(model)  # what ieclid loads on the CPU (its --cpu-copy default)
    schema = load_schema("wnut17")
    gold = list(read_conll(DATA / f"{args.split}.conll"))[: args.limit or None]
    before = rates(weights, args.threads, args.parallel)
    decodes = Decodes(llama_cpp)
    layout = KvLayout(llama_cpp, decodes) if args.kv_layout else None
    with tempfile.TemporaryDirectory() as tmp:
        sentences, output = Path(tmp) / "sentences.txt", Path(tmp) / "records.jsonl"
        sentences.write_text("\n".join(d.text for d in gold) + "\n", encoding="utf-8")
        extra = write_demos(Path(tmp) / "demos.jsonl", schema, args.shots) if args.shots else []
        started = time.perf_counter()
        code = run(["extract", "--lines", "-q", "--schema", "wnut17", "--threads", str(args.threads),
                    "--model", model, "--parallel", str(args.parallel), "-o", str(output), str(sentences),
                    *extra])
        wall = time.perf_counter() - started
        decodes.restore()
        if layout:
            layout.stop()
        if code:
            sys.exit(f"ieclid extract failed (exit {code})")
        records = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    after = rates(weights, args.threads, args.parallel)
    best = max(before[0], after[0]), max(before[1], after[1])
    print(orjson.dumps(profile(decodes.calls, wall, *best) | {
        "rates_before_and_after": [[round(rate) for rate in pair] for pair in (before, after)],
        "f1": round(f1(gold, records), 4), "sentences": len(gold), "shots": args.shots,
        "parallel": args.parallel, "weights": Path(weights).name,
        **({"kv_layout": layout.summary()} if layout else {}),
    }).decode())


def profile(calls, wall: float, prompt_rate: float, generation_rate: float) -> dict:
    """The run's time split over the floor: answer rows and prompt rows beyond the floor's rates,
    the host between decodes, and starting up."""
    answers = sum(c[0] for c in calls)
    prompts = sum(c[1] for c in calls)
    decode = sum(c[3] for c in calls)
    alone = [c for c in calls if c[0] and not c[1]]  # steps that only advance answers
    answer_ms = 1000 * sum(c[3] for c in alone) / sum(c[0] for c in alone)
    # steps that read prompts as well: what is left after their answer rows at the rate above
    mixed = [c for c in calls if c[1]]
    prompt_ms = (1000 * sum(c[3] for c in mixed) - answer_ms * sum(c[0] for c in mixed)) / prompts
    floor_answer_ms, floor_prompt_ms = 1000 / generation_rate, 1000 / prompt_rate
    floor = (answers * floor_answer_ms + prompts * floor_prompt_ms) / 1000
    host = sum(later[2] - (earlier[2] + earlier[3]) for earlier, later in itertools.pairwise(calls))
    seconds = {
        "floor": floor,
        "answer_rows_over_floor": answers * (answer_ms - floor_answer_ms) / 1000,
        "prompt_rows_over_floor": prompts * (prompt_ms - floor_prompt_ms) / 1000,
        "host_between_decodes": host,
        "start_and_end": wall - decode - host,
    }
    return {
        "wall_seconds": round(wall, 2), "decode_seconds": round(decode, 2), "steps": len(calls),
        "answer_rows": answers, "prompt_rows": prompts,
        "rates": [round(prompt_rate), round(generation_rate)],
        "ms_per_row": {"answer": round(answer_ms, 2), "floor_answer": round(floor_answer_ms, 2),
                       "prompt": round(prompt_ms, 2), "floor_prompt": round(floor_prompt_ms, 2)},
        "seconds": {name: round(value, 2) for name, value in seconds.items()},
        "time_over_floor": round(wall / floor, 2),
    }


if __name__ == "__main__":
    main()

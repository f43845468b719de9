"""What an answer row costs in the KV-cache layouts a batched run has, to see where time goes.

ieclid's batch engine keeps one unified llama.cpp KV cache: the shared prefix (instructions,
demonstrations) once, then each answer's own cells (its sentence, its answer so far). llama.cpp
computes every row's attention over all used cells up to the highest one (rounded up to 256),
masking the cells of other sequences, so a row pays for the prefix and for the other answers'
cells too. This times `--parallel` answer rows per `llama_decode` in six layouts: an empty
cache; the prefix only; the prefix plus each answer's own cells; the same with F16 keys instead
of ieclid's Q8_0 (`--cache-type-k auto`); the same with flash attention (whose CPU kernel
skips masked cells); the same with a KV stream per sequence instead (each row attends to its
own stream only; llama.cpp copies the prefix into a stream only as a whole stream, which is how
it is done here). Each figure is the best of --repeats bursts, alternated, because single bursts
on a shared machine spread widely.

Usage: python benchmarks/attention_cost.py [--prefix 530] [--own 40] [--parallel 8] [--threads 2]
                                           [--repeats 8] [--model M]
Prints one JSON object: milliseconds per answer row for each layout.
"""

from __future__ import annotations

import argparse
import ctypes
import time

import orjson

from ieclid.backends.cells import set_row
from ieclid.backends.key_cache import key_type
from ieclid.backends.weight_buffers import model_params
from ieclid.models import resolve_model

BATCH = 512


class Layout:
    """A context whose cache holds `prefix` cells shared by `parallel` sequences and `own` cells
    of each sequence; `burst()` times answer steps on top and then removes them again."""

    def __init__(self, lc, model, *, prefix: int, own: int, parallel: int, threads: int, flash: bool,
                 keys: int, streams: bool = False):
        self.lc = lc
        params = lc.llama_context_default_params()
        # a stream per sequence splits the context between them
        params.n_ctx = 1024 * (parallel + 1) if streams else 4096
        params.n_batch = params.n_ubatch = BATCH
        params.n_seq_max, params.kv_unified = parallel + 1, not streams
        params.n_threads = params.n_threads_batch = threads
        params.flash_attn_type = 1 if flash else 0
        params.type_k = keys
        self.ctx = lc.llama_init_from_model(model, params)
        self.memory = lc.llama_get_memory(self.ctx)
        self.batch = lc.llama_batch_init(BATCH, 0, parallel + 1)
        self.parallel, self.start = parallel, prefix + own
        everyone = (parallel,) if streams else tuple(range(parallel + 1))
        token = 1000  # the tokens do not matter for the cost
        for first in range(0, prefix, BATCH):
            self._decode([(token, pos, everyone, False) for pos in range(first, min(prefix, first + BATCH))])
        for seq in range(parallel if streams else 0):
            lc.llama_memory_seq_cp(self.memory, parallel, seq, -1, -1)  # done at the next decode
        for seq in range(parallel if own else 0):
            self._decode([(token, prefix + i, (seq,), False) for i in range(own)])

    def _decode(self, rows) -> None:
        for row, fields in enumerate(rows):
            set_row(self.batch, row, *fields)
        self.batch.n_tokens = len(rows)
        if self.lc.llama_decode(self.ctx, self.batch) != 0:
            raise SystemExit("llama_decode failed")

    def burst(self, steps: int = 16) -> float:
        """Milliseconds per answer row over `steps` steps of `parallel` rows."""
        started = time.perf_counter()
        for step in range(steps):
            self._decode([(1000, self.start + step, (seq,), True) for seq in range(self.parallel)])
        seconds = time.perf_counter() - started
        for seq in range(self.parallel):
            self.lc.llama_memory_seq_rm(self.memory, seq, self.start, -1)
        return seconds / steps / self.parallel * 1000

    def close(self) -> None:
        self.lc.llama_batch_free(self.batch)
        self.lc.llama_free(self.ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--prefix", type=int, default=530, help="shared prefix cells (4-shot WNUT-17: ~530)")
    parser.add_argument("--own", type=int, default=40, help="each answer's own cells")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    import llama_cpp as lc

    lc.llama_backend_init()
    silent = lc.llama_log_callback(lambda level, text, user_data: None)
    lc.llama_log_set(silent, ctypes.c_void_p(0))
    path = resolve_model(args.model)
    model = lc.llama_model_load_from_file(path.encode(), model_params())
    keys = key_type(lc, "auto", path, cpu=True)
    common = {"parallel": args.parallel, "threads": args.threads, "keys": keys}
    full = {"prefix": args.prefix, "own": args.own, **common}
    layouts = {
        "empty_cache": Layout(lc, model, prefix=0, own=0, flash=False, **common),
        "prefix": Layout(lc, model, prefix=args.prefix, own=0, flash=False, **common),
        "prefix_and_own": Layout(lc, model, flash=False, **full),
        "prefix_and_own_f16_keys": Layout(lc, model, flash=False, **(full | {"keys": lc.GGML_TYPE_F16})),
        "prefix_and_own_flash_attention": Layout(lc, model, flash=True, **full),
        "prefix_and_own_stream_per_sequence": Layout(lc, model, flash=False, streams=True, **full),
    }
    best = dict.fromkeys(layouts, float("inf"))
    for _ in range(args.repeats):
        for name, layout in layouts.items():
            best[name] = min(best[name], layout.burst())
    for layout in layouts.values():
        layout.close()
    lc.llama_model_free(model)
    rows = {name: round(ms, 2) for name, ms in best.items()}
    print(orjson.dumps({"ms_per_answer_row": rows, **vars(args)}).decode())


if __name__ == "__main__":
    main()

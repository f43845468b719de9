"""What the default model's adapter costs per token on the CPU: the plain model's Q8_0 copy
against the default's copy with the adapter merged in, llama.cpp's rates alone.

Whole runs cannot compare the two: the plain model answers differently (it loops, writing many
times the tokens). So `throughput.rates` measures both files the way the throughput benchmark's
floor does (prompt tokens after a 200-token cached prefix; 8 sequences decoded together after a
230-token prompt, about a zero-shot prompt's), best of --bursts bursts, the files alternated
--rounds times; prints each measurement and the medians.

Usage: python benchmarks/adapter_cost.py [--rounds 5] [--bursts 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics

from throughput import rates

from ieclid.backends.cpu_weights import cpu_weights
from ieclid.models import bundled_adapter, resolve_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    default = cpu_weights(resolve_model("smollm2-ie"), lora=bundled_adapter("smollm2-ie"))[0]
    files = {"plain": cpu_weights(resolve_model("smollm2"))[0], "default (adapter merged)": default}
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in files}
    for _ in range(args.rounds):
        for name, path in files.items():
            measured[name].append(rates(path, args.threads, 8, repeats=args.bursts, prefix=200, context=230))
            print(name, [round(rate) for rate in measured[name][-1]], flush=True)
    print("\n| model | prompt tokens/s | decoded tokens/s (8 together) |\n|---|---|---|")
    for name, values in measured.items():
        prompt, decode = (statistics.median(v[i] for v in values) for i in (0, 1))
        print(f"| {name} | {prompt:.0f} | {decode:.0f} |")


if __name__ == "__main__":
    main()

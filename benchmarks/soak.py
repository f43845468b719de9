"""Soak: many short documents through `ieclid extract --lines`, watching memory and counting records.

Runs the CLI as a user would (a process of its own, writing to a file) on --docs short lines
(WNUT-17 test sentences, repeated as needed), samples the process's resident memory as records
are written, and prints one JSON object: documents, records, RSS (MiB) once the first --warm
records are out (model loaded, caches warm) and at the end, their ratio, and the time.

Usage: python benchmarks/soak.py [--docs 5000] [--warm 200] [--threads 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from throughput import ROOT

from ieclid.datasets import read_conll

DATA = ROOT.parent / "shared" / "data" / "wnut17" / "test.conll"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def lines_in(path: Path) -> int:
    parts = list(path.parent.glob(f".{path.name}.*.part"))
    return parts[0].read_bytes().count(b"\n") if parts else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    sentences = [d.text for d in read_conll(DATA)]
    with tempfile.TemporaryDirectory() as tmp:
        text, out = Path(tmp) / "docs.txt", Path(tmp) / "out.jsonl"
        text.write_text("\n".join(sentences[i % len(sentences)] for i in range(args.docs)) + "\n")
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "ieclid", "extract", "-q", "--lines", "--threads",
                                 str(args.threads), "-o", str(out), str(text)], cwd=ROOT)
        warm = last = 0.0
        while proc.poll() is None:
            try:
                rss = rss_mib(proc.pid)
            except FileNotFoundError:
                break
            done = lines_in(out)
            if not warm and done >= args.warm:
                warm = rss
            if rss:
                last = rss
            time.sleep(0.5)
        seconds = time.monotonic() - started
        records = out.read_bytes().count(b"\n") if out.exists() else 0
    print(orjson.dumps({
        "docs": args.docs, "records": records, "exit": proc.returncode,
        "rss_warm_mib": round(warm, 1), "rss_end_mib": round(last, 1),
        "end_over_warm": round(last / warm, 3) if warm else None, "seconds": round(seconds, 1),
    }).decode())


if __name__ == "__main__":
    main()

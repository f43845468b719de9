"""Run `ieclid extract` on a real ~200 KB document and check every exact entity's offsets.

The document is built from real sentences in ../shared/data (CaRB's Wikipedia and news
sentences, then PHEE's case reports), five to a paragraph, until it reaches --size bytes.

Usage: python benchmarks/long_document.py [--size 200000] [--keep doc.txt]
Prints one JSON object: bytes, seconds, entities by status, offset errors (must be 0).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def build_document(size: int) -> str:
    sentences = []
    for name in ("test.txt", "dev.txt"):
        sentences += (DATA / "carb" / "data" / name).read_text(encoding="utf-8").splitlines()
    for line in (DATA / "phee" / "test.jsonl").read_bytes().splitlines():
        sentences.append(orjson.loads(line)["context"])
    paragraphs, total = [], 0
    for i in range(0, len(sentences), 5):
        paragraph = " ".join(s.strip() for s in sentences[i : i + 5] if s.strip())
        paragraphs.append(paragraph)
        total += len(paragraph.encode()) + 2
        if total >= size:
            break
    return "\n\n".join(paragraphs) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--keep", help="also save the document here")
    args = parser.parse_args()
    text = build_document(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or Path(tmp) / "long.txt")
        path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "ieclid", "extract", "--task", "ner",
             "--labels", "person,location,organization", "-q", str(path)],
            capture_output=True, check=False,
        )
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"ieclid failed ({result.returncode}): {result.stderr.decode()}")
    (record,) = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert record["text"] == text
    statuses: dict[str, int] = {}
    bad = 0
    for entity in record["entities"]:
        statuses[entity["status"]] = statuses.get(entity["status"], 0) + 1
        if entity["status"] == "exact" and text[entity["start"] : entity["end"]] != entity["text"]:
            bad += 1
    print(orjson.dumps({
        "bytes": len(text.encode()),
        "seconds": round(seconds, 1),
        "entities": len(record["entities"]),
        "by_status": statuses,
        "offset_errors": bad,
        "warnings": len(record["warnings"]),
        "prompt_tokens": record["usage"]["prompt_tokens"],
        "completion_tokens": record["usage"]["completion_tokens"],
    }).decode())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

"""Export and import whole files: which format writes where, and what a path must hold."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from ieclid.errors import UsageError
from ieclid.exchange import EXPORTS, IMPORTS, brat, conll, doccano, labelstudio


def export_records(fmt: str, records: list[dict], out: str | None, *, user: str | None = None,
                   doccano_layout: str = "relation") -> int:
    """Write `records` in `fmt` to `out` (a directory for brat, with its annotation.conf and
    visual.conf; stdout when None for the rest). `user`: the Label Studio user reviewed
    annotations are credited to. Returns how many items the format could not hold (unplaced
    spans, events in doccano, ...)."""
    records = [r for r in records if "error" not in r and isinstance(r.get("text"), str)]
    skipped = 0
    if fmt == "brat":
        if not out:
            raise UsageError("--to brat writes a .txt and an .ann file per document: give --output DIRECTORY")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        for record in records:
            stem = brat.file_stem(str(record["id"]), taken)
            ann, missing = brat.export_record(record)
            (folder / f"{stem}.txt").write_text(record["text"], encoding="utf-8")
            (folder / f"{stem}.ann").write_text(ann, encoding="utf-8")
            skipped += missing
        annotation, visual = brat.configuration(records)
        (folder / "annotation.conf").write_text(annotation, encoding="utf-8")
        (folder / "visual.conf").write_text(visual, encoding="utf-8")
        return skipped
    if fmt == "labelstudio":
        tasks = []
        for record in records:
            task, missing = labelstudio.export_record(record, user)
            tasks.append(task)
            skipped += missing
        data = orjson.dumps(tasks, option=orjson.OPT_INDENT_2) + b"\n"
    elif fmt in ("doccano", "conll"):
        chunks = []
        for record in records:
            if fmt == "doccano":
                line, missing = doccano.export_record(record, doccano_layout)
                chunks.append(orjson.dumps(line) + b"\n")
            else:
                text, missing = conll.export_record(record)
                chunks.append(text.encode("utf-8"))
            skipped += missing
        data = b"".join(chunks)
    else:
        raise UsageError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORTS)}")
    if out:
        Path(out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return skipped


def import_records(fmt: str, path: str) -> list[dict]:
    """Records from a doccano JSONL file, a Label Studio JSON export, or a brat folder (or .txt)."""
    source = Path(path)
    if not source.exists():
        raise UsageError(f"not found: {path}")
    try:
        if fmt == "brat":
            texts = sorted(source.glob("*.txt")) if source.is_dir() else [source]
            if not texts:
                raise UsageError(f"{path}: no .txt files (brat keeps each document as NAME.txt + NAME.ann)")
            names = brat.shown_names(texts[0].parent)
            return [brat.import_document(txt, names) for txt in texts]
        data = source.read_bytes()
        if fmt == "doccano":
            lines = [orjson.loads(line) for line in data.splitlines() if line.strip()]
            return [doccano.import_line(line, f"{source.stem}:{n}") for n, line in enumerate(lines, start=1)]
        if fmt == "labelstudio":
            tasks = orjson.loads(data)
            if isinstance(tasks, dict):
                tasks = [tasks]
            return [labelstudio.import_task(t, f"{source.stem}:{n}") for n, t in enumerate(tasks, start=1)]
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path}: not {fmt} JSON ({exc})") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise UsageError(f"{path}: not a {fmt} export ({type(exc).__name__}: {exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    raise UsageError(f"unknown import format {fmt!r}; choose from {', '.join(IMPORTS)}")

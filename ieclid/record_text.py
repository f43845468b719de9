"""Records as text a person reads (`--format pretty`, the default on a terminal) or a
spreadsheet takes (`--format tsv`), beside the JSON Lines that programs read.

Pretty: the document's id, then one line per item: label, text, offsets, score. TSV: a header,
then one row per item: id, kind, label, text, start, end, score, and for relations the two
ends' texts (head, tail); tabs and newlines inside a field become spaces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

FORMATS = ("jsonl", "pretty", "tsv")
TSV_HEADER = ("id", "kind", "label", "text", "start", "end", "score", "head", "tail")


def said(text: str) -> str:
    """A name as two mentions of it compare equal: spacing collapsed, case folded."""
    return " ".join(text.split()).casefold()


def encoder(layout: str) -> tuple[bytes, Callable[[dict[str, Any]], bytes]]:
    """(what the output starts with, how each record is written) for a format of FORMATS."""
    if layout == "pretty":
        return b"", lambda record: pretty(record).encode("utf-8")
    if layout == "tsv":
        return _tsv_line(TSV_HEADER), lambda record: b"".join(_tsv_line(row) for row in tsv_rows(record))
    return b"", lambda record: orjson.dumps(record) + b"\n"


def items(record: dict[str, Any]) -> int:
    """How many items a record holds: entities, relations, events, tuples and table rows."""
    table = record.get("table") or {}
    return sum(len(record.get(kind) or []) for kind in ("entities", "relations", "events", "tuples")) + len(
        table.get("rows") or [])


def referent(record: dict[str, Any]) -> Callable[[object], dict[str, Any] | None]:
    """What an item's reference (a relation's end, an argument, a tuple's slot) stands for, as an
    entity: an entity id gives the entity, an event id its trigger; None for anything else."""
    names = {e.get("id"): e for e in record.get("entities") or []}
    triggers = {e.get("id"): names.get(e.get("trigger")) for e in record.get("events") or []}
    return lambda ref: triggers[ref] if ref in triggers else names.get(ref)


def pretty(record: dict[str, Any]) -> str:
    entity_of = referent(record)

    def said(ref: object) -> str:
        entity = entity_of(ref)
        return f"{entity.get('text')!r}" if entity else "-"

    lines = [str(record.get("id"))]
    if record.get("error"):
        return f"{lines[0]}\n  error: {record['error']}\n\n"
    for entity in record.get("entities") or []:
        where = f"{entity['start']}-{entity['end']}" if entity.get("start") is not None else "not in text"
        marks = " (propagated)" if entity.get("propagated") else ""
        lines.append(f"  {entity.get('label', ''):<16} {entity.get('text', '')!r:<32} {where:<11}"
                     f"{_score(entity)}{marks}")
    for relation in record.get("relations") or []:
        lines.append(f"  {relation.get('label', '')}: {said(relation.get('head'))} -> "
                     f"{said(relation.get('tail'))}  {_score(relation)}")
    for event in record.get("events") or []:
        arguments = ", ".join(f"{a.get('role')}={said(a.get('ref'))}" for a in event.get("arguments") or [])
        lines.append(f"  event {event.get('label')}: {said(event.get('id'))}"
                     + (f" ({arguments})" if arguments else "") + f"  {_score(event)}")
    for item in record.get("tuples") or []:
        slots = ", ".join(f"{k}={said(v)}" for k, v in item.items() if k not in ("id", "score") and v)
        lines.append(f"  tuple {slots}  {_score(item)}")
    table = record.get("table")
    if table and table.get("columns"):
        lines.append("  | " + " | ".join(table["columns"]) + " |")
        lines.extend("  | " + " | ".join(row) + " |" for row in table.get("rows") or [])
    if len(lines) == 1:
        lines.append("  (nothing found)")
    lines.extend(f"  warning: {warning}" for warning in record.get("warnings") or [])
    return "\n".join(lines) + "\n\n"


def tsv_rows(record: dict[str, Any]) -> list[tuple[object, ...]]:
    doc = record.get("id")
    if record.get("error"):
        return [(doc, "error", "", record["error"], "", "", "", "", "")]
    entity_of = referent(record)

    def text(ref: object) -> str:
        return str((entity_of(ref) or {}).get("text", ""))

    rows: list[tuple[object, ...]] = []
    for e in record.get("entities") or []:
        rows.append((doc, "entity", e.get("label"), e.get("text"), e.get("start"), e.get("end"),
                     e.get("score"), "", ""))
    for r in record.get("relations") or []:
        rows.append((doc, "relation", r.get("label"), "", "", "", r.get("score"), text(r.get("head")),
                     text(r.get("tail"))))
    for ev in record.get("events") or []:
        trigger = entity_of(ev.get("id")) or {}
        rows.append((doc, "event", ev.get("label"), trigger.get("text"), trigger.get("start"),
                     trigger.get("end"), ev.get("score"), "", ""))
    for t in record.get("tuples") or []:
        rows.append((doc, "tuple", text(t.get("predicate")), "", "", "", t.get("score"),
                     text(t.get("subject")), text(t.get("object"))))
    table = record.get("table") or {}
    for row in table.get("rows") or []:
        rows.append((doc, "row", "", " | ".join(row), "", "", "", "", ""))
    return rows


def _score(item: dict[str, Any]) -> str:
    return f"{item['score']:.2f}" if isinstance(item.get("score"), int | float) else ""


def _tsv_line(fields: tuple[object, ...]) -> bytes:
    cells = ("" if f is None else str(f).replace("\t", " ").replace("\r", " ").replace("\n", " ")
             for f in fields)
    return ("\t".join(cells) + "\n").encode("utf-8")

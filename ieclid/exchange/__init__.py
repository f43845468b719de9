"""Annotation-tool formats: ieclid records out to doccano, Label Studio, brat and CoNLL, and back in.

Exports carry what the target format can hold: placed spans (unplaced items have no
offsets), relations between them, and events with their arguments where the format has
events. Items an annotator rejected in `ieclid review` are left out. Imports make ieclid
records again, so review, eval and export work on annotations from those tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXPORTS = ("doccano", "labelstudio", "brat", "conll")
IMPORTS = ("doccano", "labelstudio", "brat")


def rejected(item: dict) -> bool:
    return (item.get("review") or {}).get("state") == "rejected"


@dataclass
class Items:
    """The exportable part of one record, with what had to be left out counted."""

    entities: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    skipped: int = 0


def exportable(record: dict) -> Items:
    """Placed, not rejected entities; relations and events whose ends are among them."""
    items = Items()
    for entity in record.get("entities", []):
        if rejected(entity):
            continue
        if entity.get("start") is None:
            items.skipped += 1
            continue
        items.entities.append(entity)
    ids = {e["id"] for e in items.entities}
    for event in record.get("events", []):
        if rejected(event) or event.get("trigger") not in ids:
            items.skipped += 1 if not rejected(event) else 0
            continue
        arguments = [a for a in event.get("arguments", []) if a.get("ref") in ids and not rejected(a)]
        items.events.append({**event, "arguments": arguments})
    ends = ids | {e["id"] for e in items.events}
    for relation in record.get("relations", []):
        if rejected(relation):
            continue
        if relation.get("head") in ends and relation.get("tail") in ends:
            items.relations.append(relation)
        else:
            items.skipped += 1
    return items


def as_the_model_gave(record: dict) -> dict:
    """The record before review: items the reviewer added left out, edited ones with the
    values the model gave (`review.original`), rejected ones back; no review state."""
    def original(item: dict) -> dict | None:
        review = item.get("review") or {}
        if review.get("state") == "added":
            return None
        plain = {k: v for k, v in item.items() if k != "review"}
        plain.update(review.get("original") or {})
        return plain

    model = {**record}
    model.pop("review", None)
    for kind in ("entities", "relations", "events"):
        items = [original(item) for item in record.get(kind) or []]
        model[kind] = [item for item in items if item is not None]
    kept = {e["id"] for e in model["entities"]}
    for event in model["events"]:
        event["arguments"] = [a for a in (original(a) for a in event.get("arguments") or [])
                              if a is not None and a.get("ref") in kept]
    return model


def new_record(doc_id: str, text: str, source: str) -> dict:
    """An imported document as an ieclid record (task inferred from what it holds)."""
    return {"id": doc_id, "task": "ner", "schema": source, "model": source, "profile": source, "text": text,
            "entities": []}


def add_entity(record: dict, label: str, start: int, end: int, extra: dict | None = None) -> str:
    entity = {"id": f"T{len(record['entities']) + 1}", "label": label, "text": record["text"][start:end],
              "start": start, "end": end, "status": "exact", **(extra or {})}
    record["entities"].append(entity)
    return entity["id"]


def finish(record: dict) -> dict:
    """Set the task from the content: events → ee, relations → re, else ner."""
    if record.get("events"):
        record["task"] = "ee"
    elif record.get("relations"):
        record["task"] = "re"
    return record

"""doccano JSONL in its two project layouts: relation extraction, `{"text", "entities": [{id,
label, start_offset, end_offset}], "relations": [{id, from_id, to_id, type}]}`, and sequence
labelling, `{"text", "label": [[start, end, label]]}` (spans only). Imports take both."""

from __future__ import annotations

from ieclid.exchange import add_entity, exportable, finish, new_record

LAYOUTS = ("relation", "sequence")


def export_record(record: dict, layout: str = "relation") -> tuple[dict, int]:
    items = exportable(record)
    if layout == "sequence":
        spans = [[e["start"], e["end"], e["label"]] for e in items.entities]
        return ({"id": record["id"], "text": record["text"], "label": spans},
                items.skipped + len(items.events) + len(items.relations))
    number = {e["id"]: n for n, e in enumerate(items.entities, start=1)}
    entities = [
        {"id": number[e["id"]], "label": e["label"], "start_offset": e["start"], "end_offset": e["end"]}
        for e in items.entities
    ]
    between_spans = [r for r in items.relations if r["head"] in number and r["tail"] in number]
    relations = [
        {"id": n, "from_id": number[r["head"]], "to_id": number[r["tail"]], "type": r["label"]}
        for n, r in enumerate(between_spans, start=1)
    ]
    line = {"id": record["id"], "text": record["text"], "entities": entities, "relations": relations}
    # doccano has no events, nor relations between them
    return line, items.skipped + len(items.events) + len(items.relations) - len(between_spans)


def import_line(line: dict, fallback_id: str) -> dict:
    record = new_record(str(line.get("id", fallback_id)), line["text"], "doccano")
    ids = {}
    for entity in line.get("entities") or []:
        start, end = entity["start_offset"], entity["end_offset"]
        ids[entity.get("id")] = add_entity(record, entity["label"], start, end)
    for start, end, label in line.get("label") or []:
        add_entity(record, label, start, end)
    relations = [
        {"id": f"R{n}", "label": r["type"], "head": ids[r["from_id"]], "tail": ids[r["to_id"]]}
        for n, r in enumerate(line.get("relations") or [], start=1)
    ]
    if relations:
        record["relations"] = relations
    return finish(record)

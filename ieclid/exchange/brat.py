"""brat standoff: per document `NAME.txt` and `NAME.ann` with T (spans), R (relations), E (events:
trigger and role arguments) and A (attributes: the review state of each item) lines, and for
the folder the `annotation.conf` that declares every type used (brat flags undeclared ones)
and a `visual.conf` with a colour per type."""

from __future__ import annotations

import re
from pathlib import Path

from ieclid.exchange import add_entity, exportable, finish, new_record
from ieclid.label_colours import label_colours

_UNSAFE = re.compile(r"[^\w.-]+")
_NOT_STORED = re.compile(r"[^A-Za-z0-9_-]")  # brat keeps type names in this alphabet alone
REVIEW_STATES = ("accepted", "rejected", "edited", "added")


def file_stem(doc_id: str, taken: set[str]) -> str:
    """A file name for a document id (paths and `:N` line numbers made safe, kept unique)."""
    stem = _UNSAFE.sub("_", doc_id).strip("_.") or "doc"
    candidate, n = stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}_{n}"
    taken.add(candidate)
    return candidate


def _label(name: str) -> str:
    """A type name as brat stores it: letters, digits, _ and - (brat's own normal form)."""
    return _NOT_STORED.sub("_", name.replace(" ", "_")) or "_"


def configuration(records: list[dict]) -> tuple[str, str]:
    """annotation.conf and visual.conf for the types the exported records use: span types,
    event types (their triggers' type) with the roles seen, relation types, and the Review
    attribute that carries review states."""
    spans: list[str] = []
    events: dict[str, list[str]] = {}
    relations: list[str] = []
    shown: dict[str, str] = {}  # stored name -> the name in the records, which brat displays
    for record in records:
        for item in [*(record.get("entities") or []), *(record.get("relations") or []),
                     *(record.get("events") or [])]:
            shown.setdefault(_label(item["label"]), item["label"])
        for event in record.get("events") or []:
            for argument in event.get("arguments") or []:
                shown.setdefault(_label(argument["role"]), argument["role"])
        items = exportable(record)
        triggers = {e["trigger"] for e in items.events}
        for entity in items.entities:
            name = _label(entity["label"])
            if entity["id"] not in triggers and name not in spans:
                spans.append(name)
        for event in items.events:
            roles = events.setdefault(_label(event["label"]), [])
            roles += [r for r in (_label(a["role"]) for a in event["arguments"]) if r not in roles]
        for relation in items.relations:
            if _label(relation["label"]) not in relations:
                relations.append(_label(relation["label"]))
    annotation = ["[entities]", *spans, "", "[relations]",
                  *(f"{name}\tArg1:<ANY>, Arg2:<ANY>" for name in relations), "", "[events]"]
    annotation += [f"{name}\t" + ", ".join(f"{role}*:<ENTITY>" for role in roles) if roles else name
                   for name, roles in events.items()]
    annotation += ["", "[attributes]", f"Review\tArg:<ANY>, Value:{'|'.join(REVIEW_STATES)}", ""]
    drawing = [f"{name}\tbgColor:{colour}" for name, colour in label_colours([*spans, *events]).items()]
    visual = ["[labels]", *(f"{name} | {shown.get(name, name)}" for name in shown),
              "", "[drawing]", *drawing,
              "SPAN_DEFAULT\tfgColor:black, bgColor:lightgreen, borderColor:darken",
              "ARC_DEFAULT\tcolor:black, arrowHead:triangle-5", ""]
    return "\n".join(annotation), "\n".join(visual)


def export_record(record: dict) -> tuple[str, int]:
    """The .ann text of one record, and how many items it could not hold."""
    items = exportable(record)
    lines: list[str] = []
    attributes = 0
    tid = {}

    def attribute(target: str, item: dict) -> None:
        nonlocal attributes
        state = (item.get("review") or {}).get("state")
        if state:
            attributes += 1
            lines.append(f"A{attributes}\tReview {target} {state}")

    for n, entity in enumerate(items.entities, start=1):
        tid[entity["id"]] = f"T{n}"
        text = record["text"][entity["start"] : entity["end"]].replace("\n", " ")
        lines.append(f"T{n}\t{_label(entity['label'])} {entity['start']} {entity['end']}\t{text}")
        attribute(f"T{n}", entity)
    eid = {}
    for n, event in enumerate(items.events, start=1):
        eid[event["id"]] = f"E{n}"
        trigger = tid[event["trigger"]]
        seen: dict[str, int] = {}
        args = ""
        for argument in event["arguments"]:
            role = _label(argument["role"])
            seen[role] = seen.get(role, 0) + 1
            args += f" {role}{seen[role] if seen[role] > 1 else ''}:{tid[argument['ref']]}"
        lines.append(f"E{n}\t{_label(event['label'])}:{trigger}{args}")
        attribute(f"E{n}", event)
    ends = {**tid, **eid}
    for n, relation in enumerate(items.relations, start=1):
        head, tail = ends[relation["head"]], ends[relation["tail"]]
        lines.append(f"R{n}\t{_label(relation['label'])} Arg1:{head} Arg2:{tail}")
        attribute(f"R{n}", relation)
    return "".join(line + "\n" for line in lines), items.skipped


def shown_names(folder: Path) -> dict[str, str]:
    """Stored type name -> the name it stands for, from the folder's visual.conf ([labels]
    `STORED | SHOWN`), as ieclid's export writes it: names brat cannot store come back whole."""
    conf = folder / "visual.conf"
    names: dict[str, str] = {}
    section = ""
    for line in conf.read_text(encoding="utf-8").splitlines() if conf.is_file() else []:
        if line.strip().startswith("["):
            section = line.strip()
        elif section == "[labels]" and "|" in line:
            stored, display = (part.strip() for part in line.split("\t")[0].split("|")[:2])
            names[stored] = display
    return names


def import_document(txt: Path, names: dict[str, str] | None = None) -> dict:
    """One `.txt` and its `.ann` (missing .ann: no annotations) as a record; `names` maps
    stored type names back (`shown_names`)."""
    names = names or {}
    text = txt.read_text(encoding="utf-8")
    record = new_record(txt.stem, text, "brat")
    ann = txt.with_suffix(".ann")
    lines = ann.read_text(encoding="utf-8").splitlines() if ann.is_file() else []
    ids: dict[str, str] = {}
    events: list[tuple[str, str, str, list[tuple[str, str]]]] = []
    relations: list = []
    states: dict = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        key, body = parts[0], parts[1] if len(parts) > 1 else ""
        try:
            if key.startswith("T"):
                label, offsets = body.split(" ", 1)
                numbers = [int(x) for x in re.split(r"[ ;]", offsets)]
                ids[key] = add_entity(record, names.get(label, label), min(numbers), max(numbers))  # extent
            elif key.startswith("E"):
                trigger, *arguments = body.split()
                label, trigger_id = trigger.split(":")
                args = [a.split(":") for a in arguments]
                if trigger_id not in ids:
                    raise ValueError(trigger_id)
                roles = [(re.sub(r"\d+$", "", role), ref) for role, ref in args]  # Drug2 -> Drug
                roles = [(names.get(role, role), ref) for role, ref in roles]
                events.append((key, names.get(label, label), trigger_id, roles))
            elif key.startswith("R"):
                label, arg1, arg2 = body.split()
                relations.append((key, names.get(label, label), arg1.split(":")[1], arg2.split(":")[1]))
            elif key.startswith("A"):
                name, target, *value = body.split()
                if name == "Review" and value:
                    states[target] = value[0]
        except (ValueError, IndexError):
            raise ValueError(f"{ann}:{number}: not a brat annotation line: {line[:60]!r}") from None
    event_ids = {}
    if events:
        record["events"] = []
        for key, label, trigger, roles in events:
            event_ids[key] = f"E{len(record['events']) + 1}"
            record["events"].append({
                "id": event_ids[key], "label": label, "trigger": ids[trigger],
                "arguments": [{"role": role, "ref": ids[ref]} for role, ref in roles if ref in ids],
            })
    ends = {**ids, **event_ids}
    if relations:
        record["relations"] = [
            {"id": f"R{n}", "label": label, "head": ends[a], "tail": ends[b]}
            for n, (_, label, a, b) in enumerate(relations, start=1)
        ]
    items = {**{k: e for k, e in zip(ids, record["entities"], strict=True)},
             **{k: e for k, e in zip(event_ids, record.get("events", []), strict=True)},
             **{key: r for (key, *_), r in zip(relations, record.get("relations", []), strict=True)}}
    for key, state in states.items():
        if key in items:
            items[key]["review"] = {"state": state}
    return finish(record)

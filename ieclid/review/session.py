"""A review session: the annotator's decisions on a result file, saved the moment they are made.

The reviewed file is the input's records with review state added: every item an annotator
touched gets `review: {state, by, at}` (state: accepted, rejected, edited or added; an
edited item keeps its model version under `review.original`), and a finished document
gets `review: {done: true, ...}` at the record level. Each decision rewrites the file
atomically (a temporary file, then a rename), so a crash or a kill loses nothing decided
before it, and reopening the same output resumes at the first unfinished document.
"""

from __future__ import annotations

import copy
import getpass
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ieclid.errors import UsageError
from ieclid.outputs import write_whole

KINDS = ("entities", "relations", "events", "tuples")
LABEL_KEY = {"entities": "label", "relations": "label", "events": "label", "arguments": "role"}
STATES = ("accepted", "rejected", "edited", "added")
_WORD = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class ItemRef:
    kind: str  # entities, relations, events, arguments (id: EVENT#N), tuples
    id: str


def load(path: Path) -> list[dict]:
    if not path.is_file():
        raise UsageError(f"results file not found: {path}")
    records = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if line.strip():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise UsageError(f"{path}:{number}: not a JSON record") from None
            if not isinstance(record, dict) or not (isinstance(record.get("text"), str) or "error" in record):
                raise UsageError(f"{path}:{number}: not an ieclid record (no text)")
            records.append(record)
    if not records:
        raise UsageError(f"{path}: no records to review")
    return records


def save(path: Path, records: list[dict]) -> None:
    """Write all records atomically: the old file stays whole until the new one replaces it."""
    write_whole(path, b"".join(orjson.dumps(r) + b"\n" for r in records))


class Session:
    """Documents, the current position, decisions with undo/redo, and the file they go to."""

    def __init__(self, results: Path, out: Path | None = None, user: str | None = None) -> None:
        self.out = out or results.with_name(results.stem + ".reviewed.jsonl")
        # Reopening the reviewed file resumes it; otherwise start from the results. Error
        # records (documents extraction failed on) are kept in the file but not shown.
        self._all = load(self.out if self.out.is_file() else results)
        self.records = [r for r in self._all if isinstance(r.get("text"), str)]
        if not self.records:
            raise UsageError(f"{results}: no documents to review (only error records)")
        self.user = user or getpass.getuser()
        self.labels = _labels(self.records)
        self.doc = next((i for i, r in enumerate(self.records) if not _done(r)), len(self.records) - 1)
        self.item = 0
        self.filter: str | None = None  # unreviewed, unplaced, low (score < 0.5) or label:NAME
        self._undo: list[tuple[int, dict]] = []
        self._redo: list[tuple[int, dict]] = []
        save(self.out, self._all)

    # -- where we are -----------------------------------------------------------------
    @property
    def record(self) -> dict:
        return self.records[self.doc]

    def items(self, record: dict | None = None, filtered: bool = True) -> list[ItemRef]:
        """The document's items in list order, those the filter lets through."""
        record = record or self.record
        refs = []
        for kind in KINDS:
            for item in record.get(kind, []):
                if "id" not in item:
                    continue
                if not filtered or self._passes(item):
                    refs.append(ItemRef(kind, item["id"]))
                for n, argument in enumerate(item.get("arguments", []) if kind == "events" else []):
                    if not filtered or self._passes(argument):
                        refs.append(ItemRef("arguments", f"{item['id']}#{n}"))
        return refs

    def _passes(self, item: dict) -> bool:
        match self.filter:
            case None:
                return True
            case "unreviewed":
                return not item.get("review")
            case "unplaced":
                return "start" in item and item.get("start") is None
            case "low":
                return item.get("score") is not None and item["score"] < 0.5
            case label:
                return label.removeprefix("label:") in (item.get("label"), item.get("role"))

    def set_filter(self, name: str | None) -> None:
        self.filter = name
        self.item = 0

    def get(self, ref: ItemRef, record: dict | None = None) -> dict:
        record = record or self.record
        if ref.kind == "arguments":
            event_id, n = ref.id.split("#")
            return self.get(ItemRef("events", event_id), record)["arguments"][int(n)]
        return next(i for i in record.get(ref.kind, []) if i.get("id") == ref.id)

    def choices(self, ref: ItemRef) -> list[str]:
        """What the item's label (an argument's role) can become."""
        return self.labels.get(ref.kind, [])

    @property
    def current(self) -> ItemRef | None:
        items = self.items()
        return items[min(self.item, len(items) - 1)] if items else None

    def move_doc(self, step: int) -> None:
        self.doc = max(0, min(len(self.records) - 1, self.doc + step))
        self.item = 0

    def move_item(self, step: int) -> None:
        self.item = max(0, min(len(self.items()) - 1, self.item + step))

    def next_unreviewed(self) -> bool:
        """Go to the next item without a decision (this document first, then the next ones)."""
        for offset in range(len(self.records)):
            doc = (self.doc + offset) % len(self.records)
            refs = self.items(self.records[doc])
            start = self.item + 1 if offset == 0 else 0
            for index in range(start, len(refs)):
                if not self.get(refs[index], self.records[doc]).get("review"):
                    self.doc, self.item = doc, index
                    return True
        return False

    def label_text(self, ref: ItemRef) -> str:
        """How an item reads in a list: entities by their text, the rest by what they join."""
        item = self.get(ref)
        if ref.kind == "entities":
            return item["text"]
        texts = {e["id"]: e["text"] for e in self.record.get("entities", [])}
        texts |= {e["id"]: texts.get(e["trigger"], "?") for e in self.record.get("events", [])}
        if ref.kind == "relations":
            return f"{texts.get(item['head'], '?')} → {texts.get(item['tail'], '?')}"
        if ref.kind == "events":
            return f"{texts.get(item['trigger'], '?')} ({len(item.get('arguments', []))} arguments)"
        if ref.kind == "arguments":
            event = self.get(ItemRef("events", ref.id.split("#")[0]))
            return f"{texts.get(event['trigger'], '?')} ← {texts.get(item['ref'], '?')}"
        slots = [texts.get(item.get(s) or "", "") for s in ("subject", "predicate", "object")]
        return " | ".join(s for s in slots if s)

    # -- decisions ------------------------------------------------------------------------
    def _change(self) -> dict:
        """Snapshot for undo, then hand out the record to change."""
        self._undo.append((self.doc, copy.deepcopy(self.record)))
        self._redo.clear()
        return self.record

    def _stamp(self, item: dict, state: str) -> None:
        review = dict(item.get("review") or {})
        if review.get("state") in ("added", "edited") and state == "accepted":
            state = review["state"]  # accepting an edit keeps it marked as edited
        review.update(state=state, by=self.user, at=_now())
        item["review"] = review

    def _commit(self) -> None:
        save(self.out, self._all)

    def decide(self, state: str) -> None:
        """accepted or rejected, for the current item; then the cursor goes to the next item
        (which, under the "unreviewed" filter, is where the decided one was)."""
        ref = self.current
        if ref is None:
            return
        items = self.items()
        following = items[items.index(ref) + 1] if items.index(ref) + 1 < len(items) else None
        self._stamp(self.get(ref, self._change()), state)
        self._commit()
        items = self.items()
        if following in items:
            self.item = items.index(following)
        else:
            self.item = min(self.item, max(0, len(items) - 1))

    def relabel(self, label: str) -> None:
        """A new label (an argument: a new role); the model's stays under review.original."""
        ref = self.current
        if ref is None or ref.kind not in LABEL_KEY:
            return
        key = LABEL_KEY[ref.kind]
        if self.get(ref)[key] != label:
            self._edit(self.get(ref, self._change()), **{key: label})
            self._commit()

    def _edit(self, item: dict, **changes) -> None:
        review = dict(item.get("review") or {})
        if review.get("state") != "added":
            original = review.setdefault("original", {})
            for key in changes:
                original.setdefault(key, item.get(key))
        item["review"] = review
        item.update(changes)
        self._stamp(item, "added" if review.get("state") == "added" else "edited")

    def move_boundary(self, side: str, step: int) -> None:
        """Move an entity's start or end by one token (step -1 or +1), staying a non-empty span."""
        ref = self.current
        if ref is None or ref.kind != "entities":
            return
        item = self.get(ref)
        if item.get("start") is None:
            return
        text = self.record["text"]
        start, end = item["start"], item["end"]
        bounds = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        if side == "start":
            starts = [s for s, _ in bounds]
            if step < 0:
                start = max([s for s in starts if s < start], default=start)
            else:
                start = min([s for s in starts if start < s < end], default=start)
        else:
            ends = [e for _, e in bounds]
            if step < 0:
                end = max([e for e in ends if start < e < end], default=end)
            else:
                end = min([e for e in ends if e > end], default=end)
        if (start, end) != (item["start"], item["end"]):
            item = self.get(ref, self._change())
            self._edit(item, start=start, end=end, text=text[start:end], status="exact")
            self._commit()

    def find(self, needle: str, after: int = 0) -> tuple[int, int] | None:
        """The next occurrence of `needle` (case-insensitive) at or after `after`, wrapping."""
        if not needle:
            return None
        text = self.record["text"].lower()
        at = text.find(needle.lower(), after)
        if at < 0:
            at = text.find(needle.lower())
        return (at, at + len(needle)) if at >= 0 else None

    def add_span(self, start: int, end: int, label: str) -> None:
        """An entity the model missed."""
        record = self._change()
        entities = record.setdefault("entities", [])
        number = 1 + max((int(e["id"][1:]) for e in entities if e["id"][1:].isdigit()), default=0)
        entity = {"id": f"T{number}", "label": label, "text": record["text"][start:end], "start": start,
                  "end": end, "status": "exact"}
        self._stamp(entity, "added")
        entities.append(entity)
        self.item = next((i for i, r in enumerate(self.items()) if r.id == entity["id"]), self.item)
        self._commit()

    def place(self, start: int, end: int) -> None:
        """Put an unplaced (or misplaced) entity on the text."""
        ref = self.current
        if ref is None or ref.kind != "entities":
            return
        item = self.get(ref, self._change())
        self._edit(item, start=start, end=end, text=self.record["text"][start:end], status="exact")
        self._commit()

    def swap(self) -> None:
        """Exchange a relation's head and tail."""
        ref = self.current
        if ref is None or ref.kind != "relations":
            return
        item = self.get(ref, self._change())
        self._edit(item, head=item["tail"], tail=item["head"])
        self._commit()

    def delete(self) -> None:
        """Remove an item the annotator added; model items are rejected instead (never lost)."""
        ref = self.current
        if ref is None:
            return
        if (self.get(ref).get("review") or {}).get("state") != "added":
            self.decide("rejected")
            return
        record = self._change()
        if ref.kind == "arguments":
            event_id, n = ref.id.split("#")
            del self.get(ItemRef("events", event_id), record)["arguments"][int(n)]
        else:
            record[ref.kind] = [i for i in record[ref.kind] if i.get("id") != ref.id]
        self.item = max(0, self.item - 1)
        self._commit()

    def finish_document(self) -> None:
        """Accept every undecided item and mark the document done."""
        record = self._change()
        for ref in self.items(record, filtered=False):
            item = self.get(ref, record)
            if not item.get("review"):
                self._stamp(item, "accepted")
        record["review"] = {"done": True, "by": self.user, "at": _now()}
        self._commit()

    def undo(self) -> bool:
        return self._swap_history(self._undo, self._redo)

    def redo(self) -> bool:
        return self._swap_history(self._redo, self._undo)

    def _swap_history(self, source: list, target: list) -> bool:
        if not source:
            return False
        doc, snapshot = source.pop()
        record = self.records[doc]
        target.append((doc, copy.deepcopy(record)))
        record.clear()  # in place: the record is also an element of the whole file's list
        record.update(snapshot)
        self.doc = doc
        self.item = min(self.item, max(0, len(self.items()) - 1))
        self._commit()
        return True

    def progress(self) -> tuple[int, int]:
        return sum(1 for r in self.records if _done(r)), len(self.records)


def _labels(records: list[dict]) -> dict[str, list[str]]:
    """Labels per item kind: those of the records' schema (when it is a built-in one) and
    those the records use."""
    from ieclid.errors import IeclidError
    from ieclid.schema import load_schema

    found: dict[str, set[str]] = {kind: set() for kind in LABEL_KEY}
    for name in {r["schema"] for r in records if isinstance(r.get("schema"), str)}:
        try:
            schema = load_schema(name)
        except (IeclidError, OSError):
            continue
        found["entities"] |= set(schema.entity_names)
        found["relations"] |= set(schema.relation_names)
        found["events"] |= set(schema.event_names)
        found["arguments"] |= {role.name for event in schema.events for role in event.roles}
    for record in records:
        for kind in ("entities", "relations", "events"):
            found[kind] |= {i["label"] for i in record.get(kind, []) if "label" in i}
        found["arguments"] |= {a["role"] for e in record.get("events", []) for a in e.get("arguments", [])}
    return {kind: sorted(names) for kind, names in found.items()}


def _done(record: dict) -> bool:
    return bool((record.get("review") or {}).get("done"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

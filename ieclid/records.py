"""Assemble one output record per document from grounded items, merging duplicates.

Field names are a stable contract for `jq` users and for `ieclid review`/`eval`:
entities carry `id`, `label`, `text`, `start`, `end`, `status` (and `score` when the
backend gave log-probabilities). Every span is an entity: relations, event triggers and
arguments, and open IE tuple slots point at entity ids; ere relations point at event ids.
Table cells are strings, with `offsets` ([start, end] or null) where a cell is in the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, cast

from ieclid.grounding import inside_word, occurrences
from ieclid.task_specs import TASKS


class Entity(TypedDict):
    """A span (or, where it could not be placed, a text with null offsets)."""

    id: str  # T1, T2, ... in reading order
    label: str
    text: str
    start: int | None
    end: int | None
    status: str  # how it was placed: exact, fuzzy or unplaced
    score: NotRequired[float]  # when the backend gave log-probabilities
    model_text: NotRequired[str]  # what the model wrote, where it differs from `text`
    propagated: NotRequired[bool]  # labelled because another occurrence of its text was


class Relation(TypedDict):
    id: str
    label: str
    head: str  # an entity id (ere: an event id)
    tail: str
    score: NotRequired[float]


class Argument(TypedDict):
    role: str
    ref: str  # an entity id
    score: NotRequired[float]


class Event(TypedDict):
    id: str
    label: str
    trigger: str  # an entity id
    arguments: list[Argument]
    score: NotRequired[float]


class Table(TypedDict):
    columns: list[str]
    rows: list[list[str]]
    offsets: list[list[Any]]  # per row, per cell: [start, end] or null


class Usage(TypedDict):
    prompt_tokens: int
    cached_prompt_tokens: int
    completion_tokens: int
    forced_tokens: int
    seconds: float


class Record(TypedDict):
    """One document's results: the JSON object `ieclid extract` writes per line. The task
    decides which of relations, events, tuples and table are there; `error` replaces the
    results of a document that could not be processed; `settings` fingerprints the run."""

    id: str
    task: str
    entities: list[Entity]
    warnings: list[str]
    schema: NotRequired[str]
    model: NotRequired[str]
    profile: NotRequired[str]
    text: NotRequired[str]
    source: NotRequired[dict[str, Any]]  # converter, and PDF pages as [start, end, page]
    relations: NotRequired[list[Relation]]
    events: NotRequired[list[Event]]
    tuples: NotRequired[list[dict[str, str | None]]]  # id, the TUPLE_SLOTS (entity ids), score
    table: NotRequired[Table]
    usage: NotRequired[Usage]
    settings: NotRequired[str]
    error: NotRequired[str]


@dataclass
class RecordBuilder:
    """Collects items from all chunks of a document; the same item seen twice is kept once."""

    doc_id: str
    task: str
    schema: str
    model: str
    profile: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tuples: list[dict[str, Any]] = field(default_factory=list)
    table: Table | None = None
    warnings: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    forced_tokens: int = 0
    source: dict[str, Any] | None = None  # how the text was made from a PDF, web page, ...
    _entity_keys: dict[tuple, int] = field(default_factory=dict)
    _relation_keys: set[tuple] = field(default_factory=set)
    _event_keys: dict[tuple, int] = field(default_factory=dict)
    _tuple_keys: set[tuple] = field(default_factory=set)

    def add_entity(
        self,
        label: str,
        model_text: str,
        start: int | None,
        end: int | None,
        status: str,
        score: float | None,
    ) -> str:
        """Add (or find) an entity; returns its id. Placed items merge on (label, start, end)."""
        key = (label, start, end) if start is not None else (label, model_text)
        if key in self._entity_keys:
            existing = self.entities[self._entity_keys[key]]
            if score is not None and (existing.get("score") or 0.0) < score:
                _set_score(existing, score)
            return existing["id"]
        text = model_text if start is None else self.text[start:end]
        entity = Entity(id=f"T{len(self.entities) + 1}", label=label, text=text, start=start,
                        end=end if start is not None else None, status=status)
        if start is not None and text != model_text:
            entity["model_text"] = model_text
        _set_score(entity, score)
        self._entity_keys[key] = len(self.entities)
        self.entities.append(entity)
        return entity["id"]

    def add_relation(self, label: str, head: str, tail: str, score: float | None) -> None:
        key = (label, head, tail)
        if key in self._relation_keys:
            return
        self._relation_keys.add(key)
        relation = Relation(id=f"R{len(self.relations) + 1}", label=label, head=head, tail=tail)
        _set_score(relation, score)
        self.relations.append(relation)

    def add_event(self, label: str, trigger: str, score: float | None) -> str:
        """Add (or find) the event of this type at this trigger; returns its id."""
        key = (label, trigger)
        if key in self._event_keys:
            return self.events[self._event_keys[key]]["id"]
        event = Event(id=f"E{len(self.events) + 1}", label=label, trigger=trigger, arguments=[])
        _set_score(event, score)
        self._event_keys[key] = len(self.events)
        self.events.append(event)
        return event["id"]

    def add_argument(self, event_id: str, role: str, ref: str, score: float | None) -> None:
        event = next(e for e in self.events if e["id"] == event_id)
        if any(a["role"] == role and a["ref"] == ref for a in event["arguments"]):
            return
        argument = Argument(role=role, ref=ref)
        _set_score(argument, score)
        event["arguments"].append(argument)

    def add_tuple(self, slots: dict[str, str | None], score: float | None) -> None:
        key = tuple(slots.items())
        if key in self._tuple_keys:
            return
        self._tuple_keys.add(key)
        item: dict[str, Any] = {"id": f"O{len(self.tuples) + 1}", **slots}
        _set_score(item, score)
        self.tuples.append(item)

    def add_rows(self, columns: tuple[str, ...], rows: list[tuple[str, ...]], offsets: list[list]) -> None:
        """Rows under `columns` (the first chunk's header holds for the whole document)."""
        if self.table is None:
            self.table = Table(columns=list(columns), rows=[], offsets=[])
        for row, row_offsets in zip(rows, offsets, strict=True):
            if list(row) not in self.table["rows"]:
                self.table["rows"].append(list(row))
                self.table["offsets"].append(row_offsets)

    def propagate(self, common: frozenset[str] = frozenset()) -> int:
        """Label the other occurrences of each placed entity's exact text as that entity is
        labelled, marked `propagated`: a model names a repeated name once, a reader expects every
        mention. Only names are spread (texts with a capital letter or a digit, not in `common`,
        compared case-folded): a model that tags "the" or "soldiers" once is wrong everywhere
        else too. Texts given two labels, single characters, and occurrences inside a word or
        overlapping an entity are left alone. Returns how many were added."""
        labels: dict[str, set[str]] = {}
        taken = []
        for entity in self.entities:
            if entity["start"] is not None and entity["end"] is not None:
                labels.setdefault(entity["text"], set()).add(entity["label"])
                taken.append((entity["start"], entity["end"]))
        added = 0
        for text, names in sorted(labels.items(), key=lambda item: -len(item[0])):
            named = any(ch.isupper() or ch.isdigit() for ch in text) and text.casefold() not in common
            if len(names) != 1 or len(text.strip()) < 2 or not named:
                continue
            (label,) = names
            for start in occurrences(self.text, text):
                end = start + len(text)
                if inside_word(self.text, start, end) or any(start < b and a < end for a, b in taken):
                    continue
                self.add_entity(label, text, start, end, "exact", None)
                self.entities[self._entity_keys[(label, start, end)]]["propagated"] = True
                taken.append((start, end))
                added += 1
        return added

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def absorb(self, part: RecordBuilder) -> None:
        """Add what `part` (a builder of the same document, one chunk's, filled on its own) holds,
        as if it had been added here: the same merging of duplicates, the same order. Tables are
        not absorbed: a table's chunks depend on each other and are filled in one builder."""
        ids = {e["id"]: self.add_entity(e["label"], e.get("model_text", e["text"]), e["start"], e["end"],
                                        e["status"], e.get("score")) for e in part.entities}
        events = {}
        for event in part.events:
            events[event["id"]] = self.add_event(event["label"], ids[event["trigger"]], event.get("score"))
            for argument in event["arguments"]:
                self.add_argument(events[event["id"]], argument["role"], ids[argument["ref"]],
                                  argument.get("score"))
        ends = events if self.task == "ere" else ids
        for relation in part.relations:
            self.add_relation(relation["label"], ends[relation["head"]], ends[relation["tail"]],
                              relation.get("score"))
        for item in part.tuples:
            slots = {k: ids[v] if v else v for k, v in item.items() if k not in ("id", "score")}
            self.add_tuple(slots, item.get("score"))
        for message in part.warnings:
            self.warn(message)
        self.prompt_tokens += part.prompt_tokens
        self.cached_prompt_tokens += part.cached_prompt_tokens
        self.completion_tokens += part.completion_tokens
        self.forced_tokens += part.forced_tokens

    def build(self, seconds: float) -> Record:
        # Built in the order the fields are written: the task's fields between entities and
        # warnings.
        record: dict[str, Any] = {
            "id": self.doc_id,
            "task": self.task,
            "schema": self.schema,
            "model": self.model,
            "profile": self.profile,
            "text": self.text,
        }
        if self.source:
            record["source"] = self.source
        # Number entities in reading order; relations follow the renumbering.
        entities = sorted(self.entities, key=_position)
        renumber = {e["id"]: f"T{n}" for n, e in enumerate(entities, start=1)}
        record["entities"] = [{**e, "id": renumber[e["id"]]} for e in entities]
        events = sorted(self.events, key=lambda e: int(renumber[e["trigger"]][1:]))
        event_ids = {e["id"]: f"E{n}" for n, e in enumerate(events, start=1)}
        fills = TASKS[self.task].record_fields if self.task in TASKS else ()
        if "events" in fills:
            record["events"] = [
                {
                    **e,
                    "id": event_ids[e["id"]],
                    "trigger": renumber[e["trigger"]],
                    "arguments": [{**a, "ref": renumber[a["ref"]]} for a in e["arguments"]],
                }
                for e in events
            ]
        if "relations" in fills:
            ends = event_ids if self.task == "ere" else renumber
            record["relations"] = [
                {**r, "head": ends[r["head"]], "tail": ends[r["tail"]]} for r in self.relations
            ]
        if "tuples" in fills:
            record["tuples"] = [
                {k: renumber.get(v, v) if k not in ("id", "score") and v else v for k, v in t.items()}
                for t in self.tuples
            ]
        if "table" in fills:
            record["table"] = self.table or Table(columns=[], rows=[], offsets=[])
        record["warnings"] = self.warnings
        record["usage"] = Usage(
            prompt_tokens=self.prompt_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens,
            completion_tokens=self.completion_tokens,
            forced_tokens=self.forced_tokens,
            seconds=round(seconds, 3),
        )
        return cast(Record, record)


def _set_score(item: Entity | Relation | Event | Argument | dict[str, Any], score: float | None) -> None:
    """Items carry `score` only when the backend gave log-probabilities; four significant digits,
    so that an item the model was unsure of keeps a score above 0 (a weakest token at 1e-5)."""
    if score is not None:
        item["score"] = float(f"{score:.4g}")


def _position(entity: Entity) -> tuple[bool, int, int]:
    start = entity["start"]
    return (start is None, start or 0, entity["end"] or 0)


def error_record(doc_id: str, task: str, message: str) -> Record:
    """A document that could not be processed: same id and task, and the reason."""
    return Record(id=doc_id, task=task, error=message, entities=[], warnings=[])

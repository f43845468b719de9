"""Document -> chunks -> prompts -> model -> parse -> ground -> record.

`Extractor` holds what is fixed for a run (model, profile, schema, demonstrations)
and turns one document into one record. A failing document becomes an error record;
the caller decides how to report it and carries on with the next.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Protocol, TypeVar

from ieclid.backends.schedule import Schedule
from ieclid.chunking import DEFAULT_CHUNK_SENTENCES, Chunk, chunk_text
from ieclid.documents import Document
from ieclid.errors import IeclidError
from ieclid.grammar import FUNCTION_WORDS, starts_on, unstartable_words
from ieclid.grounding import Grounder, Placement
from ieclid.profiles import Profile
from ieclid.profiles.base import Ending
from ieclid.record_text import said
from ieclid.records import Record, RecordBuilder, error_record
from ieclid.schema import Schema
from ieclid.tasks import TUPLE_SLOTS, Answer, Choice, Example, Request
from ieclid.tasks.markers import find_marked_pair, find_marked_trigger, has_markers, mark, untyped
from ieclid.tasks.tables import EMPTY_CELLS


class Backend(Protocol):
    name: str
    schedule: Schedule | None  # batching in process: documents must go through it (see extract_each)

    def count_tokens(self, text: str) -> int: ...

    def complete(
        self, prompt: str, *, grammar: str | None, max_tokens: int, temperature: float,
        ending: Ending | None = None,
    ) -> Completion: ...


class Completion(Protocol):
    text: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    forced_tokens: int
    stopped: str

    def score(self, start: int, end: int) -> float | None: ...


# Items (entities, triples, events, arguments, tuples) whose weakest token the model chose with
# less than this probability are left out. None by default: a threshold raised entity F1 on
# WNUT-17 and lowered it on CrossNER AI, for the embedded model and a chat model of another
# family alike (docs/performance.md, Confidence).
MIN_SCORE = 0.0


class Listed(Protocol):
    """An item of an answer (a mention, a triple, a tuple): where it stands in the answer."""

    @property
    def where(self) -> tuple[int, int] | None: ...


Item = TypeVar("Item", bound=Listed)


@dataclass
class ExtractOptions:
    task: str
    schema: Schema
    # Demonstrations per (sub)task: ee's steps are ed and eae, unmarked ere's ed and ere.
    demos: dict[str, list[Example]] = field(default_factory=dict)
    max_chunk_tokens: int = 256
    chunk_sentences: int = DEFAULT_CHUNK_SENTENCES
    chunk_overlap: int = 0
    propagate: bool = True  # ner: label every other occurrence of an extracted mention
    min_score: float = MIN_SCORE  # items the model listed less surely than this are left out
    temperature: float = 0.0
    grammar: bool = True
    request: Request = field(default_factory=Request)
    digest: str | None = None  # of the settings that make the records: records carry it (--resume)


def _only(parts: list[RecordBuilder]) -> RecordBuilder:
    return parts[0]


def _backwards(choice: Choice, marked: str, schema: Schema) -> bool:
    """Whether an answer names the marked pair e2 first: for a relation without roles, whose
    wording cannot say the direction, the order of the ends in the answer does."""
    relation = schema.relation(choice.label or "")
    if choice.ends is None or relation is None or relation.roles:
        return False
    pair = find_marked_pair(marked)
    first, second = said(pair.e1_text), said(pair.e2_text)
    head, tail = (said(end) for end in choice.ends)
    return first != second and (head, tail) == (second, first)


@dataclass
class Plan:
    """One document's work: `parts` that may run at once (each asks the backend in turn, so in
    process the batch engine decodes them together like documents), and `join`, which makes one
    builder of their builders. A document that cannot be worked on has an `error` and one part
    that does nothing, so that it keeps its place among the others."""

    doc: Document
    task: str
    parts: Sequence[Callable[[], RecordBuilder | None]] = field(default_factory=lambda: [lambda: None])
    join: Callable[[list[RecordBuilder]], RecordBuilder] = _only
    error: str | None = None

    def run(self, part: int) -> tuple[RecordBuilder | Exception | None, float, float]:
        """Run one part: what it made (or the error it raised), and when it started and ended."""
        started = time.perf_counter()
        made: RecordBuilder | Exception | None
        try:
            made = self.parts[part]()
        except (ValueError, IeclidError) as exc:
            made = exc
        return made, started, time.perf_counter()

    def record(self, runs: list[tuple[RecordBuilder | Exception | None, float, float]]) -> Record:
        """The record, from every part's run in order; a part's error is the document's."""
        if self.error is not None:
            return error_record(self.doc.id, self.task, self.error)
        for made, _, _ in runs:
            if isinstance(made, Exception):
                return error_record(self.doc.id, self.task, f"{self.doc.id}: {made}")
        builder = self.join([made for made, _, _ in runs if isinstance(made, RecordBuilder)])
        builder.source = self.doc.source
        return builder.build(max(end for *_, end in runs) - min(start for _, start, _ in runs))


class Extractor:
    def __init__(self, backend: Backend, profile: Profile, options: ExtractOptions) -> None:
        self.backend = backend
        self.profile = profile
        self.options = options

    def extract(self, doc: Document) -> Record:
        """One record for one document; errors become an error record, never an exception."""
        plan = self.plan(doc)
        return plan.record([plan.run(part) for part in range(len(plan.parts))])

    def plan(self, doc: Document) -> Plan:
        """The document's work, in parts that may run at once: one per chunk where chunks are
        independent (not a table, whose first chunk sets the columns for the rest), else one."""
        task = self.options.task
        if doc.error:
            return Plan(doc, task, error=doc.error)
        if task == "rc" or (task == "ere" and has_markers(doc.text, "e1")):
            return Plan(doc, task, [partial(self._classify, doc)])
        if task == "eae":
            return Plan(doc, task, [partial(self._marked_event, doc)])
        opts = self.options
        try:
            chunks, warnings = chunk_text(
                doc.text, opts.max_chunk_tokens, self.backend.count_tokens, opts.chunk_overlap,
                opts.chunk_sentences,
            )
        except (ValueError, IeclidError) as exc:
            return Plan(doc, task, error=f"{doc.id}: {exc}")
        builder = self._builder(doc.id, doc.text)
        for warning in warnings:
            builder.warn(warning)
        if task == "table":
            return Plan(doc, task, [partial(self._fill, builder, chunks)])

        def absorbed(parts: list[RecordBuilder]) -> RecordBuilder:
            for part in parts:
                builder.absorb(part)
            if task == "ner" and opts.propagate:
                builder.propagate(FUNCTION_WORDS)
            if task == "ere" and len(builder.events) < 2:
                builder.warn(f"{len(builder.events)} event found: no pair of events to relate")
            return builder

        if task == "ere":  # each chunk's events, related to each other and to the chunk before
            pairs = zip([None, *chunks], chunks, strict=False)
            parts = [partial(self._events_related, self._builder(doc.id, doc.text), *pair) for pair in pairs]
            return Plan(doc, task, parts or [partial(self._builder, doc.id, doc.text)], absorbed)
        groups = [[chunk] for chunk in chunks] or [[]]
        parts = [partial(self._fill, self._builder(doc.id, doc.text), group) for group in groups]
        return Plan(doc, task, parts, absorbed)

    def _builder(self, doc_id: str, text: str) -> RecordBuilder:
        return RecordBuilder(
            doc_id=doc_id,
            task=self.options.task,
            schema=self.options.schema.name,
            model=self.backend.name,
            profile=self.profile.name,
            text=text,
        )

    def _run(
        self,
        builder: RecordBuilder,
        task: str,
        text: str,
        max_tokens: int,
        request: Request | None = None,
        schema: Schema | None = None,
    ) -> tuple[Answer, Completion]:
        """Prompt, generate and parse one piece of text, accounting tokens and problems."""
        opts = self.options
        request = request or opts.request
        schema = schema or opts.schema
        demos = opts.demos.get(task, [])
        prompt = self.profile.prompt(task, schema, text, demos, request)
        grammar = self.profile.grammar(task, schema, text, request) if opts.grammar else None
        completion = self.backend.complete(
            prompt, grammar=grammar, max_tokens=max_tokens, temperature=opts.temperature,
            ending=self.profile.ending(task),
        )
        builder.prompt_tokens += completion.prompt_tokens
        builder.cached_prompt_tokens += completion.cached_tokens
        builder.completion_tokens += completion.completion_tokens
        builder.forced_tokens += completion.forced_tokens
        if completion.stopped == "length":
            builder.warn(f"answer cut off at {max_tokens} tokens; later items may be missing")
        elif completion.stopped == "loop":
            builder.warn("the model repeated itself; generation was stopped")
        answer = self.profile.parse(task, schema, completion.text, request)
        for problem in answer.problems:
            builder.warn(problem)
        return answer, completion

    def _answer_budget(self, text: str, per_token: int = 3) -> int:
        """Enough tokens to list every word of the text as an item (`per_token` each), and some."""
        return 64 + per_token * self.backend.count_tokens(text)

    @staticmethod
    def _add_span(
        builder: RecordBuilder,
        grounder: Grounder,
        chunk: Chunk,
        label: str,
        text: str,
        score: float | None,
        claim: bool = True,
    ) -> tuple[str, Placement]:
        """Ground a span the model wrote in the chunk and add it as an entity; (id, placement)."""
        place = grounder.place(text, claim=claim)
        start = None if place.start is None else place.start + chunk.start
        end = None if place.end is None else place.end + chunk.start
        return builder.add_entity(label, text, start, end, place.status, score), place

    def _sure(self, completion: Completion, items: Sequence[Item]) -> Iterator[tuple[Item, float | None]]:
        """The items the model listed, each with its score, but those under --min-score; an
        unscored item (from a server that gives no log-probabilities) is kept."""
        for item in items:
            score = completion.score(*item.where) if item.where else None
            if score is None or score >= self.options.min_score:
                yield item, score

    def _warn_outside(self, builder: RecordBuilder, what: str, label: str, allowed: list[str]) -> None:
        if label not in allowed:
            builder.warn(f"{what} outside the schema: {label!r}")

    def _fill(self, builder: RecordBuilder, chunks: list[Chunk]) -> RecordBuilder:
        """Extract from these chunks, in order, into `builder`."""
        opts = self.options
        for chunk in chunks:
            if opts.task in ("ner", "re"):
                self._entities(builder, chunk)
            elif opts.task == "openie":
                self._tuples(builder, chunk)
            elif opts.task == "table":
                self._table(builder, chunk)
            else:
                events = self._events(builder, chunk)
                if opts.task == "ee":
                    for event in events:
                        self._arguments(builder, chunk, *event)
        if opts.task == "table" and not (builder.table and builder.table["rows"]):
            builder.warn("the table has no rows: the model found nothing the instruction asks for")
        return builder

    def _entities(self, builder: RecordBuilder, chunk: Chunk) -> None:
        """ner and re: entities, and triples whose ends become entities."""
        schema = self.options.schema
        budget = self._answer_budget(chunk.text)
        answer, completion = self._run(builder, self.options.task, chunk.text, budget)
        grounder = Grounder(chunk.text)
        unstartable = unstartable_words(self.options.task)
        for mention, score in self._sure(completion, answer.mentions):
            if starts_on(unstartable, mention.text):  # a free span the verbatim grammar rules out
                continue
            self._warn_outside(builder, "label", mention.label, schema.entity_names)
            self._add_span(builder, grounder, chunk, mention.label, mention.text, score)
        for triple, score in self._sure(completion, answer.triples):
            if said(triple.head) == said(triple.tail):
                continue  # a name related to itself states nothing (small models echo the subject)
            self._warn_outside(builder, "relation", triple.label, schema.relation_names)
            head, _ = self._add_span(builder, grounder, chunk, "entity", triple.head, None, claim=False)
            tail, _ = self._add_span(builder, grounder, chunk, "entity", triple.tail, None, claim=False)
            builder.add_relation(triple.label, head, tail, score)

    def _events(self, builder: RecordBuilder, chunk: Chunk) -> list[tuple[str, str, Placement]]:
        """ed: triggers become entities labelled with their type, and events; (event id, type, place)."""
        answer, completion = self._run(builder, "ed", chunk.text, self._answer_budget(chunk.text))
        grounder = Grounder(chunk.text)
        found = []
        for mention, score in self._sure(completion, answer.mentions):
            self._warn_outside(builder, "event type", mention.label, self.options.schema.event_names)
            trigger, place = self._add_span(builder, grounder, chunk, mention.label, mention.text, score)
            found.append((builder.add_event(mention.label, trigger, score), mention.label, place))
        return found

    def _arguments(
        self, builder: RecordBuilder, chunk: Chunk, event_id: str, event_type: str, trigger: Placement
    ) -> None:
        """eae for one event: the trigger is marked in the chunk; arguments become entities."""
        if trigger.start is None or trigger.end is None:
            builder.warn(f"event {event_id}: its trigger is not in the text, so no arguments were sought")
            return
        schema = self.options.schema
        known = event_type if schema.event(event_type) else None
        request = replace(self.options.request, event_type=known)
        marked = mark(chunk.text, {"event": (trigger.start, trigger.end)})
        answer, completion = self._run(builder, "eae", marked, self._answer_budget(chunk.text), request)
        grounder = Grounder(chunk.text)
        roles = [role.name for role in schema.roles(known)]
        for mention, score in self._sure(completion, answer.mentions):
            self._warn_outside(builder, "role", mention.label, roles)
            ref, _ = self._add_span(builder, grounder, chunk, mention.label, mention.text, score)
            builder.add_argument(event_id, mention.label, ref, score)

    def _marked_event(self, doc: Document) -> RecordBuilder:
        """eae on a document whose trigger is marked <event>..</event>."""
        text, (start, end) = find_marked_trigger(doc.text)
        builder = self._builder(doc.id, text)
        event_type = doc.event_type or self.options.request.event_type or "event"
        trigger = builder.add_entity(event_type, text[start:end], start, end, "exact", None)
        event_id = builder.add_event(event_type, trigger, None)
        whole = Chunk(0, len(text), text)
        self._arguments(builder, whole, event_id, event_type, Placement(start, end, "exact"))
        return builder

    def _events_related(
        self, builder: RecordBuilder, previous: Chunk | None, chunk: Chunk
    ) -> RecordBuilder:
        """ere on unmarked text, one chunk: its events, and the relation of each to the event
        before it, the first to the last of the previous chunk. That chunk's events are detected
        again here (the same answer its own part gets, so they merge), since pairs cross sentence
        borders while models find events best one sentence at a time."""
        placed = self._placed(chunk, self._events(builder, chunk))
        if previous is not None:
            placed = self._placed(previous, self._events(builder, previous))[-1:] + placed
        text = builder.text
        for (s1, e1, first), (s2, e2, second) in itertools.pairwise(placed):
            if s2 < e1:  # one trigger, two types: no relation between an event and itself
                continue
            start = previous.start if previous is not None and s1 < chunk.start else chunk.start
            span = {"e1": (s1 - start, e1 - start), "e2": (s2 - start, e2 - start)}
            self._relate(builder, mark(text[start : chunk.end], span), first, second)
        return builder

    @staticmethod
    def _placed(chunk: Chunk, events: list[tuple[str, str, Placement]]) -> list[tuple[int, int, str]]:
        """Events whose triggers are in the text, as (start, end, event id) in the document, in order."""
        return sorted((p.start + chunk.start, p.end + chunk.start, e) for e, _, p in events
                      if p.start is not None and p.end is not None)

    def _relate(
        self, builder: RecordBuilder, marked: str, head: str, tail: str, schema: Schema | None = None
    ) -> None:
        """Classify the relation between the ends marked <e1>, <e2>; rc's and ere's common step."""
        answer, completion = self._run(builder, self.options.task, marked, max_tokens=64, schema=schema)
        choice = answer.choice
        if choice is not None and choice.label is not None:
            score = completion.score(*choice.where) if choice.where else None
            reverse = choice.reverse or _backwards(choice, marked, schema or self.options.schema)
            builder.add_relation(choice.label, *((tail, head) if reverse else (head, tail)), score)

    def _classify(self, doc: Document) -> RecordBuilder:
        """rc and marked ere: one marked text; entities (ere: events) e1, e2 and their relation."""
        pair = find_marked_pair(doc.text)
        builder = self._builder(doc.id, pair.text)
        e1 = builder.add_entity("e1", pair.e1_text, *pair.e1, "exact", None)
        e2 = builder.add_entity("e2", pair.e2_text, *pair.e2, "exact", None)
        if self.options.task == "ere":
            e1, e2 = builder.add_event("event", e1, None), builder.add_event("event", e2, None)
        schema = self.options.schema
        if pair.e1_type and pair.e2_type:
            schema = schema.for_types(pair.e1_type, pair.e2_type)
            if not schema.relations:
                builder.warn(f"no relation of the schema holds between {pair.e1_type} and {pair.e2_type}")
                return builder
        self._relate(builder, untyped(doc.text), e1, e2, schema)
        return builder

    def _tuples(self, builder: RecordBuilder, chunk: Chunk) -> None:
        """openie: every slot of a tuple that is a span becomes an entity labelled with the slot."""
        answer, completion = self._run(builder, "openie", chunk.text, self._answer_budget(chunk.text))
        grounder = Grounder(chunk.text)
        for item, score in self._sure(completion, answer.tuples):
            slots: dict[str, str | None] = dict.fromkeys(TUPLE_SLOTS)
            for slot, value in zip(TUPLE_SLOTS, item.elements, strict=False):
                if value:
                    slots[slot], _ = self._add_span(builder, grounder, chunk, slot, value, None, claim=False)
            builder.add_tuple(slots, score)

    def _table(self, builder: RecordBuilder, chunk: Chunk) -> None:
        """table: the header first (unless known), then rows with exactly that many cells."""
        request = self.options.request
        if builder.table is not None:
            request = replace(request, columns=tuple(builder.table["columns"]))
        if not request.columns:
            answer, _ = self._run(builder, "table", chunk.text, 128, request)
            if answer.table is None or not answer.table.columns:
                return
            request = replace(request, columns=answer.table.columns)
        answer, _ = self._run(builder, "table", chunk.text, self._answer_budget(chunk.text, 4), request)
        rows = list(answer.table.rows) if answer.table else []
        grounder = Grounder(chunk.text)
        offsets = [[self._cell_offsets(grounder, chunk, cell) for cell in row] for row in rows]
        builder.add_rows(request.columns, rows, offsets)

    @staticmethod
    def _cell_offsets(grounder: Grounder, chunk: Chunk, cell: str) -> list[int] | None:
        """[start, end] of a cell found in the text; None for empty cells and free text."""
        if cell.casefold() in EMPTY_CELLS:
            return None
        place = grounder.place(cell, claim=False)
        if place.start is None or place.end is None:
            return None
        return [place.start + chunk.start, place.end + chunk.start]

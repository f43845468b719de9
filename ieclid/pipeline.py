"""Document -> chunks -> prompts -> model -> parse -> ground -> record.

`Extractor` holds what is fixed for a run (model, profile, schema, demonstrations)
and turns one document into one record. A failing document becomes an error record;
the caller decides how to report it and carries on with the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from ieclid.chunking import Chunk, chunk_text
from ieclid.documents import Document
from ieclid.errors import IeclidError
from ieclid.grounding import Grounder
from ieclid.profiles import Profile
from ieclid.records import RecordBuilder, error_record
from ieclid.schema import Schema
from ieclid.tasks import Answer, Example
from ieclid.tasks.markers import find_marked_pair


class Backend(Protocol):
    name: str

    def count_tokens(self, text: str) -> int: ...

    def complete(self, prompt: str, *, grammar: str | None, max_tokens: int, temperature: float): ...


@dataclass
class ExtractOptions:
    task: str
    schema: Schema
    demos: list[Example] = field(default_factory=list)
    max_chunk_tokens: int = 256
    chunk_overlap: int = 0
    temperature: float = 0.0
    grammar: bool = True


class Extractor:
    def __init__(self, backend: Backend, profile: Profile, options: ExtractOptions) -> None:
        self.backend = backend
        self.profile = profile
        self.options = options

    def extract(self, doc: Document) -> dict:
        """One record for one document; errors become an error record, never an exception."""
        if doc.error:
            return error_record(doc.id, self.options.task, doc.error)
        started = time.perf_counter()
        try:
            builder = self._classify(doc) if self.options.task == "rc" else self._extract_spans(doc)
        except ValueError as exc:
            return error_record(doc.id, self.options.task, f"{doc.id}: {exc}")
        except IeclidError as exc:
            return error_record(doc.id, self.options.task, f"{doc.id}: {exc}")
        return builder.build(time.perf_counter() - started)

    def _builder(self, doc_id: str, text: str) -> RecordBuilder:
        return RecordBuilder(
            doc_id=doc_id,
            task=self.options.task,
            schema=self.options.schema.name,
            model=self.backend.name,
            profile=self.profile.name,
            text=text,
        )

    def _run(self, builder: RecordBuilder, text: str, max_tokens: int):
        """Prompt, generate and parse one chunk, accounting tokens and problems."""
        opts = self.options
        prompt = self.profile.prompt(opts.task, opts.schema, text, opts.demos)
        grammar = self.profile.grammar(opts.task, opts.schema, text) if opts.grammar else None
        completion = self.backend.complete(
            prompt, grammar=grammar, max_tokens=max_tokens, temperature=opts.temperature
        )
        builder.prompt_tokens += completion.prompt_tokens
        builder.cached_prompt_tokens += completion.cached_tokens
        builder.completion_tokens += completion.completion_tokens
        if completion.stopped == "length":
            builder.warn(f"answer cut off at {max_tokens} tokens; later items may be missing")
        elif completion.stopped == "loop":
            builder.warn("the model repeated itself; generation was stopped")
        answer: Answer = self.profile.parse(opts.task, opts.schema, completion.text)
        for problem in answer.problems:
            builder.warn(problem)
        return answer, completion

    def _extract_spans(self, doc: Document) -> RecordBuilder:
        opts = self.options
        builder = self._builder(doc.id, doc.text)
        chunks, warnings = chunk_text(
            doc.text, opts.max_chunk_tokens, self.backend.count_tokens, opts.chunk_overlap
        )
        for warning in warnings:
            builder.warn(warning)
        for chunk in chunks:
            self._extract_chunk(builder, chunk)
        return builder

    def _extract_chunk(self, builder: RecordBuilder, chunk: Chunk) -> None:
        chunk_tokens = self.backend.count_tokens(chunk.text)
        answer, completion = self._run(builder, chunk.text, max_tokens=64 + 3 * chunk_tokens)
        grounder = Grounder(chunk.text)
        allowed = set(self.options.schema.entity_names)
        for mention in answer.mentions:
            if mention.label not in allowed:
                builder.warn(f"label outside the schema: {mention.label!r}")
            place = grounder.place(mention.text)
            score = completion.score(*mention.where) if mention.where else None
            builder.add_entity(
                mention.label,
                mention.text,
                None if place.start is None else place.start + chunk.start,
                None if place.end is None else place.end + chunk.start,
                place.status,
                score,
            )
        relations = set(self.options.schema.relation_names)
        for triple in answer.triples:
            if triple.label not in relations:
                builder.warn(f"relation outside the schema: {triple.label!r}")
            score = completion.score(*triple.where) if triple.where else None
            ids = []
            for end_text in (triple.head, triple.tail):
                place = grounder.place(end_text, claim=False)
                ids.append(
                    builder.add_entity(
                        "entity",
                        end_text,
                        None if place.start is None else place.start + chunk.start,
                        None if place.end is None else place.end + chunk.start,
                        place.status,
                        None,
                    )
                )
            builder.add_relation(triple.label, ids[0], ids[1], score)

    def _classify(self, doc: Document) -> RecordBuilder:
        """rc: the whole document is one marked sentence; the record has e1, e2 and the relation."""
        pair = find_marked_pair(doc.text)
        builder = self._builder(doc.id, pair.text)
        answer, completion = self._run(builder, doc.text, max_tokens=64)
        e1 = builder.add_entity("e1", pair.e1_text, *pair.e1, "exact", None)
        e2 = builder.add_entity("e2", pair.e2_text, *pair.e2, "exact", None)
        choice = answer.choice
        if choice is not None and choice.label is not None:
            score = completion.score(*choice.where) if choice.where else None
            head, tail = (e2, e1) if choice.reverse else (e1, e2)
            builder.add_relation(choice.label, head, tail, score)
        return builder

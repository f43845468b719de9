"""The task registry: each task's facts in one place, read by the CLI, the run's assembly, the
pipeline, the record builder, demonstrations and evaluation.

A new task is a `TaskSpec` here plus the wording its profiles give it. This module imports
nothing heavy: `ieclid --help` builds the --task choices from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ieclid.schema import Schema

# What one prompt's answer holds: `span: label` items (entities, triggers, arguments); one label
# for a marked pair; (head, relation, tail) triples; open tuples; a markdown table. `events` is
# ee's: it is never one prompt, but ed and then eae for each trigger.
AnswerShape = Literal["spans", "choice", "triples", "tuples", "table", "events"]
# The record fields a task fills besides `entities`, which every task fills.
RecordField = Literal["relations", "events", "tuples", "table"]
LabelKind = Literal["entities", "relations", "events"]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    summary: str  # what it extracts, in a few words for --help
    answer: AnswerShape
    record_fields: tuple[RecordField, ...] = ()
    default_schema: str | None = None  # None: the task takes no label set
    labels_kind: LabelKind | None = None  # what --labels names; None: --labels cannot serve it
    # What the schema must hold, and how to read it from one.
    needs: tuple[str, Callable[[Schema], tuple]] | None = None
    # The (sub)tasks that take demonstrations, in the order the run reads them.
    demo_steps: tuple[str, ...] = ()
    marked: bool = False  # the input text carries markers (<e1>, <event>) the prompt keeps

    @property
    def labels_spans(self) -> bool:
        """Its answers label spans of the text (directly, or through ee's steps)."""
        return self.answer in ("spans", "events")

    @property
    def steps(self) -> tuple[str, ...]:
        return self.demo_steps or (self.name,)


def _entities(schema: Schema) -> tuple:
    return schema.entities


def _relations(schema: Schema) -> tuple:
    return schema.relations


def _events(schema: Schema) -> tuple:
    return schema.events


def _roles(schema: Schema) -> tuple:
    return schema.roles()


SPECS = (
    TaskSpec("ner", "typed entities", "spans", default_schema="conll2003",
             labels_kind="entities", needs=("entity labels", _entities)),
    TaskSpec("rc", "the relation between <e1>..</e1> and <e2>..</e2>", "choice",
             ("relations",), "semeval2010", "relations", ("relation labels", _relations), marked=True),
    TaskSpec("re", "relation triples", "triples",
             ("relations",), "general", "relations", ("relation labels", _relations)),
    TaskSpec("ed", "typed event triggers", "spans", ("events",), "phee", "events",
             ("event types", _events)),
    TaskSpec("eae", "arguments of the event marked <event>..</event>",
             "spans", ("events",), "phee", None, ("event roles", _roles), marked=True),
    TaskSpec("ee", "events with arguments", "events",
             ("events",), "phee", "events", ("event types with roles", _roles), demo_steps=("ed", "eae")),
    # On unmarked text ere detects events first (ed), then classifies pairs of them.
    TaskSpec("ere", "event relations (marked, or between detected events)", "choice",
             ("events", "relations"), "matres", "relations", ("relation labels", _relations),
             demo_steps=("ere", "ed")),
    TaskSpec("openie", "open tuples", "tuples",
             ("tuples",)),
    TaskSpec("table", "a table (--instruction)", "table", ("table",)),
)
TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in SPECS}


def tasks_answering(*shapes: AnswerShape) -> tuple[str, ...]:
    return tuple(spec.name for spec in SPECS if spec.answer in shapes)

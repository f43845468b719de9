"""What each task asks for and what its answers hold, independent of prompt wording.

A profile (see `ieclid.profiles`) turns a task into prompt text and a grammar, and
parses the model's answer into the items below; the pipeline grounds them.

Tasks share answer shapes: ner, ed and eae answer a list of `span: label` items (entity
types, event types, argument roles); rc and ere choose one label for a marked pair; re
lists triples; openie lists n-ary tuples; table answers a markdown table. `ee` runs ed,
then eae for each trigger; `ere` on unmarked text runs ed, then classifies event pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ieclid.errors import UsageError
from ieclid.schema import Label, Schema
from ieclid.task_specs import TASKS, tasks_answering

SPAN_TASKS = tasks_answering("spans")  # answers: `span: label` lists
CHOICE_TASKS = tasks_answering("choice")  # answers: one label for a marked pair
# Open IE tuple slots, in the order ADELIE's answers give them.
TUPLE_SLOTS = ("predicate", "subject", "object", "time", "location")


@dataclass(frozen=True)
class Mention:
    """An entity the model named; `where` is its position in the answer text (for scores)."""

    text: str
    label: str
    where: tuple[int, int] | None = None


@dataclass(frozen=True)
class Triple:
    head: str
    label: str
    tail: str
    where: tuple[int, int] | None = None


@dataclass(frozen=True)
class Choice:
    """An rc answer: a relation name (None for no relation) and whether it runs e2 -> e1; `ends`
    are the answer's head and tail as written, which give the direction of a relation without
    roles (`(Google; part of; Alphabet)` for <e1>Alphabet</e1> ... <e2>Google</e2>)."""

    label: str | None
    reverse: bool = False
    where: tuple[int, int] | None = None
    ends: tuple[str, str] | None = None


@dataclass(frozen=True)
class OpenTuple:
    """An open IE tuple: `elements` follows TUPLE_SLOTS; missing trailing slots are absent."""

    elements: tuple[str, ...]
    where: tuple[int, int] | None = None


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class Answer:
    mentions: list[Mention] = field(default_factory=list)
    triples: list[Triple] = field(default_factory=list)
    choice: Choice | None = None
    tuples: list[OpenTuple] = field(default_factory=list)
    table: Table | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Example:
    """A solved example, used as a few-shot demonstration.

    For rc and ere, `text` carries <e1>/<e2> markers; for eae, the trigger's <event> markers.
    `mentions` holds (span, label) for ner, (trigger, type) for ed, (argument, role) for eae.
    """

    text: str
    mentions: tuple[tuple[str, str], ...] = ()
    triples: tuple[tuple[str, str, str], ...] = ()
    choice: tuple[str | None, bool] | None = None
    tuples: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Request:
    """What one prompt asks beyond the schema: eae's event type, table's instruction/columns."""

    event_type: str | None = None
    instruction: str = ""
    columns: tuple[str, ...] = ()


def span_labels(task: str, schema: Schema, request: Request | None = None) -> tuple[Label, ...]:
    """The labels a span task chooses from: entity types, event types, or the event's roles."""
    if task == "ner":
        return schema.entities
    if task == "ed":
        return tuple(Label(e.name, e.description) for e in schema.events)
    if task == "eae":
        return schema.roles(request.event_type if request else None)
    raise ValueError(f"{task} is not a span task")


def check_task_schema(task: str, schema: Schema, event_type: str | None = None) -> None:
    """Fail early (exit 2) when the schema lacks the labels the task needs."""
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose from: {', '.join(TASKS)}")
    needs = TASKS[task].needs
    if needs and not needs[1](schema):
        raise UsageError(f"schema {schema.name!r} has no {needs[0]}, which --task {task} needs")
    if event_type is not None:
        if task != "eae":
            raise UsageError("--event-type is for --task eae")
        if schema.event(event_type) is None:
            raise UsageError(
                f"event type {event_type!r} is not in schema {schema.name!r}; "
                f"choose from: {', '.join(schema.event_names)}"
            )

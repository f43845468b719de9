"""What each task asks for and what its answers hold, independent of prompt wording.

A profile (see `ieclid.profiles`) turns a task into prompt text and a grammar, and
parses the model's answer into the items below; the pipeline grounds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ieclid.errors import UsageError
from ieclid.schema import Schema

TASKS = {
    "ner": "named entities with types",
    "rc": "the relation between two marked mentions (<e1>..</e1>, <e2>..</e2>)",
    "re": "relation triples (head, relation, tail) with both ends grounded",
}


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
    """An rc answer: a relation name (None for no relation) and whether it runs e2 -> e1."""

    label: str | None
    reverse: bool = False
    where: tuple[int, int] | None = None


@dataclass
class Answer:
    mentions: list[Mention] = field(default_factory=list)
    triples: list[Triple] = field(default_factory=list)
    choice: Choice | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Example:
    """A solved example, used as a few-shot demonstration. For rc, `text` carries the markers."""

    text: str
    mentions: tuple[tuple[str, str], ...] = ()
    triples: tuple[tuple[str, str, str], ...] = ()
    choice: tuple[str | None, bool] | None = None


def check_task_schema(task: str, schema: Schema) -> None:
    """Fail early (exit 2) when the schema lacks the labels the task needs."""
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose from: {', '.join(TASKS)}")
    if task == "ner" and not schema.entities:
        raise UsageError(f"schema {schema.name!r} has no entity labels, which --task ner needs")
    if task in ("rc", "re") and not schema.relations:
        raise UsageError(f"schema {schema.name!r} has no relation labels, which --task {task} needs")

"""Prompt profiles: how a model family wants each task asked, answered and parsed.

- `adelie`: the Tulu chat format, instructions and `[Answer]: ...` formats ADELIE was trained on.
- `chat-json`: any chat model, through its own chat template, answering in JSON.
- `instructuie`: InstructUIE's plain `Option: ... Text: ... Answer:` prompts (ner, re, ed, eae).

A profile is chosen from the GGUF's metadata unless `--profile` names one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from ieclid.errors import UsageError
from ieclid.schema import Schema
from ieclid.tasks import Answer, Example, Request

ChatRenderer = Callable[[list[dict[str, str]]], str]
# The answer so far -> the answer it ends as, when it should end now; None to go on.
Ending = Callable[[str], str | None]

PROFILES = ("adelie", "chat-json", "instructuie")
PROFILE_KEY = "ieclid.profile"  # GGUF metadata: the profile a model (or adapter) was trained for


class Profile(Protocol):
    name: str
    render: ChatRenderer  # chat messages -> prompt text, as this model family expects

    def prompt(
        self, task: str, schema: Schema, text: str, demos: list[Example], request: Request | None = None
    ) -> str:
        """The full prompt text for one chunk (rc, ere, eae: `text` keeps its markers)."""
        ...

    def grammar(self, task: str, schema: Schema, text: str, request: Request | None = None) -> str:
        """A GBNF grammar for the answer to this chunk."""
        ...

    def parse(self, task: str, schema: Schema, answer: str, request: Request | None = None) -> Answer:
        """Items from the model's answer; anything unparseable is reported in `problems`."""
        ...

    def ending(self, task: str) -> Ending | None:
        """A rule that ends an answer early (checked after every token), or None."""
        ...


def is_adelie_release(metadata: dict[str, str], path: str) -> bool:
    """THU-KEG's ADELIE models and their exports, named so in the GGUF or the file name."""
    return "adelie" in (metadata.get("general.name", "") + " " + path).lower()


def guess_profile(metadata: dict[str, str], path: str) -> str:
    """The profile a model was trained for: named in its metadata by `ieclid train export`, or
    ADELIE and InstructUIE exports recognised by name.

    Chat markers alone cannot tell: Zephyr and Phi-3 share Tulu's `<|user|>` lines.
    """
    if metadata.get(PROFILE_KEY) in PROFILES:
        return str(metadata[PROFILE_KEY])
    if is_adelie_release(metadata, path):
        return "adelie"
    name = (metadata.get("general.name", "") + " " + path).lower()
    return "instructuie" if "instructuie" in name else "chat-json"


def make_profile(
    name: str, chat_renderer: ChatRenderer, verbatim: bool = False, tulu: bool = True
) -> Profile:
    """`verbatim`: mentions are constrained to exact, in-order spans of the text. `tulu`: ADELIE's
    wording in the Tulu chat format ADELIE was trained with; otherwise in the model's own chat
    format (models that `ieclid train` aligned, and any chat model given --profile adelie)."""
    if name == "adelie":
        from ieclid.profiles import adelie

        return adelie.AdelieProfile(verbatim, adelie.tulu if tulu else chat_renderer)
    if name == "chat-json":
        from ieclid.profiles.chat_json import ChatJsonProfile

        return ChatJsonProfile(chat_renderer, verbatim)
    if name == "instructuie":
        from ieclid.profiles.instructuie import InstructUieProfile

        return InstructUieProfile(verbatim)
    raise UsageError(f"unknown profile {name!r}; choose from: {', '.join(PROFILES)}")


def match_label(raw: str, names: list[str]) -> str | None:
    """Map a label the model wrote to a schema label, forgiving case, `_`, `-` and spaces."""

    def key(s: str) -> str:
        return "".join(ch for ch in s.casefold() if ch.isalnum())

    wanted = key(raw.strip().rstrip("."))
    return next((n for n in names if key(n) == wanted), None)


NA_ANSWERS = (
    "na", "none", "no tuples", "no events", "no events detected",
    "[]", "no entities", "no entities found", "no relation", "not related",
    "no relationship", "none found", "there are no entities in the text",
)


def is_empty_answer(body: str) -> bool:
    """`[Answer]: NA` and the pools' 'no entities' phrases all mean: nothing found."""
    return body.strip().strip(".").strip().casefold() in NA_ANSWERS


def colon_items(body: str, label_first: bool) -> Iterator[tuple[str, str, tuple[int, int]]]:
    """`a: b; a: b; ...` -> (a, b, where a starts and b ends), in one pass. Items end at `;`.
    ADELIE writes `span: label` (spans may hold colons, so the last colon splits);
    InstructUIE writes `label: span` (the first colon splits). A regular expression with a lazy
    first part backtracks quadratically on a long answer without `;`."""
    start = 0
    for piece in body.split(";"):
        lead = len(piece) - len(piece.lstrip())  # the first part starts here, and is not empty
        colon = piece.find(":", lead + 1) if label_first else piece.rfind(":")
        first, second = piece[lead:colon].strip(), piece[colon + 1 :].strip()
        if colon > lead and first and second:
            yield first, second, (start + lead, start + colon + 1 + len(piece[colon + 1 :].rstrip()))
        start += len(piece) + 1

"""Prompt profiles: how a model family wants each task asked, answered and parsed.

- `adelie`: the Tulu chat format, instructions and `[Answer]: ...` formats ADELIE was trained on.
- `chat-json`: any chat model, through its own chat template, answering in JSON.
- `instructuie`: InstructUIE's plain `Option: ... Text: ... Answer:` prompts (ner, re, ed, eae).

A profile is chosen from the GGUF's metadata unless `--profile` names one.
"""

from __future__ import annotations

from typing import Protocol

from ieclid.errors import UsageError
from ieclid.profiles.base import ChatRenderer, Ending
from ieclid.schema import Schema
from ieclid.tasks import Answer, Example, Request

PROFILES = ("adelie", "chat-json", "instructuie")
PROFILE_KEY = "ieclid.profile"  # GGUF metadata: the profile a model (or adapter) was trained for


class Profile(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks it words."""
        ...

    @property
    def render(self) -> ChatRenderer:
        """Chat messages -> prompt text, as this model family expects."""
        ...

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
        from ieclid.profiles import adelie  # the submodule

        return adelie.AdelieProfile(verbatim, adelie.tulu if tulu else chat_renderer)
    if name == "chat-json":
        from ieclid.profiles.chat_json import ChatJsonProfile

        return ChatJsonProfile(chat_renderer, verbatim)
    if name == "instructuie":
        from ieclid.profiles.instructuie import InstructUieProfile

        return InstructUieProfile(verbatim)
    raise UsageError(f"unknown profile {name!r}; choose from: {', '.join(PROFILES)}")

"""Marked mentions in input text: `<e1>x</e1> ... <e2>y</e2>` for rc and ere (SemEval's
markers), `<event>x</event>` for the trigger whose arguments eae extracts (ADELIE's).
An opening marker may carry the mention's entity type, `<e1:person>`, which limits the
relations offered to those the schema allows between the two types (QA4RE's constraint).

The record's text is the document with the markers removed, so offsets point into
clean text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"<(/?)(e[12]|event)(?::([^<>\s]+))?>")


@dataclass(frozen=True)
class MarkedPair:
    text: str  # the text without markers
    e1: tuple[int, int]
    e2: tuple[int, int]
    e1_type: str | None = None
    e2_type: str | None = None

    @property
    def e1_text(self) -> str:
        return self.text[self.e1[0] : self.e1[1]]

    @property
    def e2_text(self) -> str:
        return self.text[self.e2[0] : self.e2[1]]


def has_markers(text: str, name: str) -> bool:
    return f"<{name}>" in text or f"<{name}:" in text


def strip_markers(marked: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """The text without markers, and where each marked span is; ValueError says what is wrong."""
    text, spans, _ = _strip(marked)
    return text, spans


def _strip(marked: str) -> tuple[str, dict[str, tuple[int, int]], dict[str, str]]:
    """strip_markers, plus the types given on opening markers."""
    types: dict[str, str] = {}
    clean: list[str] = []
    opened: dict[str, int] = {}
    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    length = 0
    for match in _MARKER.finditer(marked):
        clean.append(marked[pos : match.start()])
        length += match.start() - pos
        pos = match.end()
        closing, name, type_ = match.groups()
        if not closing:
            if name in opened or name in spans:
                raise ValueError(f"more than one <{name}> marker")
            opened[name] = length
            if type_:
                types[name] = type_
        elif type_:
            raise ValueError(f"a closing marker takes no type: {match.group()}")
        else:
            if name not in opened:
                raise ValueError(f"</{name}> without <{name}>")
            spans[name] = (opened.pop(name), length)
    clean.append(marked[pos:])
    if opened:
        raise ValueError(f"<{next(iter(opened))}> is never closed")
    return "".join(clean), spans, types


def find_marked_pair(marked: str) -> MarkedPair:
    """Strip the markers and return where e1 and e2 are; ValueError says what is wrong."""
    text, spans, types = _strip(marked)
    missing = [n for n in ("e1", "e2") if n not in spans]
    if missing:
        raise ValueError(
            "relation classification needs both mentions marked as <e1>..</e1> and <e2>..</e2>; "
            f"missing {' and '.join(missing)}"
        )
    return MarkedPair(text, spans["e1"], spans["e2"], types.get("e1"), types.get("e2"))


def find_marked_trigger(marked: str) -> tuple[str, tuple[int, int]]:
    """eae: the text without markers and where the <event>..</event> trigger is."""
    text, spans = strip_markers(marked)
    if "event" not in spans:
        raise ValueError("argument extraction needs the trigger marked as <event>..</event>")
    return text, spans["event"]


def untyped(marked: str) -> str:
    """The marked text with the types taken off its markers (`<e1:person>` -> `<e1>`)."""
    return _MARKER.sub(lambda m: f"<{m.group(1)}{m.group(2)}>", marked)


def mark(text: str, spans: dict[str, tuple[int, int]]) -> str:
    """Insert markers around spans (which must not overlap): the inverse of strip_markers."""
    out = text
    for name, (start, end) in sorted(spans.items(), key=lambda kv: kv[1][0], reverse=True):
        out = out[:start] + f"<{name}>" + out[start:end] + f"</{name}>" + out[end:]
    return out


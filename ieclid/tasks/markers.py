"""SemEval-style marked mentions for relation classification: `<e1>x</e1> ... <e2>y</e2>`.

The record's text is the document with the markers removed, so offsets point into
clean text; the two mentions become entities T1 (e1) and T2 (e2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"</?e[12]>")


@dataclass(frozen=True)
class MarkedPair:
    text: str  # the text without markers
    e1: tuple[int, int]
    e2: tuple[int, int]

    @property
    def e1_text(self) -> str:
        return self.text[self.e1[0] : self.e1[1]]

    @property
    def e2_text(self) -> str:
        return self.text[self.e2[0] : self.e2[1]]


def find_marked_pair(marked: str) -> MarkedPair:
    """Strip the markers and return where e1 and e2 are; ValueError says what is wrong."""
    clean: list[str] = []
    opened: dict[str, int] = {}
    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    length = 0
    for match in _MARKER.finditer(marked):
        clean.append(marked[pos : match.start()])
        length += match.start() - pos
        pos = match.end()
        tag = match.group()
        name = tag.strip("</>")
        if not tag.startswith("</"):
            if name in opened or name in spans:
                raise ValueError(f"more than one <{name}> marker")
            opened[name] = length
        else:
            if name not in opened:
                raise ValueError(f"</{name}> without <{name}>")
            spans[name] = (opened.pop(name), length)
    clean.append(marked[pos:])
    if opened:
        raise ValueError(f"<{next(iter(opened))}> is never closed")
    missing = [n for n in ("e1", "e2") if n not in spans]
    if missing:
        raise ValueError(
            "relation classification needs both mentions marked as <e1>..</e1> and <e2>..</e2>; "
            f"missing {' and '.join(missing)}"
        )
    return MarkedPair("".join(clean), spans["e1"], spans["e2"])


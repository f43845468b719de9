"""Map strings a model produced back to character offsets in the source text.

Three tiers, best first: an exact occurrence; an occurrence that differs only in
case or whitespace; a fuzzy window (similar characters). An item that matches
nothing is returned unplaced: the caller keeps it, it is never dropped.
Repeated mentions are handled by skipping occurrences already claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

FUZZY_MIN_RATIO = 0.8


@dataclass(frozen=True)
class Placement:
    start: int | None
    end: int | None
    status: str  # "exact", "fuzzy" or "unplaced"


UNPLACED = Placement(None, None, "unplaced")


def _normalise(text: str) -> tuple[str, list[int]]:
    """Case-fold and collapse whitespace, keeping for each output char its source index."""
    chars: list[str] = []
    index: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not in_space and chars:
                chars.append(" ")
                index.append(i)
            in_space = True
            continue
        in_space = False
        for folded in ch.casefold():
            chars.append(folded)
            index.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        index.pop()
    return "".join(chars), index


def _occurrences(haystack: str, needle: str) -> list[int]:
    found: list[int] = []
    pos = haystack.find(needle)
    while pos != -1:
        found.append(pos)
        pos = haystack.find(needle, pos + 1)
    return found


class Grounder:
    """Grounds strings in one text; remembers claimed spans so repeats map to new mentions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._norm, self._index = _normalise(text)
        self._claimed: set[tuple[int, int]] = set()
        self._cursor = 0

    def place(self, needle: str, claim: bool = True) -> Placement:
        """Find `needle`, preferring an occurrence no earlier item claimed, after the last one.

        With `claim`, the occurrence is taken (NER mentions); relation ends do not claim,
        since one mention can be the head or tail of several relations.
        """
        if not needle.strip():
            return UNPLACED
        candidates = [(s, s + len(needle)) for s in _occurrences(self.text, needle)]
        status = "exact"
        if not candidates:
            norm_needle, _ = _normalise(needle)
            status = "fuzzy"
            for s in _occurrences(self._norm, norm_needle):
                candidates.append((self._index[s], self._index[s + len(norm_needle) - 1] + 1))
        if not candidates:
            span = self._fuzzy(needle)
            if span is None:
                return UNPLACED
            candidates = [span]
        # Models list items in reading order: prefer a free occurrence after the last one placed.
        free = [c for c in candidates if c not in self._claimed]
        chosen = next((c for c in free if c[0] >= self._cursor), free[0] if free else candidates[0])
        if claim:
            self._claimed.add(chosen)
            self._cursor = chosen[1]
        return Placement(chosen[0], chosen[1], status)

    def _fuzzy(self, needle: str) -> tuple[int, int] | None:
        """Best window of the text similar to `needle`, snapped to word boundaries."""
        norm_needle, _ = _normalise(needle)
        if len(norm_needle) < 3 or not self._norm:
            return None
        matcher = SequenceMatcher(None, self._norm, norm_needle, autojunk=False)
        block = matcher.find_longest_match(0, len(self._norm), 0, len(norm_needle))
        if block.size == 0:
            return None
        guess = block.a - block.b
        best: tuple[float, int, int] | None = None
        for start in range(max(0, guess - 3), min(len(self._norm), guess + 4)):
            for length in range(max(1, len(norm_needle) - 3), len(norm_needle) + 4):
                end = min(len(self._norm), start + length)
                ratio = SequenceMatcher(None, self._norm[start:end], norm_needle).ratio()
                if best is None or ratio > best[0]:
                    best = (ratio, start, end)
        if best is None or best[0] < FUZZY_MIN_RATIO:
            return None
        start, end = self._snap(self._index[best[1]], self._index[best[2] - 1] + 1)
        # Snapping widens a window to whole words: "Oslo" must not become "Microsoft" via "oso".
        snapped, _ = _normalise(self.text[start:end])
        if start >= end or SequenceMatcher(None, snapped, norm_needle).ratio() < FUZZY_MIN_RATIO:
            return None
        return start, end

    def _snap(self, start: int, end: int) -> tuple[int, int]:
        """Widen a fuzzy span to whole words so it never starts or ends mid-word."""
        text = self.text
        while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
            start -= 1
        while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            end += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

"""Map strings a model produced back to character offsets in the source text.

Three tiers, best first: an exact occurrence; an occurrence that differs only in
case or whitespace; a fuzzy window (similar characters). Occurrences that begin or end
inside a word do not count (where words are spaced). An item that matches
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


def _word_char(ch: str) -> bool:
    """A letter, digit or underscore of a script that puts spaces between words. In Chinese,
    Japanese, Korean, Thai and the like a name runs on into its neighbours ("서울에서")."""
    code = ord(ch)
    unspaced = (0x0E00 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F or 0x1780 <= code <= 0x17FF
                or 0x2E80 <= code <= 0xFAFF or code >= 0x20000)
    return (ch.isalnum() or ch == "_") and not unspaced


def inside_word(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] begins or ends inside a word: "US" in "USB", "granada" in a URL's
    "real_granada". No reader takes that for the name, so it is no place for one."""
    return (start > 0 and _word_char(text[start - 1]) and _word_char(text[start])) or (
        end < len(text) and _word_char(text[end - 1]) and _word_char(text[end]))


def occurrences(haystack: str, needle: str) -> list[int]:
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
        candidates = self._whole([(s, s + len(needle)) for s in occurrences(self.text, needle)])
        status = "exact"
        if not candidates:
            norm_needle, _ = _normalise(needle)
            status = "fuzzy"
            candidates = self._whole([(self._index[s], self._index[s + len(norm_needle) - 1] + 1)
                                      for s in occurrences(self._norm, norm_needle)])
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

    def _whole(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The spans that neither begin nor end inside a word."""
        return [(start, end) for start, end in spans if not inside_word(self.text, start, end)]

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
        while start > 0 and _word_char(text[start - 1]) and _word_char(text[start]):
            start -= 1
        while end < len(text) and _word_char(text[end - 1]) and _word_char(text[end]):
            end += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

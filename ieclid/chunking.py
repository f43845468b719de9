"""Sentence-aware chunking with character offsets that map back to the document.

Small models extract far better from short inputs, and every model has a context
limit, so documents are cut into chunks of whole sentences under a token budget.
Nothing is dropped: a sentence longer than the budget is split at whitespace (or,
failing that, anywhere) and a warning says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A sentence ends after ., ! or ? (plus closing quotes/brackets) followed by whitespace,
# or at a line break: text files often hold one sentence, title or list item per line.
_SENTENCE_END = re.compile(r"""(?<=[.!?…])(["'”’)\]]*)\s+|\n\s*""")

TokenCounter = Callable[[str], int]
# Sentences a chunk holds at most. Models, the small ones above all, stop after the first
# sentence or two of a longer input; chunks of one sentence are decoded together anyway
# (see docs/performance.md for the measurement that chose this).
DEFAULT_CHUNK_SENTENCES = 1
# A period after these does not end a sentence ("Dr. Ana Ruiz", "the U.S. team").
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs",
    "e.g", "i.e", "fig", "al", "approx", "dept", "gen", "gov", "sen", "rep", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "u.s",
    "u.k", "a.m", "p.m",
})


@dataclass(frozen=True)
class Chunk:
    """A slice of a document: `text == document[start:end]`."""

    start: int
    end: int
    text: str


def approx_tokens(text: str) -> int:
    """A model-free estimate (about four characters a token) for tests and planning."""
    return max(1, (len(text) + 3) // 4)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) that cover every non-space character of `text`."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(1) or "")  # closing quotes stay with the sentence
        if _after_abbreviation(text, match.start()) and "\n" not in match.group():
            continue
        if text[pos:end].strip():
            spans.append(_strip_span(text, pos, end))
        pos = match.end()
    if text[pos:].strip():
        spans.append(_strip_span(text, pos, len(text)))
    return spans


def _after_abbreviation(text: str, end: int) -> bool:
    """Whether the period that ends at `end` closes an abbreviation or an initial, not a sentence:
    the word before it is a known abbreviation, or a single capital letter."""
    if text[end - 1] != ".":
        return False
    start = end - 1
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start : end - 1].lstrip("(\"'“‘")
    return word.casefold() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_long(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> list[tuple[int, int]]:
    """Split one over-long sentence into pieces under the budget, preferring whitespace cuts."""
    pieces: list[tuple[int, int]] = []
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    piece_start: int | None = None
    piece_end = start
    for w_start, w_end in words:
        if piece_start is None:
            piece_start = w_start
        elif count(text[piece_start:w_end]) > max_tokens:
            pieces.append((piece_start, piece_end))
            piece_start = w_start
        piece_end = w_end
        # A single "word" over the budget (a URL, a base64 blob) is cut by characters.
        while count(text[piece_start:piece_end]) > max_tokens and piece_end - piece_start > 1:
            cut = piece_start + max(1, (piece_end - piece_start) // 2)
            while cut > piece_start + 1 and count(text[piece_start:cut]) > max_tokens:
                cut = piece_start + max(1, (cut - piece_start) // 2)
            pieces.append((piece_start, cut))
            piece_start = cut
    if piece_start is not None:
        pieces.append((piece_start, piece_end))
    return pieces


def chunk_text(
    text: str,
    max_tokens: int,
    count: TokenCounter = approx_tokens,
    overlap: int = 0,
    max_sentences: int = 0,
) -> tuple[list[Chunk], list[str]]:
    """Pack whole sentences into chunks of at most `max_tokens` tokens and, when `max_sentences`
    is positive, at most that many sentences.

    `overlap` repeats that many trailing sentences of a chunk at the start of the next,
    so entities near a border are seen with context; the pipeline merges the duplicates.
    Returns the chunks and any warnings (sentences that had to be split).
    """
    warnings: list[str] = []
    units: list[tuple[int, int]] = []
    for s_start, s_end in split_sentences(text):
        if count(text[s_start:s_end]) <= max_tokens:
            units.append((s_start, s_end))
            continue
        pieces = _split_long(text, s_start, s_end, max_tokens, count)
        warnings.append(
            f"sentence at characters {s_start}-{s_end} is longer than {max_tokens} tokens; "
            f"split into {len(pieces)} pieces"
        )
        units.extend(pieces)

    # Token counts add up across sentences (up to a token at each seam), so each unit is
    # counted once and the packing stays linear in the document length.
    sizes = [count(text[a:b]) for a, b in units]
    chunks: list[Chunk] = []
    current: list[int] = []

    def no_room(size: int) -> bool:
        """Whether the current chunk cannot take a unit of `size` tokens."""
        full = max_sentences > 0 and len(current) >= max_sentences
        return full or sum(sizes[i] for i in current) + size > max_tokens

    for index, size in enumerate(sizes):
        if current and no_room(size):
            chunks.append(_make_chunk(text, units, current))
            current = current[-overlap:] if overlap else []
            while current and no_room(size):
                current.pop(0)
        current.append(index)
    if current:
        chunks.append(_make_chunk(text, units, current))
    return chunks, warnings


def _make_chunk(text: str, units: list[tuple[int, int]], indices: list[int]) -> Chunk:
    start, end = units[indices[0]][0], units[indices[-1]][1]
    return Chunk(start, end, text[start:end])

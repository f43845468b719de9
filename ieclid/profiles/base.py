"""What every profile shares: the types of a chat renderer and of an ending rule, and the
helpers that read answers (labels as the model wrote them, "nothing found" phrases, `a: b;`
lists)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

ChatRenderer = Callable[[list[dict[str, str]]], str]
# The answer so far -> the answer it ends as, when it should end now; None to go on.
Ending = Callable[[str], str | None]


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

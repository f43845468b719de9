"""On-demand IE tables: markdown in and out, and the grammars that keep rows well formed.

A table is generated in two steps so every row has the right number of cells: first
the header line alone (unless `--columns` fixed it), then the rows, with the header and
separator given to the model as the start of its answer.
"""

from __future__ import annotations

import re

from ieclid.grammar import MAX_FREE_SPAN_CHARS, literal
from ieclid.tasks import Table

_SEPARATOR_CELL = re.compile(r":?-{1,}:?")
MAX_COLUMNS = 12
MAX_HEADER_CHARS = 40
# Cells that say "nothing here", as the on-demand IE scorer normalises them.
EMPTY_CELLS = {"", "-", "n/a", "na", "none", "not specified", "not mentioned", "unknown"}


def header_lines(columns: tuple[str, ...]) -> str:
    """The header and separator lines of a markdown table."""
    return "| " + " | ".join(columns) + " |\n" + "|" + " --- |" * len(columns) + "\n"


def _split_row(line: str) -> list[str] | None:
    line = line.strip()
    if not line.startswith("|"):
        return None
    body = line[1:-1] if line.endswith("|") and len(line) > 1 else line[1:]
    return [cell.strip() for cell in body.split("|")]


def parse_table(answer: str, columns: tuple[str, ...], problems: list[str]) -> Table:
    """Columns from the header (when `columns` is empty) and rows, padded or cut to fit them.

    Text before the table (ADELIE's `[Answer]: ` on the header line) is ignored."""
    answer = answer.split("[Answer]:", 1)[-1]
    rows: list[tuple[str, ...]] = []
    found = columns
    for line in answer.splitlines():
        cells = _split_row(line)
        if cells is None:
            continue
        if not found:
            found = tuple(cells)
            continue
        if all(_SEPARATOR_CELL.fullmatch(c) for c in cells) or not any(cells):
            continue
        if len(cells) != len(found):
            problems.append(f"a table row has {len(cells)} cells for {len(found)} columns")
            cells = (cells + [""] * len(found))[: len(found)]
        rows.append(tuple(cells))
    if not found and answer.strip():
        problems.append(f"no markdown table in the answer: {answer.strip()[:80]!r}")
    return Table(found, tuple(rows))


def end_before_a_repeated_row(answer: str) -> str | None:
    """A table answer ended before its latest complete row when that row repeats an earlier one,
    or holds only cells of earlier rows with one of them moved to another column: small models
    that do so go on cycling through what they wrote (`| 50 mg | 10 mg |` after the rows for
    atenolol, 50 mg and amlodipine, 10 mg)."""
    if not answer.endswith("\n"):
        return None
    lines = answer.splitlines(keepends=True)
    last = _split_row(lines[-1])
    if last is None or not any(last):
        return None
    earlier = [row for row in map(_split_row, lines[:-1]) if row is not None]
    if last in earlier:
        return "".join(lines[:-1])
    seen = {(column, cell) for row in earlier for column, cell in enumerate(row)}
    cells = {cell for _, cell in seen}
    filled = [(column, cell) for column, cell in enumerate(last) if cell.casefold() not in EMPTY_CELLS]
    if filled and all(cell in cells for _, cell in filled) and any(item not in seen for item in filled):
        return "".join(lines[:-1])
    return None


def table_grammar(prefix: str, columns: tuple[str, ...]) -> str:
    """Without columns: `prefix` and one header line. With them: rows of exactly that many cells."""
    cell = f"cell ::= [^|\\n\\r]{{1,{MAX_FREE_SPAN_CHARS}}}"
    if not columns:
        head = f"{literal(prefix)} " if prefix else ""
        name = f"name ::= [^|\\n\\r]{{1,{MAX_HEADER_CHARS}}}"
        return f'root ::= {head}"|" (name "|"){{1,{MAX_COLUMNS}}} "\\n"\n{name}\n'
    row = '"|" ' + ' "|" '.join(["cell"] * len(columns)) + ' "|\\n"'
    return f"root ::= row*\nrow ::= {row}\n{cell}\n"

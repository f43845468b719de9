"""Build GBNF grammars that make a model's answer parse, and copy spans verbatim.

The key device is the span grammar: a trie over the word sequences of the input
chunk, so any entity, head or tail the model writes is an exact substring of the
text. Small models then cannot misspell, paraphrase or invent mentions, and every
item grounds exactly. Grammars are plain strings here; the backend validates them
before use, because an invalid grammar crashes llama.cpp.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_PIECE = re.compile(r"\w+|[^\w\s]")

# Longest span, in word pieces, that the span grammars allow (a long title or name).
MAX_SPAN_PIECES = 8


def literal(text: str) -> str:
    """A GBNF string literal; quotes, backslashes, controls and non-ASCII are escaped."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code > 0x7E:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def alternatives(options: Iterable[str], escape: Callable[[str], str] = str) -> str:
    """`( "a" | "b" )` over escaped options, longest first so no option shadows another."""
    unique = sorted(set(options), key=lambda s: (-len(s), s))
    if not unique:
        raise ValueError("a choice needs at least one option")
    return "(" + " | ".join(literal(escape(o)) for o in unique) + ")"


def word_pieces(text: str) -> list[tuple[int, int]]:
    """Word runs and single punctuation marks: the units spans start and end on."""
    return [(m.start(), m.end()) for m in _PIECE.finditer(text)]


def _edge(text: str, pieces: list[tuple[int, int]], j: int, first: bool) -> str | None:
    """Text that extends a span to piece j: the piece, or the gap plus the piece.

    None when the gap holds a line break: spans never run across lines.
    """
    if first:
        return text[pieces[j][0] : pieces[j][1]]
    edge = text[pieces[j - 1][1] : pieces[j][1]]
    return None if "\n" in edge or "\r" in edge else edge


def span_rules(
    text: str,
    name: str = "span",
    escape: Callable[[str], str] = str,
    max_pieces: int = MAX_SPAN_PIECES,
) -> list[str]:
    """Rules for `name ::=` any run of 1..max_pieces word pieces of `text`, exactly as written.

    A trie over the runs, so shared prefixes are one rule. `escape` maps raw text to how it
    must appear in the answer (e.g. inside a JSON string). Empty when the text has no words.
    """
    pieces = word_pieces(text)
    trie: list[dict[str, int]] = [{}]  # node -> {edge text: child}; node 0 is the span start
    for i in range(len(pieces)):
        node = 0
        for j in range(i, min(len(pieces), i + max_pieces)):
            edge = _edge(text, pieces, j, first=j == i)
            if edge is None:
                break
            child = trie[node].get(edge)
            if child is None:
                child = len(trie)
                trie[node][edge] = child
                trie.append({})
            node = child
    if not trie[0]:
        return []

    def rule_name(node: int) -> str:
        return name if node == 0 else f"{name}-{node}"

    rules = []
    for node, children in enumerate(trie):
        if children:
            alts = [
                f"{literal(escape(edge))} {rule_name(child)}?" if trie[child] else literal(escape(edge))
                for edge, child in children.items()
            ]
            rules.append(f"{rule_name(node)} ::= " + " | ".join(alts))
    return rules


def ordered_item_rules(
    text: str,
    *,
    open_: str,
    close: str,
    sep: str,
    end: str,
    escape: Callable[[str], str] = str,
    max_pieces: int = MAX_SPAN_PIECES,
) -> list[str]:
    """Rules for `items ::=` a list of span items in reading order, without overlaps.

    Each item is `open_ SPAN close` (`close` is a GBNF fragment, e.g. a label rule), items
    are joined by `sep` and the list ends with `end` (literals; may be empty). A span must
    start after the previous one ends, so a model cannot repeat an item or loop, and every
    repeated mention of a string is a distinct, placed item.
    """
    pieces = word_pieces(text)
    n = len(pieces)
    lit_open = f"{literal(open_)} " if open_ else ""
    lit_sep = f"{literal(sep)} " if sep else ""

    def finish(rest: str) -> str:
        return f"({literal(end)} | {rest})" if end else f"({rest})?"

    if n == 0:
        return [f"items ::= {literal(end)}" if end else 'items ::= ""']
    # With an end marker the list may be empty; without one, an empty answer is the caller's
    # to spell (e.g. ADELIE's "NA"), so the list holds at least one item.
    rules = [f"items ::= {finish(lit_open + 'start-0')}" if end else f"items ::= {lit_open}start-0"]
    for i in range(1, n):
        rules.append(f"next-{i} ::= {finish(lit_sep + lit_open + f'start-{i}')}")
    if end:
        rules.append(f"next-{n} ::= {literal(end)}")
    for i in range(n):
        rules.append(f"start-{i} ::= c-{i}-0" + (f" | start-{i + 1}" if i + 1 < n else ""))
    for j in range(n):
        for d in range(min(max_pieces, j + 1)):
            edge = _edge(text, pieces, j, first=d == 0)
            if edge is None:
                continue
            stop = close if j + 1 == n and not end else f"{close} next-{j + 1}"
            more = j + 1 < n and d + 1 < max_pieces and _edge(text, pieces, j + 1, False) is not None
            body = f"({stop} | c-{j + 1}-{d + 1})" if more else stop
            rules.append(f"c-{j}-{d} ::= {literal(escape(edge))} {body}")
    return rules


def json_string_escape(text: str) -> str:
    """How `text` appears between the quotes of a JSON string (as orjson/json write it)."""
    out = []
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)

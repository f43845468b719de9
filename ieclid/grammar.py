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


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(text: str, keep: Callable[[int], bool]) -> str:
    """Backslash escapes shared by GBNF and JSON; other characters outside `keep` as \\uXXXX."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif keep(code):
            out.append(ch)
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


def literal(text: str) -> str:
    """A GBNF string literal: printable ASCII as is, everything else escaped."""
    return '"' + _escape(text, lambda code: 0x20 <= code <= 0x7E) + '"'


def json_string_escape(text: str) -> str:
    """How `text` appears between the quotes of a JSON string (as `json.dumps` writes it)."""
    return _escape(text, lambda code: code >= 0x20)


# Longest free-text mention the free span grammars allow, in characters.
MAX_FREE_SPAN_CHARS = 120
_JSON_CHAR = r'([^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}))'


def free_span_rule(name: str = "span", *, json: bool = False, forbid: str = "") -> str:
    """`name ::=` any text up to MAX_FREE_SPAN_CHARS: a JSON string body, or text without `forbid`.

    Free spans let a model write a mention in its own way; grounding places it afterwards.
    """
    if json:
        return f"{name} ::= {_JSON_CHAR}{{1,{MAX_FREE_SPAN_CHARS}}}"
    banned = "".join(_CLASS_ESCAPES.get(ch, ch) for ch in forbid + "\n\r")
    return f"{name} ::= [^{banned}]{{1,{MAX_FREE_SPAN_CHARS}}}"


_CLASS_ESCAPES = {"\n": "\\n", "\r": "\\r", "\\": "\\\\", "]": "\\]", "^": "\\^", "-": "\\-"}


# English articles, prepositions, conjunctions, pronouns and auxiliaries. Small models
# otherwise name "on" or "in" as the event, or "is" and "of" as names.
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "of", "in", "on", "at", "by", "for",
    "from", "to", "with", "into", "onto", "upon", "about", "over", "under", "after", "before",
    "during", "since", "until", "as", "than", "and", "or", "but", "nor", "so", "yet", "if", "then",
    "when", "while", "where", "because", "he", "she", "it", "they", "we", "you", "i", "me", "him",
    "her", "them", "us", "his", "its", "their", "our", "your", "my", "who", "whom", "whose",
    "which", "what", "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had",
    "do", "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might",
    "must", "not", "no", "two", "three",
})

# Where an event trigger may not start: a function word however it is written ("The storm").
TRIGGER_UNSTARTABLE = frozenset(
    form for word in FUNCTION_WORDS for form in (word, word.capitalize(), word.upper())
)
# Where a name may not start: a function word written in lower case ("by the ARTs", "of",
# "is"). Capitalised it can begin a title ("The X-Files", "I Feel Love"), so that stays open.
NAME_UNSTARTABLE = FUNCTION_WORDS


def starts_on(words: frozenset[str], text: str) -> bool:
    """Whether the first word piece of `text` is one of `words` (as written)."""
    first = _PIECE.search(text)
    return first is not None and first.group() in words


def unstartable_words(task: str) -> frozenset[str]:
    """Words a span of `task` may not start on: triggers and names only (an event argument
    can be "he")."""
    return {"ed": TRIGGER_UNSTARTABLE, "ner": NAME_UNSTARTABLE}.get(task, frozenset())


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
    unstartable: frozenset[str] = frozenset(),
    ws: str = "",
) -> list[str]:
    """Rules for `items ::=` a list of span items in reading order, without overlaps.

    Each item is `open_ SPAN close` (`close` is a GBNF fragment, e.g. a label rule), items
    are joined by `sep` and the list ends with `end` (literals; may be empty). A span must
    start after the previous one ends, so a model cannot repeat an item or loop, and every
    repeated mention of a string is a distinct, placed item. No span starts on a word of
    `unstartable` (compared as written). `ws` names a rule of optional white space allowed
    around `sep` and before `end` (pretty-printed JSON).
    """
    pieces = word_pieces(text)
    n = len(pieces)
    lit_open = f"{literal(open_)} " if open_ else ""
    space = f"{ws} " if ws else ""
    lit_sep = f"{space}{literal(sep)} {space}" if sep else ""
    lit_end = f"{space}{literal(end)}" if end else ""

    def finish(rest: str) -> str:
        return f"({lit_end} | {rest})" if end else f"({rest})?"

    # Mentions start on a word, and do not end on a free-standing mark ("Paris ,").
    wordy = [text[a].isalnum() or text[a] == "_" for a, _ in pieces]
    startable = [w and text[a:b] not in unstartable
                 for w, (a, b) in zip(wordy, pieces, strict=True)]
    can_stop = [wordy[j] or (j > 0 and pieces[j - 1][1] == pieces[j][0]) for j in range(n)]
    depth = min(max_pieces, n)
    # valid[j][d]: a span can pass through piece j as its (d+1)-th piece and end somewhere.
    valid = [[False] * depth for _ in range(n + 1)]
    for j in range(n - 1, -1, -1):
        for d in range(min(depth, j + 1)):
            if _edge(text, pieces, j, first=d == 0) is None or (d == 0 and not startable[j]):
                continue
            valid[j][d] = can_stop[j] or (d + 1 < depth and _continues(text, pieces, j, d, valid))
    starts = [valid[i][0] for i in range(n)]
    if not any(starts):
        return [f"items ::= {lit_end}" if end else 'items ::= ""']
    # With an end marker the list may be empty; without one, an empty answer is the caller's
    # to spell (e.g. ADELIE's "NA"), so the list holds at least one item.
    rules = [f"items ::= {finish(lit_open + 'start-0')}" if end else f"items ::= {lit_open}start-0"]
    for i in range(1, n):
        if any(starts[i:]):
            rules.append(f"next-{i} ::= {finish(lit_sep + lit_open + f'start-{i}')}")
    for i in range(n):
        alts = [f"c-{i}-0"] if starts[i] else []
        if any(starts[i + 1 :]):
            alts.append(f"start-{i + 1}")
        if alts:
            rules.append(f"start-{i} ::= " + " | ".join(alts))
    for j in range(n):
        after = j + 1 if any(starts[j + 1 :]) else None
        if after is None:
            stop = f"{close} {lit_end}" if end else close
        else:
            stop = f"{close} next-{after}"
        for d in range(min(depth, j + 1)):
            if not valid[j][d]:
                continue
            edge = literal(escape(_edge(text, pieces, j, first=d == 0) or ""))
            more = d + 1 < depth and _continues(text, pieces, j, d, valid)
            options = ([stop] if can_stop[j] else []) + ([f"c-{j + 1}-{d + 1}"] if more else [])
            rules.append(f"c-{j}-{d} ::= {edge} ({' | '.join(options)})")
    return rules


def _continues(
    text: str, pieces: list[tuple[int, int]], j: int, d: int, valid: list[list[bool]]
) -> bool:
    """Whether a span at piece j (depth d) may go on to piece j+1."""
    return (
        j + 1 < len(pieces)
        and _edge(text, pieces, j + 1, first=False) is not None
        and valid[j + 1][d + 1]
    )

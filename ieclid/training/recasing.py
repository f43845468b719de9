"""Capitals back into lower-cased training text (MultiCoNER ships its sentences lower-cased).

Why: a model that only ever sees entities in cased text learns that a lower-case word is no
name, and one trained on lower-cased text alone learns the opposite of what users' documents
show. `ieclid train data` re-cases a share of a lower-cased source's examples and leaves the
rest as they are: a sentence's first letter and the words of each entity mention are
capitalised (but not the short function words inside a name: `Hildegard of Bingen`). Offsets
do not move: only letters change case.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ieclid.datasets import Annotated

# Words that stay lower case inside a name (`Bank of America`, `Leonardo da Vinci`).
INNER_WORDS = frozenset({
    "a", "an", "and", "as", "at", "by", "de", "del", "der", "des", "di", "du", "for", "from", "in",
    "la", "le", "of", "on", "or", "the", "to", "und", "van", "von", "y",
})
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def is_lower_cased(docs: list[Annotated], tolerance: float = 0.02) -> bool:
    """Whether a source's texts are lower-cased throughout (all but `tolerance` of them)."""
    texts = [doc.text for doc in docs if any(ch.isalpha() for ch in doc.text)]
    cased = sum(1 for text in texts if text != text.lower())
    return bool(texts) and cased <= tolerance * len(texts)


def recased(doc: Annotated) -> Annotated:
    """The document with its first word and its entity mentions' words capitalised."""
    chars = list(doc.text)
    spans = [(start, end) for start, end, _ in doc.entities]
    first = _WORD.search(doc.text)
    if first:
        spans.append((first.start(), first.end()))
    for start, end in spans:
        for number, word in enumerate(_WORD.finditer(doc.text, start, end)):
            upper = chars[word.start()].upper()
            if (number and word.group(0) in INNER_WORDS) or len(upper) != 1:  # ß: SS would move offsets
                continue
            chars[word.start()] = upper
    return replace(doc, text="".join(chars))

"""CoNLL BIO for flat NER: one token and its tag per line, a blank line between documents.

Tokens are runs of word characters or single other characters, as most NER corpora split
them; an entity tags every token that starts inside it. Overlapping entities cannot be
written in BIO: the one that starts first (then the longer) wins, and the rest are counted.
"""

from __future__ import annotations

import re

from ieclid.exchange import exportable

_TOKEN = re.compile(r"\w+|[^\w\s]")


def export_record(record: dict) -> tuple[str, int]:
    items = exportable(record)
    entities = sorted(items.entities, key=lambda e: (e["start"], -(e["end"] - e["start"])))
    tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(record["text"])]
    tags = ["O"] * len(tokens)
    skipped = items.skipped + len(items.relations) + len(items.events)
    for entity in entities:
        inside = [i for i, (start, _) in enumerate(tokens) if entity["start"] <= start < entity["end"]]
        if not inside or any(tags[i] != "O" for i in inside):
            skipped += 1
            continue
        label = re.sub(r"\s+", "_", entity["label"])
        for n, i in enumerate(inside):
            tags[i] = f"{'B' if n == 0 else 'I'}-{label}"
    return "".join(f"{token}\t{tag}\n" for (_, token), tag in zip(tokens, tags, strict=True)) + "\n", skipped

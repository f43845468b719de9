"""Choose few-shot demonstrations: a fixed set per run, so their prompt prefix is shared.

Selection is deterministic (seeded) and greedy on label coverage: each pick adds the
most labels not yet shown, shorter texts first, since every demonstration token is
paid for in context and prompt time.
"""

from __future__ import annotations

import random

from ieclid.datasets import Annotated
from ieclid.schema import Schema
from ieclid.tasks import SPAN_TASKS, Example, span_labels

MAX_DEMO_CHARS = 400


def _labels(example: Example) -> set[str]:
    labels = {label for _, label in example.mentions} | {t[1] for t in example.triples}
    if example.choice and example.choice[0]:
        labels.add(example.choice[0])
    return labels


def _restrict(example: Example, task: str, schema: Schema) -> Example:
    """Drop demo items whose labels the schema does not have."""
    entity_names = {label.name for label in span_labels(task, schema)} if task in SPAN_TASKS else set()
    relation_names = set(schema.relation_names)
    choice = example.choice
    if choice and choice[0] is not None and choice[0] not in relation_names:
        choice = (None, False)
    return Example(
        text=example.text,
        mentions=tuple(m for m in example.mentions if m[1] in entity_names),
        triples=tuple(t for t in example.triples if t[1] in relation_names),
        choice=choice,
        tuples=example.tuples,
    )


def select_demos(
    docs: list[Annotated], task: str, schema: Schema, shots: int, seed: int = 0
) -> list[Example]:
    """Pick `shots` examples that together show as many of the schema's labels as possible."""
    if shots <= 0:
        return []
    pool = [_restrict(ex, task, schema) for doc in docs for ex in doc.examples(task)]
    if task in ("rc", "ere"):
        pool = [ex for ex in pool if ex.choice is not None]
    elif task in SPAN_TASKS:
        pool = [ex for ex in pool if ex.mentions]
    elif task == "openie":
        pool = [ex for ex in pool if ex.tuples]
    else:
        pool = [ex for ex in pool if ex.triples]
    short = [ex for ex in pool if len(ex.text) <= MAX_DEMO_CHARS] or pool
    random.Random(seed).shuffle(short)
    chosen: list[Example] = []
    shown: set[str] = set()
    while short and len(chosen) < shots:
        # New labels first, then examples with several items (a model shown only single-item
        # answers learns to stop after one), then shorter texts.
        best = max(short, key=lambda ex: (len(_labels(ex) - shown), min(_size(ex), 3), -len(ex.text)))
        short.remove(best)
        chosen.append(best)
        shown |= _labels(best)
    return chosen


def _size(example: Example) -> int:
    return len(example.mentions) + len(example.triples) + len(example.tuples)

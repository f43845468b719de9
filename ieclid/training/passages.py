"""Consecutive sentences of an entity-annotated source joined into passages, for SFT.

Why: the NER sets are one sentence per example, so a model trained on them alone learns to stop
after the first sentence's names and to label a repeated name once; users give it paragraphs
and whole documents. A passage keeps every sentence's annotation, so every mention in it is
labelled, repeats included.
"""

from __future__ import annotations

import random

from ieclid.datasets import Annotated


def joined(docs: list[Annotated], share: float, rng: random.Random, most: int = 4) -> list[Annotated]:
    """The documents with about `share` of them merged, in order, into passages of 2 to `most`
    sentences. Only entity-only annotations join (relation, event and open IE ones keep their
    own text)."""
    out: list[Annotated] = []
    at = 0
    while at < len(docs):
        size = rng.randint(2, most) if share and rng.random() < share else 1
        group = docs[at : at + size]
        while len(group) > 1 and not all(_entities_only(doc) for doc in group):
            group = group[:-1]
        out.append(_join(group) if len(group) > 1 else group[0])
        at += len(group)
    return out


def _entities_only(doc: Annotated) -> bool:
    return not (doc.triples or doc.choice or doc.events or doc.tuples or doc.table)


def _join(group: list[Annotated]) -> Annotated:
    text, entities = "", []
    for doc in group:
        if text:
            text += " "
        entities += [(start + len(text), end + len(text), label) for start, end, label in doc.entities]
        text += doc.text
    return Annotated(id="+".join(doc.id for doc in group), text=text, entities=entities)

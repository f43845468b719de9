"""Choose few-shot demonstrations: a fixed set per run, so their prompt prefix is shared.

Selection is deterministic (seeded) and greedy on label coverage: each pick adds the
most labels not yet shown, shorter texts first, since every demonstration token is
paid for in context and prompt time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ieclid.datasets import Annotated
from ieclid.errors import UsageError
from ieclid.profiles.base import match_label
from ieclid.schema import Schema
from ieclid.tasks import CHOICE_TASKS, SPAN_TASKS, Example, span_labels

MAX_DEMO_CHARS = 400


def _labels(example: Example) -> set[str]:
    labels = {label for _, label in example.mentions} | {t[1] for t in example.triples}
    if example.choice and example.choice[0]:
        labels.add(example.choice[0])
    return labels


@dataclass(frozen=True)
class DemoLabels:
    """How the tags of a demonstration file meet the labels a task asks for."""

    mapping: dict[str, str]  # demonstration tag -> schema label, for every tag that has one
    unknown: tuple[str, ...]  # tags with no schema label: their items are left out
    inverse: frozenset[str] = frozenset()  # relation tags that name their label the other way round

    def renamed(self) -> dict[str, str]:
        """The tags that are not the label's own name, as they were mapped (ends swapped, said)."""
        return {tag: f"{name} (ends swapped)" if tag in self.inverse else name
                for tag, name in self.mapping.items() if tag != name}


def parse_label_map(text: str | None) -> dict[str, str]:
    """`--label-map PER=person,ORG=organization` as a dict."""
    mapping: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        tag, sep, name = pair.partition("=")
        if not sep or not tag.strip() or not name.strip():
            raise UsageError(f"--label-map: {pair.strip()!r} is not TAG=label")
        mapping[tag.strip()] = name.strip()
    return mapping


def task_labels(task: str, schema: Schema) -> tuple[list[str], dict[str, str]]:
    """The labels a task's demonstrations may carry, and the schema's aliases for them."""
    if task in SPAN_TASKS:
        labels = span_labels(task, schema)
        aliases = {alias.casefold(): label.name for label in labels for alias in label.aliases}
        return [label.name for label in labels], aliases
    aliases = {alias.casefold(): rel.name for rel in schema.relations for alias in rel.aliases}
    return list(schema.relation_names), aliases


def _inverse_aliases(task: str, schema: Schema) -> dict[str, str]:
    """Relation names data sets give the other way round (subsidiary for part of)."""
    if task in SPAN_TASKS:
        return {}
    return {alias.casefold(): rel.name for rel in schema.relations for alias in rel.inverse_aliases}


def _abbreviates(tag: str, name: str) -> bool:
    """PER for person, ORG for organization, LOC for location, MISC for miscellaneous."""
    key = "".join(ch for ch in tag.casefold() if ch.isalnum())
    return len(key) >= 3 and "".join(ch for ch in name.casefold() if ch.isalnum()).startswith(key)


def demo_labels(
    docs: list[Annotated], task: str, schema: Schema, label_map: dict[str, str] | None = None
) -> DemoLabels:
    """Map each tag the demonstrations use to a label of the schema: as `label_map` says, by an
    alias the schema gives, by name (ignoring case, `-`, `_` and spaces), or as the one label
    it abbreviates; the rest are unknown."""
    names, aliases = task_labels(task, schema)
    inverse_aliases = _inverse_aliases(task, schema)
    label_map = label_map or {}
    for tag, name in label_map.items():
        if name not in names:
            raise UsageError(
                f"--label-map {tag}={name}: {name!r} is not a label of this run; "
                f"choose from: {', '.join(names)}"
            )
    tags = sorted({tag for doc in docs for ex in doc.examples(task) for tag in _labels(ex)})
    mapping: dict[str, str] = {}
    unknown = []
    inverse = set()
    for tag in tags:
        if tag not in label_map and tag.casefold() in inverse_aliases:
            mapping[tag] = inverse_aliases[tag.casefold()]
            inverse.add(tag)
            continue
        abbreviated = [name for name in names if _abbreviates(tag, name)]
        found = (
            label_map.get(tag) or aliases.get(tag.casefold()) or match_label(tag, names)
            or (abbreviated[0] if len(abbreviated) == 1 else None)
        )
        if found:
            mapping[tag] = found
        else:
            unknown.append(tag)
    return DemoLabels(mapping, tuple(unknown), frozenset(inverse))


def relabelled(example: Example, mapping: dict[str, str], inverse: frozenset[str] = frozenset()) -> Example:
    """The example in the schema's labels; items whose tags have none are dropped. A relation
    whose tag is in `inverse` runs the other way in the schema: its ends swap."""
    choice = example.choice
    if choice and choice[0] is not None:
        tag, reverse = choice
        choice = (mapping[tag], reverse != (tag in inverse)) if tag in mapping else (None, False)
    return Example(
        text=example.text,
        mentions=tuple((text, mapping[label]) for text, label in example.mentions if label in mapping),
        triples=tuple((t, mapping[r], h) if r in inverse else (h, mapping[r], t)
                      for h, r, t in example.triples if r in mapping),
        choice=choice,
        tuples=example.tuples,
    )


def select_demos(
    docs: list[Annotated], task: str, schema: Schema, shots: int, seed: int = 0,
    labels: DemoLabels | None = None,
) -> list[Example]:
    """Pick `shots` examples that together show as many of the schema's labels as possible;
    `labels` maps the file's tags to the schema's (`demo_labels` by default)."""
    if shots <= 0:
        return []
    labels = labels or demo_labels(docs, task, schema)
    pool = [relabelled(ex, labels.mapping, labels.inverse) for doc in docs for ex in doc.examples(task)]
    if task in CHOICE_TASKS:
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

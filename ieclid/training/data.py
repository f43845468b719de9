"""IEInstruct-style instruction data (ADELIE, Qi et al. 2024) from annotated sets, for SFT.

Each annotated example becomes a chat: an instruction drawn from a pool, the label options
(shuffled, some non-gold ones dropped, with descriptions for some examples and opaque
symbols `LABEL_k` for some, so the model learns to read definitions; optionally other names
for the entity types, or coarse types in place of specific ones: label_names.py), an
answer-format sentence (ADELIE's `[Answer]: x: type; ` triplets mostly, JSON or plain
sentences for a share), and for half the examples 1-8 demonstrations as earlier turns. Most
examples whose answer is empty (NA) are dropped, every source is capped, and the sources are
mixed in proportion to their size, optionally with general chat data at a given IE share.

The canonical form (first pool entry, triplets, no symbols) is exactly what the `adelie`
profile sends at extraction time, so a model trained on this data runs with `--profile adelie`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

from ieclid.datasets import Annotated, oneie_schema, read_annotated, sniff_format
from ieclid.demos import demo_labels, relabelled
from ieclid.profiles.adelie import (
    EAE_INSTRUCTION,
    EAE_QUERY,
    ED_INSTRUCTION,
    ED_QUERY,
    NER_FEW,
    NER_QUERY,
    NER_ZERO,
    OIE_INSTRUCTION,
    OIE_QUERY,
    RC_FEW,
    RC_QUERY,
    RC_ZERO,
    RE_FEW,
    RE_ZERO,
    entity_markers,
)
from ieclid.schema import Label, RelationType, Schema, load_schema
from ieclid.tasks import Example
from ieclid.tasks.markers import find_marked_pair, mark
from ieclid.training.label_names import FALLBACKS, RENAMES
from ieclid.training.passages import joined
from ieclid.training.recasing import is_lower_cased, recased

# Tasks each annotation format gives; PHEE and OneIE (GENEVA) give both halves of event
# extraction (`ee` runs them one after the other), DocRED sentences relation triples (`re`) and
# the relation of each marked pair (`rc`).
FORMAT_TASKS = {"conll": ("ner",), "records": ("ner",), "semeval": ("rc",), "fewrel": ("rc",),
                "phee": ("ed", "eae"), "oneie": ("ed", "eae"), "carb": ("openie",),
                "docred": ("re", "rc")}

# Instruction pools: ADELIE's test-time wording first (what the adelie profile sends), then
# paraphrases written for ieclid. {options} is the label list; {text} (where present) the text.
POOLS: dict[str, tuple[str, ...]] = {
    "ner": (
        NER_FEW,
        NER_ZERO.replace("Text: '{text}'", "{text}"),
        "Find the named entities in the text and give each one a type from this list: [{options}].\n",
        "{text}\n\nList every entity mention above together with its category. Categories: [{options}].\n",
        "Which spans of the text name an entity of one of these types? [{options}]\n",
        "Tag the entities of the following text. Allowed types: [{options}]. Copy each mention exactly.\n",
    ),
    "rc": (
        RC_FEW,
        RC_ZERO.replace("Text: '{text}'", "{text}"),
        "Two entities are marked with <entity> and </entity>. Which relation holds between them? "
        "Options: [{options}]. Answer NA if none of them holds.\n",
        "{text}\n\nClassify the relation between the two marked entities into one of: [{options}], or NA.\n",
    ),
    "ed": (
        ED_INSTRUCTION,
        "Find the words that trigger events in the text and give each its event type from [{options}].\n",
        "{text}\n\nWhich events does this text report? Name the trigger word and the type; types: "
        "[{options}].\n",
    ),
    "eae": (
        EAE_INSTRUCTION,
        "The event trigger is marked with <event> and </event>. Extract the event's arguments and "
        "give each a role from the Roleset.\n\nRoleset: [{options}]\n",
    ),
    "re": (
        RE_FEW,
        RE_ZERO.replace("Text: '{text}'", "{text}"),
        "List every pair of entities in the text that stands in one of these relations, as "
        "(subject; relation; object): [{options}].\n",
        "{text}\n\nWhich relations from [{options}] does this text state, and between which entities?\n",
    ),
    "openie": (
        OIE_INSTRUCTION.replace("{text}", "the text"),
        "Extract every relational tuple (predicate, subject, object, and time and place when the "
        "sentence gives them) from {text}.\n",
    ),
}
QUERIES = {"ner": NER_QUERY, "rc": RC_QUERY, "re": RC_QUERY, "ed": ED_QUERY, "eae": EAE_QUERY,
           "openie": OIE_QUERY}
JSON_QUERY = "Please give the answer in json format."
NATURAL_QUERY = 'Please answer in sentences, "[Answer]: "{mention}" is a {type}. "'


@dataclass(frozen=True)
class Recipe:
    """The augmentation rates (ADELIE's where the paper gives them)."""

    seed: int = 0
    cap: int = 5000  # examples per source at most (ADELIE: Limit_dataset 5000)
    na_keep: float = 0.2  # share of empty-answer examples kept (80% filtered)
    fewshot: float = 0.5  # share with demonstrations as earlier turns (format2 rate 0.5)
    max_shots: int = 8
    dropout: float = 0.2  # chance a non-gold option is left out
    describe: float = 0.2  # share with label descriptions in the options
    symbols: float = 0.1  # share with LABEL_k symbols (always with descriptions)
    json_answers: float = 0.05  # share answered in JSON (ADELIE: JSON_RATE 0.05)
    natural_answers: float = 0.1  # share answered in sentences (span tasks)
    text_in_slot: float = 0.7  # where the instruction has a {text} slot, share that fills it
    rename: float = 0.0  # share of NER examples with about half their types under other names
    merge: float = 0.0  # share of NER examples whose specific types fall back to coarse ones
    recase: float = 0.5  # share of a lower-cased source's examples given capitals (recasing.py)
    negative_pairs: int = 2  # rc from relation triples: unrelated pairs per sentence at most
    max_options: int = 30  # labels offered at most (gold ones always): 96 relations would crowd the prompt
    passages: float = 0.0  # share of entity-only sentences joined with their neighbours (passages.py)


@dataclass(frozen=True)
class Source:
    path: str
    schema: Schema | None = None

    @property
    def name(self) -> str:
        return Path(self.path).stem


def parse_source(spec: str) -> Source:
    """`PATH` or `PATH:SCHEMA` (a built-in schema or YAML file for label descriptions)."""
    path, _, schema = spec.partition(":") if not Path(spec).exists() else (spec, "", "")
    return Source(path, load_schema(schema) if schema else None)


def build(sources: list[Source], recipe: Recipe, general: list[dict] | None = None,
          ie_share: float = 1.0, notes: list[str] | None = None) -> list[dict]:
    """The mixed training examples: {"messages": [...], "source", "task"} per line. A source
    given a schema is read in the schema's labels; tags it does not name are left out (a label
    offered only when it is the answer would teach the model to answer every label offered),
    and `notes` gets a line naming them."""
    rng = random.Random(recipe.seed)
    mixed: list[dict] = []
    for source in sources:
        docs = read_annotated(source.path, "training")
        fmt = sniff_format(source.path, "training")
        if is_lower_cased(docs):
            docs = [recased(doc) if rng.random() < recipe.recase else doc for doc in docs]
        if recipe.passages and fmt in ("conll", "records"):
            docs = joined(docs, recipe.passages, rng)
        given = source.schema or (oneie_schema(Path(source.path)) if fmt == "oneie" else None)
        for task in _tasks(fmt, docs):
            schema = given or schema_from_data(docs, task)
            examples = [ex for doc in docs for ex in _examples(doc, task, recipe, rng)]
            if given:  # the data's tags as the schema names them (aliases: OtherPER as person)
                labels = demo_labels(docs, task, schema)
                examples = [relabelled(ex, labels.mapping, labels.inverse) for ex in examples]
                if labels.unknown and notes is not None:
                    shown = ", ".join(labels.unknown[:5]) + (", ..." if len(labels.unknown) > 5 else "")
                    notes.append(f"{source.path}: {task}: {len(labels.unknown)} tags {schema.name} does "
                                 f"not name left out ({shown})")
            made = [_chat(task, schema, ex, examples, recipe, rng) for ex in examples]
            made = [m for m, ex in zip(made, examples, strict=True)
                    if not _empty(task, ex) or rng.random() < recipe.na_keep]
            rng.shuffle(made)
            mixed += [{**m, "source": source.name, "task": task} for m in made[: recipe.cap]]
    rng.shuffle(mixed)
    if general and 0 < ie_share < 1:
        wanted = round(len(mixed) * (1 - ie_share) / ie_share)
        pool = list(general)
        rng.shuffle(pool)
        mixed += [{"messages": g["messages"], "source": "general", "task": "chat"} for g in pool[:wanted]]
        rng.shuffle(mixed)
    return mixed


def _tasks(fmt: str | None, docs: list[Annotated]) -> tuple[str, ...]:
    """What a source teaches: its format's tasks; ieclid records with relations (`re` output, as
    reviewed) give `re` and `rc` too, and `ner` unless every entity is a bare relation end."""
    if fmt != "records" or not any(doc.triples for doc in docs):
        return FORMAT_TASKS.get(fmt or "", ("ner",))
    typed = any(label != "entity" for doc in docs for *_, label in doc.entities)
    return ("ner", "re", "rc") if typed else ("re", "rc")


def schema_from_data(docs: list[Annotated], task: str) -> Schema:
    """The label set a source uses, when no schema names it (no descriptions then)."""
    labels: set[str] = set()
    for doc in docs:
        for ex in doc.examples(task):
            if task not in ("rc", "re"):  # entity types are not relations
                labels |= {label for _, label in ex.mentions}
            labels |= {label for _, label, _ in ex.triples}
            if ex.choice and ex.choice[0]:
                labels.add(ex.choice[0])
        if task == "rc":  # relation triples become marked pairs
            labels |= {label for _, _, label in doc.triples}
    if task in ("rc", "re"):
        return Schema("data", relations=tuple(RelationType(n) for n in sorted(labels)))
    return Schema("data", entities=tuple(Label(n) for n in sorted(labels)))


def _examples(doc: Annotated, task: str, recipe: Recipe, rng: random.Random) -> list[Example]:
    if task == "rc" and doc.choice is None:  # relation triples, not a marked pair
        return _marked_pairs(doc, recipe.negative_pairs, rng)
    return doc.examples(task)


def _marked_pairs(doc: Annotated, negatives: int, rng: random.Random) -> list[Example]:
    """Relation triples as rc examples: each related pair marked <e1>/<e2> with its relation,
    and up to `negatives` pairs of other entities that the annotation relates in no way."""
    spans = [(start, end) for start, end, _ in doc.entities]
    related = {(head, tail): label for head, tail, label in doc.triples}
    texts = [doc.text[s:e] for s, e in spans]
    pairs = [(h, t) for h in range(len(spans)) for t in range(len(spans))
             if h != t and texts[h] != texts[t] and (h, t) not in related and (t, h) not in related
             and not _overlap(spans[h], spans[t])]
    chosen = [*related, *rng.sample(pairs, min(negatives, len(pairs)))]
    return [Example(mark(doc.text, {"e1": spans[h], "e2": spans[t]}), choice=(related.get((h, t)), False))
            for h, t in chosen if not _overlap(spans[h], spans[t])]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _empty(task: str, ex: Example) -> bool:
    if task == "rc":
        return not ex.choice or ex.choice[0] is None
    if task == "openie":
        return not ex.tuples
    if task == "re":
        return not ex.triples
    return not ex.mentions


@dataclass(frozen=True)
class _Form:
    """The choices made for one example (and its demonstrations)."""

    template: str
    names: dict[str, str]  # label -> what the prompt and answers call it (itself or LABEL_k)
    options: str
    answers: str  # triplet, json or natural


def _form(task: str, schema: Schema, gold: set[str], recipe: Recipe, rng: random.Random) -> _Form:
    labels = _labels(task, schema)
    known = {lab.name for lab in labels}
    kept = [lab for lab in labels if lab.name in gold or rng.random() >= recipe.dropout]
    if len(kept) > recipe.max_options:
        others = [lab for lab in kept if lab.name not in gold]
        spare = set(rng.sample(range(len(others)), max(0, recipe.max_options - (len(kept) - len(others)))))
        kept = [lab for lab in kept if lab.name in gold] + [lab for n, lab in enumerate(others) if n in spare]
    merged: dict[str, str] = {}
    if task == "ner" and recipe.merge and rng.random() < recipe.merge:
        merged = {lab.name: FALLBACKS[lab.name] for lab in kept if FALLBACKS.get(lab.name) in known}
        kept = [lab for lab in kept if lab.name not in merged]
        kept += [lab for lab in labels if lab.name in set(merged.values()) - {k.name for k in kept}]
    rng.shuffle(kept)
    described = all(lab.description for lab in kept) and bool(kept)
    symbols = described and task != "openie" and rng.random() < recipe.symbols
    # A fallback type's description ("a person who is not a politician") would contradict the merge.
    describe = symbols or (described and rng.random() < recipe.describe and not merged)
    names = {lab.name: (f"LABEL_{n}" if symbols else lab.name) for n, lab in enumerate(kept, start=1)}
    if not symbols and task == "ner" and recipe.rename and rng.random() < recipe.rename:
        names = _renamed(names, rng)
    names |= {specific: names[fallback] for specific, fallback in merged.items()}
    shown = [f"{names[lab.name]}: {lab.description}" if describe else names[lab.name] for lab in kept]
    answers = "triplet"
    roll = rng.random()
    if roll < recipe.json_answers:
        answers = "json"
    elif task in ("ner", "ed", "eae") and roll < recipe.json_answers + recipe.natural_answers:
        answers = "natural"
    return _Form(rng.choice(POOLS[task]), names, ", ".join(shown), answers)


def _renamed(names: dict[str, str], rng: random.Random) -> dict[str, str]:
    """About half the types under another of their names (never one another type is shown as)."""
    shown = set(names.values())
    for label in list(names):
        if label in RENAMES and rng.random() < 0.5:
            other = rng.choice(RENAMES[label])
            if other not in shown:
                shown.add(other)
                names[label] = other
    return names


def _labels(task: str, schema: Schema) -> list[Label]:
    if task == "rc":  # directed relations in both directions, worded as the adelie profile does
        return [Label(r.verbalise(rev), r.description) for r in schema.relations
                for rev in ((False, True) if r.roles else (False,))]
    if task == "re":
        return [Label(r.name, r.description) for r in schema.relations]
    if task == "eae":  # the roles of every event type, once each
        roles = {role.name: role for event in schema.events for role in event.roles}
        return list(roles.values()) or list(schema.entities)
    if task == "ed":
        return [Label(e.name, e.description) for e in schema.events] or list(schema.entities)
    return list(schema.entities)


def _chat(task: str, schema: Schema, ex: Example, pool: list[Example], recipe: Recipe,
          rng: random.Random) -> dict:
    demos: list[Example] = []
    if rng.random() < recipe.fewshot and len(pool) > 1:
        candidates = [d for d in rng.sample(pool, min(len(pool), recipe.max_shots + 1)) if d is not ex]
        demos = candidates[: rng.randint(1, recipe.max_shots)]
    gold = set().union(*(_gold_labels(task, e, schema) for e in [*demos, ex]))
    form = _form(task, schema, gold, recipe, rng)
    if form.answers != "json" and any(_unsafe(task, e) for e in [*demos, ex]):
        form = replace(form, answers="json")  # a ';' or ':' in a mention would break the triplets
    query = {"json": JSON_QUERY, "natural": NATURAL_QUERY}.get(form.answers, QUERIES[task])
    messages: list[dict[str, str]] = []
    for number, shown in enumerate([*demos, ex]):
        if number == 0:
            content = _instruction(form, task, shown, query, rng, recipe)
        else:
            content = f"Text: '{_shown(task, shown)}'"
        messages.append({"role": "user", "content": content})
        messages.append({"role": "assistant", "content": _answer(task, schema, shown, form)})
    return {"messages": messages}


def _instruction(
    form: _Form, task: str, ex: Example, query: str, rng: random.Random, recipe: Recipe
) -> str:
    """The first user turn: instruction with options, answer-format sentence, the text."""
    template = form.template.replace("{options}", form.options)
    if task == "rc":
        pair = find_marked_pair(ex.text)
        template = template.replace("{e1}", pair.e1_text).replace("{e2}", pair.e2_text)
    text = _shown(task, ex)
    if "{text}" in template and rng.random() < recipe.text_in_slot:
        return template.replace("{text}", f"Text: '{text}'") + query
    return template.replace("{text}", "the text") + query + f"Text: '{text}'"


def _shown(task: str, ex: Example) -> str:
    if task in ("rc", "eae"):
        return entity_markers(ex.text, "event" if task == "eae" else "entity")
    return ex.text


def _unsafe(task: str, ex: Example) -> bool:
    """Whether the `x: type; ` or `(a; b; c)` answer of this example could not be read back."""
    if task == "openie":
        return any(";" in part or "(" in part or ")" in part for t in ex.tuples for part in t)
    if task == "rc":
        return False  # the mentions are fixed by the markers; the parser matches them exactly
    if task == "re":
        return any(any(ch in part for ch in ";()") for h, _, t in ex.triples for part in (h, t))
    return any(";" in text or ":" in text for text, _ in ex.mentions)


def _gold_labels(task: str, ex: Example, schema: Schema) -> set[str]:
    if task == "rc":
        return {_rc_option(ex, schema)} if ex.choice and ex.choice[0] else set()
    if task == "re":
        return {label for _, label, _ in ex.triples}
    return {label for _, label in ex.mentions}


def _rc_option(ex: Example, schema: Schema) -> str:
    name, reverse = ex.choice
    rel = schema.relation(name)
    return rel.verbalise(reverse) if rel else name


def _answer(task: str, schema: Schema, ex: Example, form: _Form) -> str:
    if _empty(task, ex):
        return "[Answer]: NA"
    if task == "openie":
        if form.answers == "json":
            return "[Answer]: " + json.dumps([list(t) for t in ex.tuples])
        return "[Answer]: " + "".join("(" + "; ".join(t) + "); \n" for t in ex.tuples)
    if task == "rc":
        pair = find_marked_pair(ex.text)
        option = _rc_option(ex, schema)
        label = form.names.get(option, option)
        first, second = pair.e1_text, pair.e2_text
        if ex.choice and (rel := schema.relation(ex.choice[0] or "")):
            first, second = rel.ends(first, second, ex.choice[1])
        if form.answers == "json":
            triple = {"subject": first, "relation": label, "object": second}
            return "[Answer]: " + json.dumps(triple)
        return f"[Answer]: ({first}; {label}; {second})\n"
    if task == "re":
        # once each: a name mentioned twice in the sentence relates twice in the annotation
        named = ((head, form.names.get(label, label), tail) for head, label, tail in ex.triples)
        triples = list(dict.fromkeys(named))
        if form.answers == "json":
            objects = [{"subject": h, "relation": r, "object": t} for h, r, t in triples]
            return "[Answer]: " + json.dumps(objects)
        return "[Answer]: " + "".join(f"({h}; {r}; {t})\n" for h, r, t in triples)
    mentions = [(text, form.names.get(label, label)) for text, label in ex.mentions]
    if form.answers == "json":
        grouped: dict[str, list[str]] = {}
        for text, label in mentions:
            grouped.setdefault(label, []).append(text)
        return "[Answer]: " + json.dumps(grouped)
    if form.answers == "natural":
        return "[Answer]: " + "".join(f'"{text}" is a {label}. ' for text, label in mentions)
    return "[Answer]: " + "".join(f"{text}: {label}; " for text, label in mentions)



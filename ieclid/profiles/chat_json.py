"""The chat-json profile: any chat model, its own chat template, a JSON answer.

Instructions and label guidelines go in the system turn and demonstrations follow
as user/assistant turns, so everything before the chunk's text is a prefix shared by
every prompt of a run. Answers are written the way `json.dumps` writes them, which
the grammar enforces and the demonstrations show.
"""

from __future__ import annotations

import json

from ieclid.grammar import (
    alternatives,
    free_span_rule,
    json_string_escape,
    ordered_item_rules,
    span_rules,
)
from ieclid.profiles import ChatRenderer, match_label
from ieclid.schema import Schema
from ieclid.tasks import Answer, Choice, Example, Mention, Triple
from ieclid.tasks.markers import find_marked_pair

NONE_OPTION = "none"

NER_SYSTEM = (
    "You are a precise named entity recognizer. Find every mention of these entity types "
    "in the user's text:\n{labels}\n"
    'Answer with a JSON array of objects {{"text": mention, "label": type}} in the order the '
    "mentions appear, copying each mention exactly as written. Answer [] if there is none."
)
RC_SYSTEM = (
    "You classify the relation between two marked entities in the user's text: e1, marked "
    "<e1>...</e1>, and e2, marked <e2>...</e2>. The options, each naming e1's role first and "
    "e2's role second:\n{labels}\n- {none}: none of the above.\n"
    'Answer with a JSON object {{"relation": option}}.'
)
RE_SYSTEM = (
    "You extract relations between entities mentioned in the user's text. Relation types, "
    "each with what its head and tail are:\n{labels}\n"
    'Answer with a JSON array of objects {{"head": mention, "relation": type, "tail": mention}}, '
    "copying each mention exactly as written. Answer [] if there is none."
)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _rc_options(schema: Schema) -> dict[str, tuple[str, bool]]:
    """Option text -> (relation, reversed): directed relations appear in both directions."""
    options: dict[str, tuple[str, bool]] = {}
    for rel in schema.relations:
        options[rel.verbalise()] = (rel.name, False)
        if rel.roles:
            options[rel.verbalise(reverse=True)] = (rel.name, True)
    return options


def _line(name: str, description: str) -> str:
    return f"- {name}: {description}" if description else f"- {name}"


class ChatJsonProfile:
    name = "chat-json"

    def __init__(self, render: ChatRenderer, verbatim: bool = False) -> None:
        self.render = render
        self.verbatim = verbatim  # mentions must be exact, in-order spans of the text

    def prompt(self, task: str, schema: Schema, text: str, demos: list[Example]) -> str:
        messages = [{"role": "system", "content": self.system(task, schema)}]
        for demo in demos:
            messages.append({"role": "user", "content": demo.text})
            messages.append({"role": "assistant", "content": self.answer(task, schema, demo)})
        messages.append({"role": "user", "content": text})
        return self.render(messages)

    def system(self, task: str, schema: Schema) -> str:
        if task == "ner":
            labels = "\n".join(_line(lab.name, lab.description) for lab in schema.entities)
            return NER_SYSTEM.format(labels=labels)
        if task == "rc":
            lines = []
            for option, (name, _) in _rc_options(schema).items():
                lines.append(_line(option, schema.relation(name).description))
            none = schema.none_label or NONE_OPTION
            return RC_SYSTEM.format(labels="\n".join(lines), none=none)
        lines = []
        for rel in schema.relations:
            roles = f" (head: {rel.roles[0]}, tail: {rel.roles[1]})" if rel.roles else ""
            lines.append(_line(rel.name + roles, rel.description))
        return RE_SYSTEM.format(labels="\n".join(lines))

    def answer(self, task: str, schema: Schema, example: Example) -> str:
        if task == "ner":
            return _dumps([{"text": t, "label": lab} for t, lab in example.mentions])
        if task == "rc":
            label, reverse = example.choice or (None, False)
            rel = schema.relation(label) if label else None
            option = rel.verbalise(reverse) if rel else (schema.none_label or NONE_OPTION)
            return _dumps({"relation": option})
        return _dumps([{"head": h, "relation": r, "tail": t} for h, r, t in example.triples])

    def grammar(self, task: str, schema: Schema, text: str) -> str:
        if task == "rc":
            find_marked_pair(text)
            options = [*_rc_options(schema), schema.none_label or NONE_OPTION]
            return f'root ::= "{{\\"relation\\": \\"" {alternatives(options, json_string_escape)} "\\"}}"\n'
        root = 'root ::= "[" ("]" | item (", " item)* "]")'
        if task == "ner":
            labels = f"label ::= {alternatives(schema.entity_names, json_string_escape)}"
            if self.verbatim:
                items = ordered_item_rules(
                    text,
                    open_='{"text": "',
                    close='"\\", \\"label\\": \\"" label "\\"}"',
                    sep=", ",
                    end="]",
                    escape=json_string_escape,
                )
                return "\n".join(['root ::= "[" items', labels, *items]) + "\n"
            item = 'item ::= "{\\"text\\": \\"" span "\\", \\"label\\": \\"" label "\\"}"'
            return "\n".join([root, item, labels, free_span_rule(json=True)]) + "\n"
        spans = span_rules(text, escape=json_string_escape) if self.verbatim else [free_span_rule(json=True)]
        if not spans:
            return 'root ::= "[]"\n'
        item = (
            'item ::= "{\\"head\\": \\"" span "\\", \\"relation\\": \\"" label '
            '"\\", \\"tail\\": \\"" span "\\"}"'
        )
        labels = f"label ::= {alternatives(schema.relation_names, json_string_escape)}"
        return "\n".join([root, item, labels, *spans]) + "\n"

    def parse(self, task: str, schema: Schema, answer: str) -> Answer:
        result = Answer()
        values = _decode_values(answer, result)
        if task == "rc":
            result.choice = Choice(None)
            options = _rc_options(schema)
            for value, where in values:
                raw = value.get("relation") if isinstance(value, dict) else value
                if not isinstance(raw, str):
                    continue
                option = match_label(raw, list(options))
                if option:
                    result.choice = Choice(*options[option], where)
                elif not match_label(raw, [schema.none_label or NONE_OPTION, "none", "other"]):
                    result.problems.append(f"relation outside the schema: {raw!r}")
                break
            return result
        for value, where in values:
            if task == "ner":
                mention = _mention(value, schema, where)
                if mention:
                    result.mentions.append(mention)
                else:
                    result.problems.append(f"not an entity object: {_dumps(value)[:80]}")
            else:
                triple = _triple(value, schema, where)
                if triple:
                    result.triples.append(triple)
                else:
                    result.problems.append(f"not a relation object: {_dumps(value)[:80]}")
        return result


def _decode_values(answer: str, result: Answer) -> list[tuple[object, tuple[int, int]]]:
    """Top-level JSON values with their positions; array elements one by one.

    Decoding element by element keeps every complete item of an answer that was cut off.
    """
    decoder = json.JSONDecoder()
    pos = answer.find("[")
    brace = answer.find("{")
    if pos < 0 or (0 <= brace < pos):
        if brace < 0:
            if answer.strip():
                result.problems.append(f"no JSON in the answer: {answer.strip()[:80]!r}")
            return []
        try:
            value, end = decoder.raw_decode(answer, brace)
        except json.JSONDecodeError:
            result.problems.append(f"invalid JSON in the answer: {answer.strip()[:80]!r}")
            return []
        # {"entities": [...]} and similar wrappers hold the list we want.
        if isinstance(value, dict) and len(value) == 1:
            inner = next(iter(value.values()))
            if isinstance(inner, list):
                return [(item, (brace, end)) for item in inner]
        return [(value, (brace, end))]
    values: list[tuple[object, tuple[int, int]]] = []
    pos += 1
    while pos < len(answer):
        while pos < len(answer) and answer[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(answer) or answer[pos] == "]":
            return values
        try:
            value, end = decoder.raw_decode(answer, pos)
        except json.JSONDecodeError:
            result.problems.append(f"answer cut off or invalid after {len(values)} items")
            return values
        values.append((value, (pos, end)))
        pos = end
    result.problems.append(f"answer cut off after {len(values)} items")
    return values


def _mention(value: object, schema: Schema, where: tuple[int, int]) -> Mention | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        text, label = value
    elif isinstance(value, dict):
        text = value.get("text", value.get("entity", value.get("name")))
        label = value.get("label", value.get("type"))
    else:
        return None
    if not isinstance(text, str) or not isinstance(label, str):
        return None
    return Mention(text.strip(), match_label(label, schema.entity_names) or label, where)


def _triple(value: object, schema: Schema, where: tuple[int, int]) -> Triple | None:
    if not isinstance(value, dict):
        return None
    head, label, tail = value.get("head"), value.get("relation"), value.get("tail")
    if not all(isinstance(v, str) for v in (head, label, tail)):
        return None
    return Triple(head.strip(), match_label(label, schema.relation_names) or label, tail.strip(), where)

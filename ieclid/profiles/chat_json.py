"""The chat-json profile: any chat model, its own chat template, a JSON answer.

Instructions and label guidelines go in the system turn and demonstrations follow
as user/assistant turns, so everything before the chunk's text is a prefix shared by
every prompt of a run. Answers are written the way `json.dumps` writes them, which
the grammar enforces and the demonstrations show.
"""

from __future__ import annotations

import json
import re

from ieclid.grammar import (
    alternatives,
    free_span_rule,
    json_string_escape,
    literal,
    ordered_item_rules,
    span_rules,
    unstartable_words,
)
from ieclid.profiles.base import ChatRenderer, Ending, match_label
from ieclid.schema import Schema
from ieclid.tasks import (
    CHOICE_TASKS,
    SPAN_TASKS,
    TASKS,
    TUPLE_SLOTS,
    Answer,
    Choice,
    Example,
    Mention,
    OpenTuple,
    Request,
    Triple,
    span_labels,
)
from ieclid.tasks.markers import find_marked_pair, find_marked_trigger
from ieclid.tasks.tables import end_before_a_repeated_row, header_lines, parse_table, table_grammar

NONE_OPTION = "none"
MAX_LIST_SPACE = 8  # white space between list items: a line break and an indent

# Entities come as {"entities": [{"text": ..., "label": ...}]}, the shape chat models are most
# often asked for; the one-key objects of the other span tasks (`[{"Oslo": "location"}]`) made
# a general chat model label common words (docs/usage.md, Prompt profiles).
NER_SYSTEM = (
    "Extract named entities of these types:\n{labels}\n"
    'Answer in JSON: {{"entities": [{{"text": ..., "label": ...}}]}}.'
)
ENTITY_LIST = "entities"  # the key of ner's answer
RC_SYSTEM = (
    "You classify the relation between two marked entities in the user's text: e1, marked "
    "<e1>...</e1>, and e2, marked <e2>...</e2>. The options, each naming e1's role first and "
    "e2's role second:\n{labels}\n- {none}: none of the above.\n"
    'Answer with a JSON object {{"relation": option}}.'
)
ED_SYSTEM = (
    "You are a precise event detector. Find every event of these types in the user's text, "
    "each by its trigger, the word or short phrase that most clearly expresses it:\n{labels}\n"
    "Answer with a JSON array of one-key objects that map each trigger, copied exactly as written, "
    "to its type, in the order the triggers appear. Answer [] if there is none."
)
EAE_SYSTEM = (
    "You extract the arguments of one event. Its trigger is marked <event>...</event> in the "
    "user's text{event_type}. The roles an argument can play:\n{labels}\n"
    "Answer with a JSON array of one-key objects that map each argument, copied exactly as written, "
    "to its role, in the order the arguments appear. Answer [] if there is none."
)
ERE_SYSTEM = (
    "You classify how two marked events in the user's text relate: e1, marked <e1>...</e1>, and "
    "e2, marked <e2>...</e2>. The options, each saying what e1 is to e2:\n{labels}\n"
    "- {none}: none of the above.\n"
    'Answer with a JSON object {{"relation": option}}.'
)
OIE_SYSTEM = (
    "You extract every fact the user's text states as a tuple: the predicate (the verb phrase), "
    "its subject, its object, and the time and location when the text gives them. "
    'Answer with a JSON array of objects {{"predicate": ..., "subject": ..., "object": ...}}, '
    'adding "time" and "location" only when present, copying each part exactly as written. '
    "Answer [] if there is none."
)
TABLE_SYSTEM = (
    "Follow the user's instruction to extract information from the given text into a concise "
    "markdown table: a header row, a separator row, then one row per item; write N/A for a "
    "missing value."
)
# One worked table, so chat models that never saw on-demand IE see the shape of the answer.
TABLE_EXAMPLE = (
    "List every person with their job.\n\nText: Dr. Ana Ruiz, a surgeon, met the pilot Tom Lee in Lisbon.",
    "| Person | Job |\n| --- | --- |\n| Ana Ruiz | surgeon |\n| Tom Lee | pilot |\n",
)
SPAN_SYSTEMS = {"ner": NER_SYSTEM, "ed": ED_SYSTEM, "eae": EAE_SYSTEM}
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
    tasks = tuple(TASKS)

    def __init__(self, render: ChatRenderer, verbatim: bool = False) -> None:
        self.render = render
        self.verbatim = verbatim  # mentions must be exact, in-order spans of the text

    def prompt(
        self, task: str, schema: Schema, text: str, demos: list[Example], request: Request | None = None
    ) -> str:
        request = request or Request()
        messages = [{"role": "system", "content": self.system(task, schema, request)}]
        for demo in demos:
            messages.append({"role": "user", "content": demo.text})
            messages.append({"role": "assistant", "content": self.answer(task, schema, demo, request)})
        if task == "table":
            messages.append({"role": "user", "content": TABLE_EXAMPLE[0]})
            messages.append({"role": "assistant", "content": TABLE_EXAMPLE[1]})
            messages.append({"role": "user", "content": f"{request.instruction}\n\nText: {text}"})
            prompt = self.render(messages)
            return prompt + header_lines(request.columns) if request.columns else prompt
        messages.append({"role": "user", "content": text})
        return self.render(messages)

    def system(self, task: str, schema: Schema, request: Request | None = None) -> str:
        request = request or Request()
        if task in SPAN_TASKS:
            labels = "\n".join(_line(lab.name, lab.description) for lab in span_labels(task, schema, request))
            event_type = f" (an event of type {request.event_type})" if request.event_type else ""
            return SPAN_SYSTEMS[task].format(labels=labels, event_type=event_type)
        if task == "rc":
            lines = []
            for option, (name, _) in _rc_options(schema).items():
                relation = schema.relation(name)
                lines.append(_line(option, relation.description if relation else ""))
            none = schema.none_label or NONE_OPTION
            return RC_SYSTEM.format(labels="\n".join(lines), none=none)
        if task == "ere":
            lines = [_line(rel.name, rel.description) for rel in schema.relations]
            return ERE_SYSTEM.format(labels="\n".join(lines), none=schema.none_label or NONE_OPTION)
        if task == "openie":
            return OIE_SYSTEM
        if task == "table":
            return TABLE_SYSTEM
        lines = []
        for rel in schema.relations:
            roles = f" (head: {rel.roles[0]}, tail: {rel.roles[1]})" if rel.roles else ""
            lines.append(_line(rel.name + roles, rel.description))
        return RE_SYSTEM.format(labels="\n".join(lines))

    def answer(self, task: str, schema: Schema, example: Example, request: Request | None = None) -> str:
        if task == "ner":
            return _dumps({ENTITY_LIST: [{"text": t, "label": lab} for t, lab in example.mentions]})
        if task in SPAN_TASKS:
            return _dumps([{t: lab} for t, lab in example.mentions])
        if task in CHOICE_TASKS:
            label, reverse = example.choice or (None, False)
            rel = schema.relation(label) if label else None
            if rel is None:
                option = schema.none_label or NONE_OPTION
            else:
                option = rel.verbalise(reverse) if task == "rc" else rel.name
            return _dumps({"relation": option})
        if task == "openie":
            return _dumps([dict(zip(TUPLE_SLOTS, t, strict=False)) for t in example.tuples])
        return _dumps([{"head": h, "relation": r, "tail": t} for h, r, t in example.triples])

    def grammar(self, task: str, schema: Schema, text: str, request: Request | None = None) -> str:
        request = request or Request()
        if task == "table":
            return table_grammar("", request.columns)
        if task in CHOICE_TASKS:
            find_marked_pair(text)
            names = list(_rc_options(schema)) if task == "rc" else schema.relation_names
            options = [*names, schema.none_label or NONE_OPTION]
            return f'root ::= "{{\\"relation\\": \\"" {alternatives(options, json_string_escape)} "\\"}}"\n'
        list_rule = 'list ::= "[" ws ("]" | item (ws "," ws item)* ws "]")'
        if task in SPAN_TASKS:
            names = [label.name for label in span_labels(task, schema, request)]
            labels = f"label ::= {alternatives(names, json_string_escape)}"
            # ner: {"entities": [{"text": span, "label": label}, ...]}; ed, eae: [{span: label}, ...]
            opening, open_, close, end = (
                ('{"' + ENTITY_LIST + '": [', '{"text": "', '"\\", \\"label\\": \\"" label "\\"}"', "]}")
                if task == "ner" else ("[", '{"', '"\\": \\"" label "\\"}"', "]")
            )
            if self.verbatim or task == "ed":  # triggers are words of the text, always
                shown = find_marked_trigger(text)[0] if task == "eae" else text
                items = ordered_item_rules(
                    shown,
                    open_=open_,
                    close=close,
                    sep=",",
                    end=end,
                    escape=json_string_escape,
                    unstartable=unstartable_words(task),
                    ws="ws",
                )
                return _fenced([f"list ::= {literal(opening)} ws items", labels, *items])
            free_list = (f"list ::= {literal(opening)} ws ({literal(end)} | item (ws \",\" ws item)* ws "
                         f"{literal(end)})")
            item = f"item ::= {literal(open_)} span {close}"
            return _fenced([free_list, item, labels, free_span_rule(json=True)])
        spans = span_rules(text, escape=json_string_escape) if self.verbatim else [free_span_rule(json=True)]
        if not spans:
            return 'root ::= "[]"\n'
        if task == "openie":
            def slot(name: str) -> str:
                return f'"\\"{name}\\": \\"" span "\\""'

            item = (
                f'item ::= "{{" {slot("predicate")} ", " {slot("subject")} (", " {slot("object")})? '
                f'(", " {slot("time")})? (", " {slot("location")})? "}}"'
            )
            return _fenced([list_rule, item, *spans])
        item = (
            'item ::= "{\\"head\\": \\"" span "\\", \\"relation\\": \\"" label '
            '"\\", \\"tail\\": \\"" span "\\"}"'
        )
        labels = f"label ::= {alternatives(schema.relation_names, json_string_escape)}"
        return _fenced([list_rule, item, labels, *spans])

    def ending(self, task: str) -> Ending | None:
        if task == "table":
            return end_before_a_repeated_row
        return None if task in CHOICE_TASKS else end_before_a_repeat

    def parse(self, task: str, schema: Schema, answer: str, request: Request | None = None) -> Answer:
        request = request or Request()
        result = Answer()
        if task == "table":
            result.table = parse_table(answer, request.columns, result.problems)
            return result
        values = _decode_values(answer, result)
        if task in CHOICE_TASKS:
            result.choice = Choice(None)
            options = _rc_options(schema) if task == "rc" else {n: (n, False) for n in schema.relation_names}
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
        names = [label.name for label in span_labels(task, schema, request)] if task in SPAN_TASKS else []
        for value, where in values:
            if task in SPAN_TASKS:
                mention = _mention(value, names, where)
                if mention:
                    result.mentions.append(mention)
                else:
                    result.problems.append(f"not an item object: {_dumps(value)[:80]}")
            elif task == "openie":
                found = _open_tuple(value, where)
                if found:
                    result.tuples.append(found)
                else:
                    result.problems.append(f"not a tuple object: {_dumps(value)[:80]}")
            else:
                triple = _triple(value, schema, where)
                if triple:
                    result.triples.append(triple)
                else:
                    result.problems.append(f"not a relation object: {_dumps(value)[:80]}")
        return result


def _fenced(rules: list[str]) -> str:
    """A grammar whose answer is the JSON list `list`, bare or in a markdown code fence, with
    white space between its items as pretty-printed JSON has it. Code models open their answer
    with a fence and then a line break; a grammar that forbade both left them the one-token
    `[]` as their likeliest allowed start, and an empty answer for every text."""
    return "\n".join([
        'root ::= list | "```" "json"? "\\n" list "\\n```"',
        f"ws ::= [ \\t\\n]{{0,{MAX_LIST_SPACE}}}",
        *rules,
    ]) + "\n"


def end_before_a_repeat(answer: str) -> str | None:
    """A list answer whose latest item repeats an earlier one, ended before that item.

    A small model that repeats an item has started to loop or to recite its demonstrations,
    and the record would merge the repeat anyway. Ending there kept the entity F1 of 4-shot
    SmolLM2-135M on WNUT-17 and CrossNER and shortened the answers (docs/usage.md, Output that
    always parses).
    """
    body = answer.rstrip(", \t\r\n]}")  # a token may close an item and go on: `"},`
    opening = body.split("[", 1)[0].strip()
    wrapper = opening.removeprefix("```json").removeprefix("```").strip()  # `{"entities":` or none
    if "}" not in answer[len(body):] or "[" not in body or not (wrapper == "" or _WRAPPER.fullmatch(wrapper)):
        return None
    body += "}"  # the latest item's closing brace, stripped above with the list's
    values = _decode_values(body, Answer())
    if len(values) < 2 or values[-1][1][1] != len(body):
        return None
    last, (start, _) = values[-1]
    if all(value != last for value, _ in values[:-1]):
        return None
    return answer[:start].rstrip(", \t\r\n") + ("]}" if wrapper else "]")


# `{"key": ` before a list: the wrapper of ner's answer, and of what other models write.
_WRAPPER = re.compile(r'\{\s*"[^"\\]*"\s*:\s*')


def _decode_values(answer: str, result: Answer) -> list[tuple[object, tuple[int, int]]]:
    """Top-level JSON values with their positions; array elements one by one.

    Decoding element by element keeps every complete item of an answer that was cut off.
    """
    decoder = json.JSONDecoder()
    pos = answer.find("[")
    brace = answer.find("{")
    wrapped = 0 <= brace < pos and _WRAPPER.fullmatch(answer, brace, pos)  # {"entities": [...]}
    if pos < 0 or (0 <= brace < pos and not wrapped):
        if brace < 0:
            if answer.strip():
                result.problems.append(f"no JSON in the answer: {answer.strip()[:80]!r}")
            return []
        try:
            value, end = decoder.raw_decode(answer, brace)
        except (json.JSONDecodeError, RecursionError):  # nested deeper than Python's stack
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
        except (json.JSONDecodeError, RecursionError):
            result.problems.append(f"answer cut off or invalid after {len(values)} items")
            return values
        values.append((value, (pos, end)))
        pos = end
    result.problems.append(f"answer cut off after {len(values)} items")
    return values


_TEXT_KEYS = ("text", "entity", "name", "trigger", "argument")
_LABEL_KEYS = ("label", "type", "role")
_ITEM_KEYS = frozenset(_TEXT_KEYS + _LABEL_KEYS)


def _first(value: dict, keys: tuple[str, ...]) -> object:
    return next((value[k] for k in keys if k in value), None)


def _mention(value: object, names: list[str], where: tuple[int, int]) -> Mention | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        text, label = value
    elif isinstance(value, dict) and len(value) == 1 and next(iter(value)) not in _ITEM_KEYS:
        ((text, label),) = value.items()  # {mention: type}, the format the grammar asks for
    elif isinstance(value, dict):
        text = _first(value, _TEXT_KEYS)
        label = _first(value, _LABEL_KEYS)
    else:
        return None
    if not isinstance(text, str) or not isinstance(label, str):
        return None
    return Mention(text.strip(), match_label(label, names) or label, where)


def _open_tuple(value: object, where: tuple[int, int]) -> OpenTuple | None:
    """Slots by name; a missing middle slot (no object, but a time) is kept as an empty string."""
    if not isinstance(value, dict):
        return None
    parts = [value.get(slot) for slot in TUPLE_SLOTS]
    if not all(isinstance(p, str) and p.strip() for p in parts[:2]):
        return None
    while parts and not (isinstance(parts[-1], str) and parts[-1].strip()):
        parts.pop()
    return OpenTuple(tuple(p.strip() if isinstance(p, str) else "" for p in parts), where)


def _triple(value: object, schema: Schema, where: tuple[int, int]) -> Triple | None:
    if not isinstance(value, dict):
        return None
    head, label, tail = value.get("head"), value.get("relation"), value.get("tail")
    if not (isinstance(head, str) and isinstance(label, str) and isinstance(tail, str)):
        return None
    return Triple(head.strip(), match_label(label, schema.relation_names) or label, tail.strip(), where)

"""The ADELIE profile: prompts and answers exactly as the ADELIE models were trained.

Tulu chat format (`<|user|>\\n...\\n<|assistant|>\\n`, BOS from the tokenizer), the
test-time instruction and answer-format sentences of THU-KEG/ADELIE, and answers of
the form `[Answer]: {entity}: {type}; ` (also events and roles), `[Answer]: ({subject};
{relation}; {object})\\n`, open IE tuples `({predicate}; {subject}; ...); ` and, for on-demand
IE, `[Answer]: ` and a markdown table.
"""

from __future__ import annotations

import re

from ieclid.grammar import alternatives, free_span_rule, ordered_item_rules, span_rules, unstartable_words
from ieclid.profiles.base import Ending, colon_items, is_empty_answer, match_label
from ieclid.profiles.chat_json import ChatJsonProfile
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

NER_QUERY = 'Please give the answer in the form "[Answer]: {entity}: {type}; ".'
ED_QUERY = 'Please give the answer in the form "[Answer]: {event}: {class}; ".'
EAE_QUERY = 'Please give the answer in the form "[Answer]: {word}: {role}; ".'
RC_QUERY = 'Please give the answer in the tuple form "[Answer]: ({subject}; {relation}; {object})\\n".'
ERE_QUERY = (
    'Please give the answer in the tuple form "[Answer]: ({first event}; {relation}; {second event});".'
)
OIE_QUERY = (
    'Please give the answer in the tuple form "[Answer]: ({predicate}; {subject}; {object}; {time}; '
    '{location})\\n". If one or more of the last three elements does not exist, it can be omitted.'
)
# Zero-shot wording of the released test files (few-nerd-supervised.jsonl, semeval.jsonl).
NER_ZERO = (
    'For the given context "Text: \'{text}\'", identify and classify the named entities into '
    "their corresponding categories: [{options}]."
)
RC_ZERO = (
    "Examine the given text: Text: '{text}', find the entity \"{e1}\" and \"{e2}\". Can you detect "
    "the relation between these two? Choose from the following pre-defined categories: "
    '[{options}]. If there is no relation, mention it as "Not related".'
)
RE_ZERO = (
    "Find the entity pair with a relationship in the following text: \nText: '{text}'\nand choose "
    "the corresponding relationship from the set of categories: [{options}]."
)
# Few-shot wording (instruction without the text; the texts follow as chat turns).
NER_FEW = (
    "Recognize entities from the following sentence and classify the entity type into the "
    "options.\nOptions: [{options}]. "
)
RC_FEW = (
    "Please classify relationships between the two entities (marked with <entity> and "
    "</entity>).\n If the two entities have no relationships, please answer NA.\n The set of "
    "relationships is as follows:[{options}]. "
)
RE_FEW = (
    "Find the entity pair with a relationship in the following text and choose the "
    "corresponding relationship from the set of categories: [{options}]. "
)
# The first entry of each instruction pool (scripts/tasks/instructions.json); these have no
# text slot, so the text follows as `Text: '...'`, as in ADELIE's test files.
ED_INSTRUCTION = (
    "Please identify the events in the text and classify them into appropriate categories; "
    "The collection of categories is : [{options}].\n"
)
EAE_INSTRUCTION = (
    "Please extract event arguments and their roles for the events marked with <event> and "
    "</event> in the text, the possible roles must be chosen from the Roleset. If there is no "
    "roles for the event, place output'NA'.\n\nRoleset: [{options}]\n"
)
ERE_INSTRUCTION = (
    "Please classify the temporal relation from the first event to the second event in the "
    "following documents (marked with <Event> and </Event>). The set of temporal relations is as "
    "follows: [{options}]. Don't consider any extra knowledge outside the given document. Don't "
    "make any complex inferences and only consider direct relations. Don't extend the meaning of "
    "an event to its surrounding words, but only consider the meaning of the specific words. "
)
OIE_INSTRUCTION = (
    "Open information extraction requires the extraction of all relations in the sentence, i.e., "
    "predicates, the subjects and objects corresponding to these relations, and the possible time "
    "and place thesis elements. Please extract all the relational tuples in the following "
    'sentence: {text}. If there are no relations in the text, please answer "NA".'
)
TABLE_SYSTEM = (
    "You are a helpful assistant. Follow the user instruction to extract information from the "
    "given text into a concise markdown table."
)
SPAN_WORDING = {  # task -> (zero-shot instruction with {text}, few-shot instruction, query)
    "ner": (NER_ZERO, NER_FEW, NER_QUERY),
    "ed": (ED_INSTRUCTION, ED_INSTRUCTION, ED_QUERY),
    "eae": (EAE_INSTRUCTION, EAE_INSTRUCTION, EAE_QUERY),
}

_TRIPLE = re.compile(r"\(([^;()\n]*); ([^;()\n]*); ([^()\n]*)\)")
_TUPLE = re.compile(r"\(([^()\n]*)\)")


def tulu(messages: list[dict[str, str]]) -> str:
    """`create_prompt_with_tulu_chat_format(..., add_bos=False)` of ADELIE's eval/templates.py."""
    out = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "assistant":
            out.append("<|assistant|>\n" + content.strip() + "</s>\n")
        else:
            out.append(f"<|{role}|>\n" + content + "\n")
    return "".join(out) + "<|assistant|>\n"


def entity_markers(marked: str, tag: str = "entity") -> str:
    """ADELIE marks mentions alike and spaced: `<entity> x </entity>`, `<event> x </event>`."""
    opened = re.sub(r"<(?:e[12]|event)>\s*", f"<{tag}> ", marked)
    return re.sub(r"\s*</(?:e[12]|event)>", f" </{tag}>", opened)


def _relation_options(schema: Schema, both_directions: bool) -> list[str]:
    options = []
    for rel in schema.relations:
        options.append(rel.verbalise())
        if both_directions and rel.roles:
            options.append(rel.verbalise(reverse=True))
    return options


def _ere_options(schema: Schema) -> list[str]:
    return [*schema.relation_names, *([schema.none_label] if schema.none_label else [])]


def _shown(task: str, text: str) -> str:
    """The text as ADELIE saw it: rc mentions as <entity>, ere events as <Event>, eae as <event>."""
    if task == "rc":
        return entity_markers(text)
    if task == "ere":
        return entity_markers(text, "Event")
    if task == "eae":
        return entity_markers(text, "event")
    return text


class AdelieProfile:
    name = "adelie"
    tasks = tuple(TASKS)

    def __init__(self, verbatim: bool = False, render=tulu) -> None:
        self.verbatim = verbatim  # mentions must be exact, in-order spans of the text
        self.render = render  # Tulu for ADELIE's releases; a model's own chat format for ours
        # ADELIE's releases get their test files' wording. Models `ieclid train` aligned get a
        # form their data also holds: entity types with their descriptions, and the zero-shot NER
        # instruction before the text, so that all of the prompt but the text is shared between
        # documents and evaluated once: better F1 on held-out CrossNER in half the time
        # (docs/usage.md, Prompt profiles). Event types stay names only: their descriptions
        # lowered PHEE trigger F1.
        self.release = render is tulu
        # Tables: ADELIE's releases learnt on-demand IE's markdown answers; models `ieclid train`
        # aligned did not, and asked in ADELIE's form they wrote chat-template debris as a header.
        # They get chat-json's table prompt instead, which shows one worked table.
        self.tables = None if self.release else ChatJsonProfile(render)

    def prompt(
        self, task: str, schema: Schema, text: str, demos: list[Example], request: Request | None = None
    ) -> str:
        if task == "table" and self.tables:
            return self.tables.prompt(task, schema, text, demos, request)
        prompt = self.render(self.messages(task, schema, text, demos, request))
        if task == "table" and request and request.columns:
            prompt += "[Answer]: " + header_lines(request.columns)
        return prompt

    def messages(
        self, task: str, schema: Schema, text: str, demos: list[Example], request: Request | None = None
    ) -> list[dict[str, str]]:
        request = request or Request()
        if task == "table":
            user = f"{request.instruction}\n\nText: {text}"
            return [{"role": "system", "content": TABLE_SYSTEM}, {"role": "user", "content": user}]
        if not demos:
            return [{"role": "user", "content": self._zero_shot(task, schema, text, request)}]
        messages: list[dict[str, str]] = []
        instruction = self._instruction(task, schema, request)
        for number, demo in enumerate(demos):
            prefix = instruction if number == 0 else ""
            messages.append({"role": "user", "content": prefix + self._text_turn(task, demo.text)})
            messages.append({"role": "assistant", "content": self.answer(task, schema, demo, request)})
        messages.append({"role": "user", "content": self._text_turn(task, text)})
        return messages

    def _options(self, task: str, schema: Schema, request: Request) -> str:
        if task in SPAN_TASKS:
            labels = span_labels(task, schema, request)
            if task == "ner" and not self.release and all(label.description for label in labels):
                return ", ".join(f"{label.name}: {label.description}" for label in labels)
            return ", ".join(label.name for label in labels)
        if task == "ere":
            return ", ".join(_ere_options(schema))
        return ", ".join(_relation_options(schema, both_directions=task == "rc"))

    def _instruction(self, task: str, schema: Schema, request: Request) -> str:
        """The few-shot instruction and answer-format sentence, before the first text."""
        options = self._options(task, schema, request)
        if task in SPAN_TASKS:
            _, few, query = SPAN_WORDING[task]
            return few.format(options=options) + query
        if task == "openie":
            return OIE_INSTRUCTION.format(text="the text") + OIE_QUERY
        if task == "ere":
            return ERE_INSTRUCTION.format(options=options) + ERE_QUERY
        return (RC_FEW if task == "rc" else RE_FEW).format(options=options) + RC_QUERY

    def _text_turn(self, task: str, text: str) -> str:
        if task == "ere":
            pair = find_marked_pair(text)
            return (
                f"Document: '{_shown(task, text)}'\n\nThe first event: {pair.e1_text}\n"
                f"The second event: {pair.e2_text}\n"
            )
        return f"Text: '{_shown(task, text)}'"

    def _zero_shot(self, task: str, schema: Schema, text: str, request: Request) -> str:
        shown = _shown(task, text)
        if task == "ner" and self.release:
            options = self._options(task, schema, request)
            return NER_ZERO.format(text=shown, options=options) + NER_QUERY + "\n"
        if task == "ner":  # as `ieclid train data` writes it: instruction, query, then the text
            return self._instruction(task, schema, request) + self._text_turn(task, text)
        if task in SPAN_TASKS or task == "ere":
            return self._instruction(task, schema, request) + "\n" + self._text_turn(task, text)
        if task == "openie":
            return OIE_INSTRUCTION.format(text=f"Text: '{shown}'") + OIE_QUERY + "\n"
        if task == "rc":
            pair = find_marked_pair(text)
            options = self._options(task, schema, request)
            fields = {"text": shown, "options": options, "e1": pair.e1_text, "e2": pair.e2_text}
            return RC_ZERO.format(**fields) + RC_QUERY + "\n"
        options = self._options(task, schema, request)
        return RE_ZERO.format(text=shown, options=options) + RC_QUERY + "\n"

    def answer(self, task: str, schema: Schema, example: Example, request: Request | None = None) -> str:
        """The gold answer for a demonstration, in the trained `[Answer]:` form."""
        if task in SPAN_TASKS:
            items = "".join(f"{text}: {label}; " for text, label in example.mentions)
        elif task in CHOICE_TASKS:
            pair = find_marked_pair(example.text)
            label, reverse = example.choice or (None, False)
            rel = schema.relation(label) if label else None
            if rel is None:
                items = ""
            elif task == "ere":
                items = f"({pair.e1_text}; {rel.name}; {pair.e2_text}); "
            else:
                first, second = rel.ends(pair.e1_text, pair.e2_text, reverse)
                items = f"({first}; {rel.verbalise(reverse)}; {second})\n"
        elif task == "openie":
            items = "".join("(" + "; ".join(t) + "); \n" for t in example.tuples)
        else:
            items = ""
            for head, label, tail in example.triples:
                rel = schema.relation(label)
                items += f"({head}; {rel.verbalise() if rel else label}; {tail})\n"
        return "[Answer]: " + (items or "NA")

    def ending(self, task: str) -> Ending | None:
        """Tables end before a repeated row; no other early end: only chat-json's item lists were
        measured for one."""
        return end_before_a_repeated_row if task == "table" else None

    def grammar(self, task: str, schema: Schema, text: str, request: Request | None = None) -> str:
        request = request or Request()
        if task == "table":
            return table_grammar("" if self.tables else "[Answer]: ", request.columns)
        if task in CHOICE_TASKS:
            pair = find_marked_pair(text)
            if task == "rc":
                options, close = _relation_options(schema, both_directions=True), ')\\n"'
            else:
                options, close = schema.relation_names, '); "'
            return (
                f'root ::= "[Answer]: " ("NA" | "(" e1 "; " relation "; " e2 "{close})\n'
                f"relation ::= {alternatives(options)}\n"
                f"e1 ::= {alternatives([pair.e1_text])}\ne2 ::= {alternatives([pair.e2_text])}\n"
            )
        if task in SPAN_TASKS:
            labels = [label.name for label in span_labels(task, schema, request)]
            shown = find_marked_trigger(text)[0] if task == "eae" else text
            if self.verbatim or task == "ed":  # triggers are words of the text, always
                items = ordered_item_rules(shown, open_="", close='": " label "; "', sep="", end="",
                                           unstartable=unstartable_words(task))
            else:
                items = ['items ::= item+', 'item ::= span ": " label "; "', free_span_rule(forbid=":;")]
            return "\n".join([
                'root ::= "[Answer]: " ("NA" | items)',
                f"label ::= {alternatives(labels)}",
                *items,
            ]) + "\n"
        spans = span_rules(text) if self.verbatim else [free_span_rule(forbid=";()")]
        if not spans:
            return 'root ::= "[Answer]: NA"\n'
        if task == "openie":
            item = 'item ::= "(" span "; " span ("; " span ("; " span ("; " span)?)?)? "); \\n"'
            return "\n".join(['root ::= "[Answer]: " ("NA" | item+)', item, *spans]) + "\n"
        return "\n".join([
            'root ::= "[Answer]: " ("NA" | item+)',
            'item ::= "(" span "; " relation "; " span ")\\n"',
            f"relation ::= {alternatives(_relation_options(schema, both_directions=True))}",
            *spans,
        ]) + "\n"

    def parse(self, task: str, schema: Schema, answer: str, request: Request | None = None) -> Answer:
        request = request or Request()
        result = Answer()
        if task == "table":
            result.table = parse_table(answer, request.columns, result.problems)
            return result
        marker = answer.find("[Answer]:")
        offset = marker + len("[Answer]:") if marker >= 0 else 0
        body = answer[offset:]
        if not body.strip() or is_empty_answer(body):
            if task in CHOICE_TASKS:
                result.choice = Choice(None)
            return result
        if task in SPAN_TASKS:
            names = [label.name for label in span_labels(task, schema, request)]
            for span, label, (start, end) in colon_items(body, label_first=False):
                label = match_label(label, names) or label
                result.mentions.append(Mention(span, label, (offset + start, offset + end)))
            if not result.mentions:
                result.problems.append(f"unparseable answer: {body.strip()[:80]!r}")
            return result
        if task == "openie":
            for match in _TUPLE.finditer(body):
                elements = tuple(e.strip() for e in match.group(1).split("; "))
                if len(elements) >= 2 and all(elements):
                    where = (offset + match.start(), offset + match.end())
                    result.tuples.append(OpenTuple(elements[: len(TUPLE_SLOTS)], where))
            if not result.tuples:
                result.problems.append(f"unparseable answer: {body.strip()[:80]!r}")
            return result
        for match in _TRIPLE.finditer(body):
            head, relation, tail = (g.strip() for g in match.groups())
            where = (offset + match.start(), offset + match.end())
            if task == "ere":
                name = match_label(relation, schema.relation_names)
                if name is None and not match_label(relation, [schema.none_label or "none", "none"]):
                    result.problems.append(f"relation outside the schema: {relation!r}")
                result.choice = Choice(name, False, where, (head, tail))
                return result
            name, reverse = self._relation(schema, relation)
            if task == "rc":
                result.choice = Choice(name, reverse, where, (head, tail))
                return result
            if name is None:
                result.problems.append(f"relation outside the schema: {relation!r}")
                result.triples.append(Triple(head, relation, tail, where))
            else:
                result.triples.append(
                    Triple(tail, name, head, where) if reverse else Triple(head, name, tail, where)
                )
        if task in CHOICE_TASKS:
            result.choice = Choice(None)
            result.problems.append(f"no relation tuple in the answer: {body.strip()[:80]!r}")
        elif not result.triples:
            result.problems.append(f"unparseable answer: {body.strip()[:80]!r}")
        return result

    @staticmethod
    def _relation(schema: Schema, verbalised: str) -> tuple[str | None, bool]:
        """Map `Whole and Component` back to (Component-Whole, reversed)."""
        for rel in schema.relations:
            if match_label(verbalised, [rel.verbalise()]):
                return rel.name, False
            if rel.roles and match_label(verbalised, [rel.verbalise(reverse=True)]):
                return rel.name, True
            if match_label(verbalised, [rel.name]):
                return rel.name, False
        return None, False

"""The ADELIE profile: prompts and answers exactly as the ADELIE models were trained.

Tulu chat format (`<|user|>\\n...\\n<|assistant|>\\n`, BOS from the tokenizer), the
test-time instruction and answer-format sentences of THU-KEG/ADELIE, and answers of
the form `[Answer]: {entity}: {type}; ` or `[Answer]: ({subject}; {relation}; {object})\\n`.
"""

from __future__ import annotations

import re

from ieclid.grammar import alternatives, free_span_rule, ordered_item_rules, span_rules
from ieclid.profiles import is_empty_answer, match_label
from ieclid.schema import Schema
from ieclid.tasks import Answer, Choice, Example, Mention, Triple
from ieclid.tasks.markers import find_marked_pair

NER_QUERY = 'Please give the answer in the form "[Answer]: {entity}: {type}; ".'
RC_QUERY = 'Please give the answer in the tuple form "[Answer]: ({subject}; {relation}; {object})\\n".'
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

_NER_ITEM = re.compile(r"\s*([^;]+?):\s*([^;:]+?)\s*(?:;|$)")
_TRIPLE = re.compile(r"\(([^;()\n]*); ([^;()\n]*); ([^()\n]*)\)")


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


def _entity_markers(marked: str) -> str:
    """ADELIE marks both mentions alike: `<entity> x </entity>`."""
    return re.sub(r"\s*</e[12]>", " </entity>", re.sub(r"<e[12]>\s*", "<entity> ", marked))


def _relation_options(schema: Schema, both_directions: bool) -> list[str]:
    options = []
    for rel in schema.relations:
        options.append(rel.verbalise())
        if both_directions and rel.roles:
            options.append(rel.verbalise(reverse=True))
    return options


class AdelieProfile:
    name = "adelie"
    render = staticmethod(tulu)

    def __init__(self, verbatim: bool = False) -> None:
        self.verbatim = verbatim  # mentions must be exact, in-order spans of the text

    def prompt(self, task: str, schema: Schema, text: str, demos: list[Example]) -> str:
        return self.render(self.messages(task, schema, text, demos))

    def messages(
        self, task: str, schema: Schema, text: str, demos: list[Example]
    ) -> list[dict[str, str]]:
        if task == "ner":
            options = ", ".join(schema.entity_names)
            zero, few, query = NER_ZERO, NER_FEW, NER_QUERY
        else:
            options = ", ".join(_relation_options(schema, both_directions=task == "rc"))
            zero, few, query = (RC_ZERO, RC_FEW, RC_QUERY) if task == "rc" else (RE_ZERO, RE_FEW, RC_QUERY)
        shown = _entity_markers(text) if task == "rc" else text
        if not demos:
            fields = {"text": shown, "options": options}
            if task == "rc":
                pair = find_marked_pair(text)
                fields.update(e1=pair.e1_text, e2=pair.e2_text)
            return [{"role": "user", "content": zero.format(**fields) + query + "\n"}]
        messages: list[dict[str, str]] = []
        instruction = few.format(options=options) + query
        for number, demo in enumerate(demos):
            demo_text = _entity_markers(demo.text) if task == "rc" else demo.text
            prefix = instruction if number == 0 else ""
            messages.append({"role": "user", "content": f"{prefix}Text: '{demo_text}'"})
            messages.append({"role": "assistant", "content": self.answer(task, schema, demo)})
        messages.append({"role": "user", "content": f"Text: '{shown}'"})
        return messages

    def answer(self, task: str, schema: Schema, example: Example) -> str:
        """The gold answer for a demonstration, in the trained `[Answer]:` form."""
        if task == "ner":
            items = "".join(f"{text}: {label}; " for text, label in example.mentions)
        elif task == "rc":
            pair = find_marked_pair(example.text)
            label, reverse = example.choice or (None, False)
            rel = schema.relation(label) if label else None
            items = f"({pair.e1_text}; {rel.verbalise(reverse)}; {pair.e2_text})\n" if rel else ""
        else:
            items = ""
            for head, label, tail in example.triples:
                rel = schema.relation(label)
                items += f"({head}; {rel.verbalise() if rel else label}; {tail})\n"
        return "[Answer]: " + (items or "NA")

    def grammar(self, task: str, schema: Schema, text: str) -> str:
        if task == "rc":
            pair = find_marked_pair(text)
            options = alternatives(_relation_options(schema, both_directions=True))
            return (
                'root ::= "[Answer]: " ("NA" | "(" e1 "; " relation "; " e2 ")\\n")\n'
                f"relation ::= {options}\n"
                f"e1 ::= {alternatives([pair.e1_text])}\ne2 ::= {alternatives([pair.e2_text])}\n"
            )
        if task == "ner":
            if self.verbatim:
                items = ordered_item_rules(text, open_="", close='": " label "; "', sep="", end="")
            else:
                items = ['items ::= item+', 'item ::= span ": " label "; "', free_span_rule(forbid=":;")]
            return "\n".join([
                'root ::= "[Answer]: " ("NA" | items)',
                f"label ::= {alternatives(schema.entity_names)}",
                *items,
            ]) + "\n"
        spans = span_rules(text) if self.verbatim else [free_span_rule(forbid=";()")]
        if not spans:
            return 'root ::= "[Answer]: NA"\n'
        return "\n".join([
            'root ::= "[Answer]: " ("NA" | item+)',
            'item ::= "(" span "; " relation "; " span ")\\n"',
            f"relation ::= {alternatives(_relation_options(schema, both_directions=True))}",
            *spans,
        ]) + "\n"

    def parse(self, task: str, schema: Schema, answer: str) -> Answer:
        marker = answer.find("[Answer]:")
        offset = marker + len("[Answer]:") if marker >= 0 else 0
        body = answer[offset:]
        result = Answer()
        if not body.strip() or is_empty_answer(body):
            if task == "rc":
                result.choice = Choice(None)
            return result
        if task == "ner":
            for match in _NER_ITEM.finditer(body):
                label = match.group(2)
                result.mentions.append(
                    Mention(
                        match.group(1).strip(),
                        match_label(label, schema.entity_names) or label.strip(),
                        (offset + match.start(1), offset + match.end(2)),
                    )
                )
            if not result.mentions:
                result.problems.append(f"unparseable answer: {body.strip()[:80]!r}")
            return result
        for match in _TRIPLE.finditer(body):
            head, relation, tail = (g.strip() for g in match.groups())
            where = (offset + match.start(), offset + match.end())
            name, reverse = self._relation(schema, relation)
            if task == "rc":
                result.choice = Choice(name, reverse, where)
                return result
            if name is None:
                result.problems.append(f"relation outside the schema: {relation!r}")
                result.triples.append(Triple(head, relation, tail, where))
            else:
                result.triples.append(
                    Triple(tail, name, head, where) if reverse else Triple(head, name, tail, where)
                )
        if task == "rc":
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

"""The InstructUIE profile: prompts and answers as BeyonderXX/InstructUIE trained them.

A raw prompt, no chat template: `<instruction>Option: a, b \\nText: <text> \\nAnswer:`
(`src/uie_dataset.py`, first template of `configs/instruction_config.json`), and answers
`type: span; type: span` (NER), `relation: head, tail; ...` (RE), `type: trigger` (event
detection, EET) and `span: role` (arguments, EEA), `None` when empty. Demonstrations, which
InstructUIE never saw, are whole solved prompts before the question.
"""

from __future__ import annotations

from ieclid.errors import UsageError
from ieclid.grammar import alternatives, free_span_rule, span_rules
from ieclid.profiles.base import colon_items, is_empty_answer, match_label
from ieclid.schema import Schema
from ieclid.tasks import Answer, Example, Mention, Request, Triple, span_labels
from ieclid.tasks.markers import find_marked_trigger

NER = (
    'Please list all entity words in the text that fit the category.Output format is "type1: word1; '
    'type2: word2". \n'
)
RE_ = (
    "Given a phrase that describes the relationship between two words, extract the words and the "
    'lexical relationship between them. The output format should be "relation1: word1, word2; '
    'relation2: word3, word4". \n'
)
EET = (
    "Please tell me event type and its trigger word from given type options. Output format is "
    '"type: trigger". '
)
EEA = (
    "Given event type and trigger, please tell me the arguments of all the listed option. Output "
    'format is "name1: role1; name2: role2". \n'
)
TASKS = ("ner", "re", "ed", "eae")


def _require(task: str) -> None:
    if task not in TASKS:
        raise UsageError(
            f"profile instructuie does not do --task {task} (it knows ner, re, ed, eae, ee); "
            "use --profile adelie or chat-json"
        )


class InstructUieProfile:
    name = "instructuie"
    tasks = (*TASKS, "ee")  # ee runs as ed, then eae

    def __init__(self, verbatim: bool = False) -> None:
        self.verbatim = verbatim

    @staticmethod
    def render(messages: list[dict[str, str]]) -> str:
        """No chat template: InstructUIE's prompts are plain text (solved demos joined by blank lines)."""
        return "".join(m["content"] + ("\n\n" if m["role"] == "assistant" else "") for m in messages)

    def prompt(
        self, task: str, schema: Schema, text: str, demos: list[Example], request: Request | None = None
    ) -> str:
        _require(task)
        messages = []
        for demo in demos:
            messages.append({"role": "user", "content": self.question(task, schema, demo.text, request)})
            messages.append({"role": "assistant", "content": self.answer(task, schema, demo, request)})
        messages.append({"role": "user", "content": self.question(task, schema, text, request)})
        return self.render(messages)

    def question(self, task: str, schema: Schema, text: str, request: Request | None) -> str:
        request = request or Request()
        if task == "eae":
            text = find_marked_trigger(text)[0]  # InstructUIE names the event type, not the trigger
        if task == "re":
            options = ", ".join(schema.relation_names)
            return f"{RE_}Option: {options} \nText: {text} \nAnswer:"
        options = ", ".join(label.name for label in span_labels(task, schema, request))
        if task == "ner":
            return f"{NER}Option: {options} \nText: {text} \nAnswer:"
        if task == "ed":
            return f"{EET} Option: {options} \nText: {text} \nAnswer:"
        event_type = request.event_type or "event"
        return f"{EEA}Event type: {event_type} \n  Option: {options} \nText: {text} \nAnswer:"

    def answer(self, task: str, schema: Schema, example: Example, request: Request | None = None) -> str:
        if task == "re":
            items = [f"{rel}: {head}, {tail}" for head, rel, tail in example.triples]
        elif task == "eae":
            items = [f"{span}: {role}" for span, role in example.mentions]
        else:
            items = [f"{label}: {span}" for span, label in example.mentions]
        return " " + ("; ".join(items) if items else "None")

    def ending(self, task: str) -> None:
        """No early end: only chat-json's item lists were measured for one."""
        return None

    def grammar(self, task: str, schema: Schema, text: str, request: Request | None = None) -> str:
        _require(task)
        shown = find_marked_trigger(text)[0] if task == "eae" else text
        forbid = ";:," if task == "re" else ";:"
        spans = span_rules(shown) if self.verbatim else [free_span_rule(forbid=forbid)]
        if not spans:
            return 'root ::= " None"\n'
        if task == "re":
            labels, item = schema.relation_names, 'item ::= label ": " span ", " span'
        elif task == "eae":
            labels = [label.name for label in span_labels(task, schema, request)]
            item = 'item ::= span ": " label'
        else:
            labels = [label.name for label in span_labels(task, schema, request)]
            item = 'item ::= label ": " span'
        return "\n".join([
            'root ::= " " ("None" | item ("; " item)*)',
            item,
            f"label ::= {alternatives(labels)}",
            *spans,
        ]) + "\n"

    def parse(self, task: str, schema: Schema, answer: str, request: Request | None = None) -> Answer:
        _require(task)
        result = Answer()
        body = answer.split("Answer:")[-1]
        offset = len(answer) - len(body)
        if not body.strip() or is_empty_answer(body):
            return result
        if task == "re":
            names = schema.relation_names
        else:
            names = [label.name for label in span_labels(task, schema, request)]
        for first, second, (start, end) in colon_items(body, label_first=True):
            where = (offset + start, offset + end)
            if task == "re":
                head, _, tail = second.partition(", ")
                if not tail:
                    result.problems.append(f"not a relation item: {body[start:end]!r}")
                    continue
                label = match_label(first, names) or first
                result.triples.append(Triple(head.strip(), label, tail.strip(), where))
            elif task == "eae":
                result.mentions.append(Mention(first, match_label(second, names) or second, where))
            else:
                result.mentions.append(Mention(second, match_label(first, names) or first, where))
        if not result.mentions and not result.triples and not result.problems:
            result.problems.append(f"unparseable answer: {body.strip()[:80]!r}")
        return result

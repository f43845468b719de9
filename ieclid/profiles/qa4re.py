"""QA4RE: relation classification asked as a multiple-choice question (Zhang et al., 2023).

Each relation (in each direction) becomes a statement about the two mentions, filled
from the schema's templates; "no known relations" is always the last option; the model
answers with one letter, which the grammar guarantees. Prompt text and option order
follow OSU-NLP-Group/QA4RE (`qa4re_utils.py`, `re_templates.py`).
"""

from __future__ import annotations

import string

from ieclid.errors import UsageError
from ieclid.grammar import alternatives
from ieclid.profiles.base import ChatRenderer
from ieclid.schema import Schema
from ieclid.tasks import Answer, Choice, Example, Request
from ieclid.tasks.markers import find_marked_pair

INSTRUCTION = "Determine which option can be inferred from the given Sentence."
QUESTION = "Which option can be inferred from the given Sentence?"
NONE_TEMPLATE = "{head} has no known relations to {tail}"
LETTERS = string.ascii_uppercase


def options(schema: Schema, e1: str, e2: str) -> list[tuple[str, str | None, bool]]:
    """(statement, relation or None, reversed) per option, NOTA last; mentions in brackets."""
    head, tail = f"[{e1}]", f"[{e2}]"
    result: list[tuple[str, str | None, bool]] = []
    for rel in schema.relations:
        template = rel.template or f"{{head}} {rel.name} {{tail}}"
        result.append((template.format(head=head, tail=tail), rel.name, False))
        if rel.roles:
            result.append((template.format(head=tail, tail=head), rel.name, True))
    result.append(((schema.none_template or NONE_TEMPLATE).format(head=head, tail=tail), None, False))
    if len(result) > len(LETTERS):
        raise UsageError(
            f"--method qa4re needs at most {len(LETTERS)} options; schema {schema.name!r} gives {len(result)}"
        )
    return result


class Qa4reProfile:
    """Wraps a model family's chat rendering with QA4RE's question and one-letter answers."""

    tasks = ("rc",)

    def __init__(self, render: ChatRenderer, base: str) -> None:
        self.render = render
        self.name = f"{base}+qa4re"

    def question(self, schema: Schema, marked: str) -> str:
        """QA4RE's prompt: the sentence with both mentions in brackets, then lettered options."""
        pair = find_marked_pair(marked)
        sentence = pair.text
        for start, end in sorted((pair.e1, pair.e2), reverse=True):
            sentence = sentence[:start] + f"[{sentence[start:end]}]" + sentence[end:]
        statements = options(schema, pair.e1_text, pair.e2_text)
        lines = [f"{LETTERS[i]}. {statement}" for i, (statement, _, _) in enumerate(statements)]
        example = f"Sentence: {sentence}\nOptions:\n" + "\n".join(lines) + "\n"
        return f"{INSTRUCTION}\n\n{example}\n{QUESTION}\n\nOption:"

    def prompt(
        self, task: str, schema: Schema, text: str, demos: list[Example], request: Request | None = None
    ) -> str:
        _require_rc(task)
        messages: list[dict[str, str]] = []
        for demo in demos:
            messages.append({"role": "user", "content": self.question(schema, demo.text)})
            messages.append({"role": "assistant", "content": self.answer(task, schema, demo)})
        messages.append({"role": "user", "content": self.question(schema, text)})
        return self.render(messages)

    def answer(self, task: str, schema: Schema, example: Example, request: Request | None = None) -> str:
        pair = find_marked_pair(example.text)
        label, reverse = example.choice or (None, False)
        choices = options(schema, pair.e1_text, pair.e2_text)
        for i, (_, name, rev) in enumerate(choices):
            if name == label and (name is None or rev == reverse):
                return LETTERS[i]
        return LETTERS[len(choices) - 1]

    def ending(self, task: str) -> None:
        """No early end: the answer is one letter."""
        return None

    def grammar(self, task: str, schema: Schema, text: str, request: Request | None = None) -> str:
        _require_rc(task)
        pair = find_marked_pair(text)
        letters = LETTERS[: len(options(schema, pair.e1_text, pair.e2_text))]
        return f'root ::= " "? {alternatives(letters)}\n'

    def parse(self, task: str, schema: Schema, answer: str, request: Request | None = None) -> Answer:
        """The answer's first letter -> its option's relation (the letters do not depend on the text)."""
        result = Answer(choice=Choice(None))
        choices = options(schema, "", "")
        stripped = answer.strip()
        letter = stripped[:1]
        if letter and letter in LETTERS[: len(choices)] and (len(stripped) == 1 or not stripped[1].isalpha()):
            start = answer.index(letter)
            _, name, reverse = choices[LETTERS.index(letter)]
            result.choice = Choice(name, reverse, (start, start + 1))
        else:
            result.problems.append(f"not an option letter: {stripped[:40]!r}")
        return result


def _require_rc(task: str) -> None:
    if task != "rc":
        raise UsageError("--method qa4re is for --task rc")

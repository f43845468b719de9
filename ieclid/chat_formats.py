"""Chat prompts for models whose GGUF carries no chat template.

Such files are common (conversions that dropped the template, base models). The model's
vocabulary still tells its family: a family's turn markers are single special tokens of it.
A known family gets its own turn format; any other model gets a plain transcript
(`System: ...`, `User: ...`, `Assistant:`), which base models continue as text.
"""

from __future__ import annotations

from collections.abc import Callable

Messages = list[dict[str, str]]


def chatml(messages: Messages) -> str:
    """Qwen, SmolLM and other ChatML models."""
    turns = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(turns) + "<|im_start|>assistant\n"


def gemma(messages: Messages) -> str:
    """Gemma: user and model turns; a system message opens the first user turn."""
    out, system = [], ""
    for message in messages:
        if message["role"] == "system":
            system = message["content"] + "\n\n"
            continue
        role = "model" if message["role"] == "assistant" else "user"
        content = system + message["content"] if role == "user" else message["content"]
        system = "" if role == "user" else system
        out.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    return "".join(out) + "<start_of_turn>model\n"


def llama3(messages: Messages) -> str:
    turns = [f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content']}<|eot_id|>" for m in messages]
    return "".join(turns) + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def transcript(messages: Messages) -> str:
    """Any other model: the conversation as plain text, ending where the assistant speaks."""
    turns = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join([*turns, "Assistant:"])


# A family's format, and the markers that must each be one special token of the vocabulary.
FAMILIES: list[tuple[str, Callable[[Messages], str], tuple[str, ...]]] = [
    ("chatml", chatml, ("<|im_start|>", "<|im_end|>")),
    ("gemma", gemma, ("<start_of_turn>", "<end_of_turn>")),
    ("llama3", llama3, ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")),
]


def fallback_format(is_special_token: Callable[[str], bool]) -> tuple[str, Callable[[Messages], str]]:
    """The chat format for a model without a template: (name, renderer)."""
    for name, render, markers in FAMILIES:
        if all(map(is_special_token, markers)):
            return name, render
    return "transcript", transcript

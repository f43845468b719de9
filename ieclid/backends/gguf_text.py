"""The text side of a GGUF model, which every backend needs: its tokenizer, chat template and
grammar check. The server backend loads only this (the GGUF's vocabulary); the in-process
backend loads the whole model on top of it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ieclid.backends.weight_buffers import weights_off_amx
from ieclid.errors import IeclidError, UsageError
from ieclid.gguf_info import read_gguf


def check_gguf(path: str) -> None:
    """Fail with one clear line before llama.cpp gets a file that is missing or not GGUF."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"model file not found: {path}")
    try:
        with file.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise IeclidError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise IeclidError(f"{path} is not a GGUF model file")


def check_adapter(path: str, model_path: str) -> None:
    """Fail with one clear line before llama.cpp gets an adapter it would crash on: a model file
    given as one, or an adapter made for another architecture."""
    info = read_gguf(path)
    if not info.is_adapter:
        raise UsageError(f"{path} is not a LoRA adapter (a model file goes to --model)")
    made_for = info.metadata.get("general.architecture")
    model = read_gguf(model_path).metadata.get("general.architecture")
    if made_for and model and made_for != model:
        raise UsageError(f"{path} is an adapter for {made_for} models; {Path(model_path).name} is {model}")


class GgufText:
    """The text side of a GGUF model: its tokenizer and chat template.

    Shared by the in-process backend (full model) and the server backend, which loads the
    GGUF's vocabulary only, so prompts and chunk sizes are the same on both.
    """

    llm: Any  # a llama_cpp.Llama, imported when a model loads
    metadata: dict[str, str]
    model_path: str

    def _load_text(self, model_path: str, **params) -> None:
        check_gguf(model_path)
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.model_path = model_path
        try:
            with weights_off_amx():
                self.llm = llama_cpp.Llama(model_path=model_path, verbose=False, **params)
        except (ValueError, RuntimeError) as exc:
            raise IeclidError(f"cannot load model {model_path}: {exc}") from None
        self.metadata = dict(self.llm.metadata)
        self._formatter: Any = None  # the template, compiled when first used

    @property
    def name(self) -> str:
        return Path(self.model_path).stem

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        """Render messages with the GGUF's own chat template (a plain fallback if it has none)."""
        template = self.metadata.get("tokenizer.chat_template")
        if not template:
            return self.chat_fallback[1](messages)
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            vocab = self.llm._model
            self._formatter = Jinja2ChatFormatter(
                template,
                eos_token=vocab.token_get_text(self.llm.token_eos()),
                bos_token=vocab.token_get_text(self.llm.token_bos()),
            )
        return self._formatter(messages=messages).prompt

    @functools.cached_property
    def chat_fallback(self):
        """(name, renderer) of the chat format used when the GGUF has no template (chat_formats)."""
        from ieclid.chat_formats import fallback_format

        def is_special_token(text: str) -> bool:
            return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)) == 1

        return fallback_format(is_special_token)

    def grammar_sampler(self, gbnf: str):
        """A llama.cpp grammar sampler; a grammar llama.cpp rejects is an error, not a segfault.

        `llama_sampler_init_grammar` returns NULL for a bad grammar, which we check; the
        high-level `LlamaGrammar` path would pass that NULL on and crash.
        """
        lc = self._llama_cpp
        vocab = lc.llama_model_get_vocab(self.llm.model)
        sampler = lc.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            raise IeclidError("internal error: built an invalid grammar; please report this")
        return sampler

    def check_grammar(self, gbnf: str) -> None:
        """Refuse a grammar llama.cpp would reject before it reaches a server (which may crash)."""
        self._llama_cpp.llama_sampler_free(self.grammar_sampler(gbnf))

    def close(self) -> None:
        self.llm.close()

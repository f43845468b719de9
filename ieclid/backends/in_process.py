"""In-process GGUF inference through llama-cpp-python.

One model is loaded per run. Generation reuses llama.cpp's KV cache for the prompt
prefix shared with the previous call (instructions, schema, demonstrations), decodes
under a grammar that is validated first (an invalid one crashes llama.cpp), and reads
each sampled token's log-probability from the raw logits, so items get a score
without `logits_all` (which would compute logits for every prompt token).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ieclid.backends.base import Completion
from ieclid.backends.cpu_share import CpuShare, usable_cores
from ieclid.backends.cpu_weights import COPY_QUANT, cpu_weights
from ieclid.backends.gguf_text import GgufText, check_adapter, check_gguf
from ieclid.backends.key_cache import key_type
from ieclid.backends.token_choice import Generation, TokenChoice
from ieclid.errors import IeclidError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ieclid.profiles.base import Ending


class LlamaCppBackend(GgufText):
    def __init__(
        self,
        model_path: str,
        *,
        n_gpu_layers: int | None = None,
        threads: int | None = None,
        ctx: int = 4096,
        seed: int = 0,
        lora: str | None = None,
        parallel: int = 1,
        cpu_copy: bool = True,
        say: Callable[[str], None] | None = None,
        cache_type_k: str = "auto",
    ) -> None:
        """`parallel` > 1: that many answers decoded together (continuous batching) in a context of
        `ctx` tokens that they share; the model's own context then only serves the tokenizer. On
        the CPU one answer at a time goes through the batch engine too, whose layout of the KV
        cache makes an answer's sums the same whatever company it keeps (backends/cells.py), so
        that `--parallel 1` and `8` give the same records; not for recurrent models, whose state
        cannot be cut back to a shared prefix.
        `cpu_copy`: with nothing offloaded, load the model's Q8_0 copy where its own weights have
        no fast CPU kernels (`cpu_weights`).
        `cache_type_k`: the keys' type in the KV cache (`key_type`: auto is Q8_0 on the CPU)."""
        import llama_cpp

        if n_gpu_layers is None:
            n_gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
        # unless fixed, the engine's count follows the cores other processes leave free
        share = None if threads or n_gpu_layers != 0 else CpuShare(usable_cores())
        threads = threads or usable_cores()
        self.n_gpu_layers = n_gpu_layers
        weights, applied = model_path, lora
        copy = cpu_copy and n_gpu_layers == 0
        if lora or copy:  # files llama.cpp would crash on are refused in one line first
            check_gguf(model_path)
        if lora:
            check_adapter(lora, model_path)
        if copy:
            weights, applied = cpu_weights(model_path, say, lora)
        engine = parallel > 1 or n_gpu_layers == 0
        keys = key_type(llama_cpp, cache_type_k, model_path, cpu=n_gpu_layers == 0)
        load = dict(n_threads=threads, n_threads_batch=threads, n_gpu_layers=n_gpu_layers, seed=seed,
                    lora_path=applied, type_k=keys)
        self._load_text(weights, n_ctx=256 if engine else ctx, **load)
        if engine and parallel <= 1 and (self.llm._is_recurrent or self.llm._is_hybrid):
            engine = False
            self.llm.close()
            self._load_text(weights, n_ctx=ctx, **load)
        self.model_path, self.weights_path = model_path, weights
        self.lora, self.lora_merged = lora, bool(lora) and applied is None
        self.n_ctx = self.llm.n_ctx()
        self.choice = TokenChoice(llama_cpp, self.llm, seed)
        self._engine = None
        if engine:
            from ieclid.backends.batching import BatchEngine

            self._engine = BatchEngine(self, max(parallel, 1), ctx, threads, share)
            self.n_ctx = self._engine.room

    def generation(self, n_prompt: int, grammar: str | None, max_tokens: int, temperature: float,
                   ending: Ending | None = None) -> Generation:
        """The token-by-token choice of one answer after a prompt of `n_prompt` tokens, under
        `grammar` (checked: a grammar llama.cpp rejects is an IeclidError). The batch engine
        feeds it the logits of each step; alone, `complete` does."""
        sampler = self.grammar_sampler(grammar) if grammar else None
        return Generation(self.choice, n_prompt, sampler, max_tokens, temperature, ending)

    @property
    def n_vocab(self) -> int:
        return self.choice.n_vocab

    @property
    def schedule(self):
        """The batch engine's schedule, which runs of documents go through; None without an engine."""
        return self._engine.schedule if self._engine is not None else None

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        super().close()

    @property
    def name(self) -> str:
        """The model file, its adapter and `@Q8_0` when its CPU copy ran, in the order they were
        applied: `model+adapter@Q8_0` when the adapter was merged into the copy, `model@Q8_0+adapter`
        when it was applied at run time (records say which model made them)."""
        copy = "@" + COPY_QUANT if self.weights_path != self.model_path else ""
        adapter = f"+{Path(self.lora).stem}" if self.lora else ""
        stem = Path(self.model_path).stem
        return stem + adapter + copy if self.lora_merged else stem + copy + adapter

    def tokenize_prompt(self, prompt: str) -> list[int]:
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        bos = self.llm.token_bos()
        # Templates that write the BOS text themselves would otherwise get it twice.
        if len(tokens) > 1 and tokens[0] == tokens[1] == bos:
            tokens = tokens[1:]
        return tokens

    def _evaluate_prompt(self, tokens: list[int]) -> int:
        """Evaluate the prompt, reusing the KV cache of the prefix shared with the last call.

        Returns how many prompt tokens were taken from the cache.
        """
        llm = self.llm
        cached = 0
        if not (llm._is_recurrent or llm._is_hybrid):  # their state cannot be cut back
            limit = min(llm.n_tokens, len(tokens) - 1)  # the last token is re-evaluated for logits
            previous = llm.input_ids
            while cached < limit and previous[cached] == tokens[cached]:
                cached += 1
        if cached == 0:
            llm.reset()
        llm.n_tokens = cached
        llm.eval(tokens[cached:])  # eval drops the cache beyond n_tokens first
        return cached

    def complete(
        self,
        prompt: str,
        *,
        grammar: str | None,
        max_tokens: int,
        temperature: float = 0.0,
        ending: Ending | None = None,
    ) -> Completion:
        """Generate under `grammar`, choosing among the model's top candidates first; `ending` may
        end the answer early (see Profile.ending).

        llama.cpp's grammar sampler checks every vocabulary entry against every open
        alternative of the grammar: with span grammars that is most of the time. TokenChoice
        checks the TOP_K most likely tokens only and falls back to the whole vocabulary
        when none of them is allowed. Greedy choices are identical either way: the best
        allowed token is among the top candidates whenever any allowed token is.
        """
        tokens = self.tokenize_prompt(prompt)
        if len(tokens) + max_tokens > self.n_ctx:
            max_tokens = self.n_ctx - len(tokens)
            if max_tokens < 16:
                raise IeclidError(
                    f"the prompt has {len(tokens)} tokens and does not fit the model's context "
                    f"of {self.n_ctx}; lower --max-chunk-tokens or --shots, or raise --ctx"
                )
        if self._engine is not None:
            return self._engine.complete(tokens, grammar, max_tokens, temperature, ending)
        generation = self.generation(len(tokens), grammar, max_tokens, temperature, ending)
        try:
            if not generation.start():
                generation.cached = self._evaluate_prompt(tokens)
                while (token := generation.next_token(self.last_logits())) is not None:
                    self.llm.eval([token])
        finally:
            generation.close()
        return generation.completion()

    def last_logits(self):
        """The logits after the last token evaluated (without the batch engine)."""
        import numpy as np

        return np.ctypeslib.as_array(
            self._llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1), shape=(self.n_vocab,)
        )

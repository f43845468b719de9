"""In-process GGUF inference through llama-cpp-python.

One model is loaded per run. Generation reuses llama.cpp's KV cache for the prompt
prefix shared with the previous call (instructions, schema, demonstrations), decodes
under a grammar that is validated first (an invalid one crashes llama.cpp), and reads
each sampled token's log-probability from the raw logits, so items get a score
without `logits_all` (which would compute logits for every prompt token).
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ieclid.backends.base import Completion
from ieclid.backends.cpu_weights import COPY_QUANT, cpu_weights
from ieclid.backends.key_cache import key_type
from ieclid.backends.weight_buffers import weights_off_amx
from ieclid.errors import IeclidError, UsageError

if TYPE_CHECKING:
    from ieclid.profiles.base import Ending

# An answer that ends in the same 8+ characters four times over is a model stuck in a loop.
_LOOP = re.compile(r"(.{8,}?)\1{3,}$", re.DOTALL)
# How many of the most likely tokens are checked against the grammar before all of them are.
TOP_K = 40
# The longest text a grammar may force up to its end that is taken without decoding, in bytes.
MAX_FORCED = 64


@functools.cache
def _token_data_dtype():
    """numpy layout of llama.cpp's `llama_token_data`, to pass candidates without copying."""
    import numpy as np

    return np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


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


class GgufText:
    """The text side of a GGUF model: its tokenizer and chat template.

    Shared by the in-process backend (full model) and the server backend, which loads the
    GGUF's vocabulary only, so prompts and chunk sizes are the same on both.
    """

    llm: object
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
        self._formatter = None

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

    def _grammar(self, gbnf: str):
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
        self._llama_cpp.llama_sampler_free(self._grammar(gbnf))

    def close(self) -> None:
        self.llm.close()


class Generation:
    """One answer being generated: the per-token work that every decode path shares (choosing
    under the grammar, log-probabilities, stop conditions).

    Once all the grammar allows is one text up to its end (`e2)"}` after the first tokens of an
    option single it out), that text completes the answer without decoding: the model could only
    have spelled it out token by token. Forced text elsewhere is decoded as before: fed unsampled
    (the forced start `{"relation": "`, ` {"` and ` "` around each mention) it changed the model's
    next choices, in floating-point sums and in tokenization: 4-shot WNUT-17 entity F1 fell, and
    no time was saved on a CPU (benchmarks/RESULTS.md, Throughput).
    """

    def __init__(self, backend: LlamaCppBackend, prompt_tokens: int, sampler, max_tokens: int,
                 temperature: float, ending: Ending | None = None) -> None:
        self.backend = backend
        self.ending = ending
        self.ended: str | None = None  # the answer as the ending rule ended it
        self.prompt_tokens = prompt_tokens
        self.sampler = sampler
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.tokens: list[int] = []
        self.pieces: list[bytes] = []
        self.token_ends: list[tuple[int, float | None]] = []
        self.text = ""
        self.stopped = "length"
        self.cached = 0
        self.forced = 0

    def start(self) -> bool:
        """Whether the grammar forces the whole answer, which is then complete without decoding."""
        return self.sampler is not None and self._forced_to_the_end()

    def next_token(self, logits) -> int | None:
        """The token to feed the model next, chosen from `logits`; None once the answer is done."""
        import numpy as np

        backend = self.backend
        lc = backend._llama_cpp
        token = backend._choose(logits, self.sampler, self.temperature, backend._rng)
        if not self.tokens and self.sampler is not None and self.temperature <= 0:
            token = backend.prefer_an_answer(logits, self.sampler, token)
        top = float(logits.max())
        logprob = float(logits[token]) - top - math.log(float(np.exp(logits - top).sum()))
        if lc.llama_vocab_is_eog(backend._vocab, token):
            self.stopped = "eos"
            return None
        if self.sampler is not None:
            lc.llama_sampler_accept(self.sampler, token)
        self._add(token, logprob)
        if self._ended():
            return None
        if self.sampler is not None and self._forced_to_the_end():
            return None  # decoding the rest, or this token just to sample the end, is wasted
        if len(self.tokens) % 16 == 0 and _LOOP.search(self.text):
            self.stopped = "loop"
            return None
        if len(self.tokens) >= self.max_tokens:
            return None  # stopped stays "length"
        return token

    def _forced_to_the_end(self) -> bool:
        """Whether the grammar allows nothing but one text up to its end (perhaps none); that
        text then completes the answer, in the tokens the tokenizer writes it as."""
        text, ends = self.backend._forced_text(self.sampler)
        if not ends:
            return False
        tokens = self.backend.llm.tokenize(text, add_bos=False, special=False) if text else []
        if len(self.tokens) + len(tokens) > self.max_tokens:
            return False
        self.stopped = "eos"
        for token in tokens:  # the ending rule sees the answer after every token, as when decoding
            self._add(token, None)
            self.forced += 1
            if self._ended():
                break
        return True

    def _ended(self) -> bool:
        """Whether the ending rule, if any, ends the answer as it now stands."""
        if self.ending is not None:
            self.ended = self.ending(self.text)
        return self.ended is not None

    def _add(self, token: int, logprob: float | None) -> None:
        self.tokens.append(token)
        self.pieces.append(self.backend.llm.detokenize([token], prev_tokens=self.tokens[:-1]))
        self.text = b"".join(self.pieces).decode("utf-8", errors="ignore")
        self.token_ends.append((len(self.text), logprob))

    def completion(self) -> Completion:
        completion = Completion(self.text, self.prompt_tokens, len(self.tokens), self.token_ends,
                                self.stopped, self.cached, self.forced)
        if self.ended is not None:
            completion.end_as(self.ended)
        return completion

    def close(self) -> None:
        if self.sampler is not None:
            self.backend._llama_cpp.llama_sampler_free(self.sampler)
            self.sampler = None


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
        threads = threads or max(1, os.cpu_count() or 1)
        self.n_gpu_layers = n_gpu_layers
        weights = model_path
        if cpu_copy and n_gpu_layers == 0:
            check_gguf(model_path)
            weights = cpu_weights(model_path)
        engine = parallel > 1 or n_gpu_layers == 0
        keys = key_type(llama_cpp, cache_type_k, model_path, cpu=n_gpu_layers == 0)
        load = dict(n_threads=threads, n_threads_batch=threads, n_gpu_layers=n_gpu_layers, seed=seed,
                    lora_path=lora, type_k=keys)
        self._load_text(weights, n_ctx=256 if engine else ctx, **load)
        if engine and parallel <= 1 and (self.llm._is_recurrent or self.llm._is_hybrid):
            engine = False
            self.llm.close()
            self._load_text(weights, n_ctx=ctx, **load)
        self.model_path, self.weights_path = model_path, weights
        self.lora = lora
        self.n_ctx = self.llm.n_ctx()
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self._n_vocab = self.llm.n_vocab()
        import numpy as np

        # One stream for the run: reproducible with --seed, and two samples of one prompt differ.
        self._rng = np.random.default_rng(seed)
        self._engine = None
        if engine:
            from ieclid.backends.batching import BatchEngine

            self._engine = BatchEngine(self, max(parallel, 1), ctx, threads)
            self.n_ctx = self._engine.room

    def generation(self, n_prompt: int, grammar: str | None, max_tokens: int, temperature: float,
                   ending: Ending | None = None) -> Generation:
        """The token-by-token choice of one answer after a prompt of `n_prompt` tokens, under
        `grammar` (checked: a grammar llama.cpp rejects is an IeclidError). The batch engine
        feeds it the logits of each step; alone, `complete` does."""
        sampler = self._grammar(grammar) if grammar else None
        return Generation(self, n_prompt, sampler, max_tokens, temperature, ending)

    @property
    def n_vocab(self) -> int:
        return self._n_vocab

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
        """The model file, `@Q8_0` when its CPU copy ran, and the adapter on it if any (records say
        which model made them)."""
        copy = "@" + COPY_QUANT if self.weights_path != self.model_path else ""
        return Path(self.model_path).stem + copy + (f"+{Path(self.lora).stem}" if self.lora else "")

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
        alternative of the grammar: with span grammars that is most of the time. We
        check the TOP_K most likely tokens only and fall back to the whole vocabulary
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
                while (token := generation.next_token(self._last_logits())) is not None:
                    self.llm.eval([token])
        finally:
            generation.close()
        return generation.completion()

    def _last_logits(self):
        import numpy as np

        return np.ctypeslib.as_array(
            self._llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1), shape=(self._n_vocab,)
        )

    def _choose(self, logits, sampler, temperature: float, rng) -> int:
        """Best (or sampled) token that the grammar allows, checking the top candidates first.
        Greedy, the model's own first choice is checked alone before any are sorted: it is
        allowed most of the time, and ranking the vocabulary costs more than the grammar check."""
        import numpy as np

        if temperature <= 0:
            best = np.argmax(logits)
            if sampler is None or self._allowed(sampler, best.reshape(1), logits[best].reshape(1)).size:
                return int(best)
        top = self._top(logits)
        if sampler is None:
            return self._pick(top, logits[top], temperature, rng)
        allowed = self._allowed(sampler, top, logits[top])
        if not allowed.size:
            allowed = self._allowed(sampler, np.arange(self._n_vocab), logits)
        if not allowed.size:
            raise IeclidError("the grammar allows no token here; please report this")
        return self._pick(allowed, logits[allowed], temperature, rng)

    def prefer_an_answer(self, logits, sampler, token: int) -> int:
        """The first token of an answer, `token` unless that token alone completes the answer
        (`[]`, one vocabulary entry in many tokenizers) while the allowed tokens that begin a
        longer answer (`[`, ` [{"`, a code fence) are more likely together: split over several
        spellings, each of them alone loses to the one token that ends, and greedy decoding
        answered nothing for every text. Then the likeliest of those is taken."""
        import numpy as np

        if not self._ends_after(sampler, token):
            return token
        top = self._top(logits)
        allowed = self._allowed(sampler, top, logits[top])
        shifted = np.exp(logits[allowed] - float(logits.max()))
        going = [i for i, candidate in enumerate(allowed) if not self._ends_after(sampler, int(candidate))]
        if going and shifted[going].sum() > shifted.sum() - shifted[going].sum():
            return int(allowed[going[0]])
        return token

    def _top(self, logits):
        """The TOP_K most likely tokens, best first."""
        import numpy as np

        k = min(TOP_K, self._n_vocab)
        top = np.argpartition(logits, -k)[-k:]
        return top[np.argsort(-logits[top], kind="stable")]

    def _ends_after(self, sampler, token: int) -> bool:
        """Whether the grammar allows nothing but a fixed text and the end once `token` is taken."""
        lc = self._llama_cpp
        clone = lc.llama_sampler_clone(sampler)
        try:
            lc.llama_sampler_accept(clone, token)
            return self._forced_text(clone)[1]
        finally:
            lc.llama_sampler_free(clone)

    def _allowed(self, sampler, candidates, scores):
        """Candidates the grammar accepts next, in the order given (`scores`: their logits)."""
        import numpy as np

        lc = self._llama_cpp
        data = np.zeros(len(candidates), dtype=_token_data_dtype())
        data["id"] = candidates
        data["logit"] = scores
        array = lc.llama_token_data_array(
            data=data.ctypes.data_as(lc.llama_token_data_p), size=len(data), selected=-1, sorted=False
        )
        lc.llama_sampler_apply(sampler, ctypes.byref(array))
        return data["id"][np.isfinite(data["logit"])]

    def _forced_text(self, sampler) -> tuple[bytes, bool]:
        """The ASCII text the grammar allows alone next, byte by byte (walked on a copy of the
        sampler; b"" where it allows a choice of bytes, or the end), and whether the grammar
        allows only the end after it."""
        import numpy as np

        lc = self._llama_cpp
        witnesses = self._witnesses
        zeros = np.zeros(len(witnesses), np.float32)
        eog = np.array([self.llm.token_eos()], dtype=np.int32)
        text, ends = b"", False
        walker = None
        try:
            while len(text) < MAX_FORCED:
                state = walker or sampler
                allowed = self._allowed(state, witnesses, zeros)
                if allowed.size != 1:
                    ends = not allowed.size
                    break
                piece = self._pieces[int(allowed[0])]
                if len(piece) != 1 or piece[0] >= 0x80 or self._allowed(state, eog, zeros[:1]).size:
                    break
                text += piece
                walker = walker or lc.llama_sampler_clone(sampler)
                lc.llama_sampler_accept(walker, int(allowed[0]))
        finally:
            if walker:
                lc.llama_sampler_free(walker)
        return text, ends

    @functools.cached_property
    def _pieces(self) -> list[bytes]:
        """Each token's text as the grammar sampler matches it (special=True: control tokens'
        texts too); b"" for end-of-generation tokens."""
        lc = self._llama_cpp
        pieces = []
        buffer = ctypes.create_string_buffer(256)
        for token in range(self._n_vocab):
            if lc.llama_vocab_is_eog(self._vocab, token):
                pieces.append(b"")
                continue
            size = lc.llama_token_to_piece(self._vocab, token, buffer, len(buffer), 0, True)
            if size < 0:  # longer than the buffer
                longer = ctypes.create_string_buffer(-size)
                size = lc.llama_token_to_piece(self._vocab, token, longer, len(longer), 0, True)
                pieces.append(longer.raw[:size])
            else:
                pieces.append(buffer.raw[:size])
        return pieces

    @functools.cached_property
    def _witnesses(self):
        """Tokens that show whether a grammar allows any text next: each byte's single-byte token,
        and every token whose text starts with a byte that has none. A grammar that accepts a
        token accepts the first byte of its text on its own (llama.cpp matches partial text and
        partial UTF-8), so a grammar that accepts none of these accepts no text token at all."""
        import numpy as np

        pieces = self._pieces
        single: dict[int, int] = {}
        for token, piece in enumerate(pieces):
            if len(piece) == 1:
                single.setdefault(piece[0], token)
        others = [token for token, piece in enumerate(pieces) if len(piece) > 1 and piece[0] not in single]
        return np.array([*single.values(), *others], dtype=np.int32)

    @staticmethod
    def _pick(candidates, scores, temperature: float, rng) -> int:
        import numpy as np

        if temperature <= 0:
            return int(candidates[int(np.argmax(scores))])
        scaled = (scores - scores.max()) / temperature
        probs = np.exp(scaled)
        return int(rng.choice(candidates, p=probs / probs.sum()))


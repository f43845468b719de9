"""Choosing an answer's tokens under a grammar: the per-token work every decode path shares.

`TokenChoice` checks the model's most likely tokens against the grammar sampler before the
whole vocabulary, keeps an answer from being closed at its first token when longer answers are
likelier together, and finds the text a grammar forces. `Generation` is one answer being
generated with it: the batch engine feeds it each step's logits; alone, the backend does.
"""

from __future__ import annotations

import ctypes
import functools
import math
import re
from typing import TYPE_CHECKING

from ieclid.backends.base import Completion
from ieclid.errors import IeclidError

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


class TokenChoice:
    """Token choice for one loaded model (`llm`, through the llama_cpp module `lc`); `seed`
    starts the one random stream of the run: reproducible with --seed, and two samples of one
    prompt differ."""

    def __init__(self, lc, llm, seed: int) -> None:
        import numpy as np

        self.lc, self.llm = lc, llm
        self.vocab = lc.llama_model_get_vocab(llm.model)
        self.n_vocab: int = llm.n_vocab()
        self.rng = np.random.default_rng(seed)

    def choose(self, logits, sampler, temperature: float) -> int:
        """Best (or sampled) token that the grammar allows, checking the top candidates first.
        Greedy, the model's own first choice is checked alone before any are sorted: it is
        allowed most of the time, and ranking the vocabulary costs more than the grammar check."""
        import numpy as np

        if temperature <= 0:
            best = np.argmax(logits)
            if sampler is None or self.allowed(sampler, best.reshape(1), logits[best].reshape(1)).size:
                return int(best)
        top = self.top(logits)
        if sampler is None:
            return self.pick(top, logits[top], temperature)
        allowed = self.allowed(sampler, top, logits[top])
        if not allowed.size:
            allowed = self.allowed(sampler, np.arange(self.n_vocab), logits)
        if not allowed.size:
            raise IeclidError("the grammar allows no token here; please report this")
        return self.pick(allowed, logits[allowed], temperature)

    def prefer_an_answer(self, logits, sampler, token: int) -> int:
        """The first token of an answer, `token` unless that token alone completes the answer
        (`[]`, one vocabulary entry in many tokenizers) while the allowed tokens that begin a
        longer answer (`[`, ` [{"`, a code fence) are more likely together: split over several
        spellings, each of them alone loses to the one token that ends, and greedy decoding
        answered nothing for every text. Then the likeliest of those is taken."""
        import numpy as np

        if not self.ends_after(sampler, token):
            return token
        top = self.top(logits)
        allowed = self.allowed(sampler, top, logits[top])
        shifted = np.exp(logits[allowed] - float(logits.max()))
        going = [i for i, candidate in enumerate(allowed) if not self.ends_after(sampler, int(candidate))]
        if going and shifted[going].sum() > shifted.sum() - shifted[going].sum():
            return int(allowed[going[0]])
        return token

    def top(self, logits):
        """The TOP_K most likely tokens, best first."""
        import numpy as np

        k = min(TOP_K, self.n_vocab)
        top = np.argpartition(logits, -k)[-k:]
        return top[np.argsort(-logits[top], kind="stable")]

    def ends_after(self, sampler, token: int) -> bool:
        """Whether the grammar allows nothing but a fixed text and the end once `token` is taken."""
        lc = self.lc
        clone = lc.llama_sampler_clone(sampler)
        try:
            lc.llama_sampler_accept(clone, token)
            return self.forced_text(clone)[1]
        finally:
            lc.llama_sampler_free(clone)

    def allowed(self, sampler, candidates, scores):
        """Candidates the grammar accepts next, in the order given (`scores`: their logits)."""
        import numpy as np

        lc = self.lc
        data = np.zeros(len(candidates), dtype=_token_data_dtype())
        data["id"] = candidates
        data["logit"] = scores
        array = lc.llama_token_data_array(
            data=data.ctypes.data_as(lc.llama_token_data_p), size=len(data), selected=-1, sorted=False
        )
        lc.llama_sampler_apply(sampler, ctypes.byref(array))
        return data["id"][np.isfinite(data["logit"])]

    def forced_text(self, sampler) -> tuple[bytes, bool]:
        """The ASCII text the grammar allows alone next, byte by byte (walked on a copy of the
        sampler; b"" where it allows a choice of bytes, or the end), and whether the grammar
        allows only the end after it."""
        import numpy as np

        lc = self.lc
        witnesses = self.witnesses
        zeros = np.zeros(len(witnesses), np.float32)
        eog = np.array([self.llm.token_eos()], dtype=np.int32)
        text, ends = b"", False
        walker = None
        try:
            while len(text) < MAX_FORCED:
                state = walker or sampler
                allowed = self.allowed(state, witnesses, zeros)
                if allowed.size != 1:
                    ends = not allowed.size
                    break
                piece = self.pieces[int(allowed[0])]
                if len(piece) != 1 or piece[0] >= 0x80 or self.allowed(state, eog, zeros[:1]).size:
                    break
                text += piece
                walker = walker or lc.llama_sampler_clone(sampler)
                lc.llama_sampler_accept(walker, int(allowed[0]))
        finally:
            if walker:
                lc.llama_sampler_free(walker)
        return text, ends

    @functools.cached_property
    def pieces(self) -> list[bytes]:
        """Each token's text as the grammar sampler matches it (special=True: control tokens'
        texts too); b"" for end-of-generation tokens."""
        lc = self.lc
        pieces = []
        buffer = ctypes.create_string_buffer(256)
        for token in range(self.n_vocab):
            if lc.llama_vocab_is_eog(self.vocab, token):
                pieces.append(b"")
                continue
            size = lc.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, True)
            if size < 0:  # longer than the buffer
                longer = ctypes.create_string_buffer(-size)
                size = lc.llama_token_to_piece(self.vocab, token, longer, len(longer), 0, True)
                pieces.append(longer.raw[:size])
            else:
                pieces.append(buffer.raw[:size])
        return pieces

    @functools.cached_property
    def witnesses(self):
        """Tokens that show whether a grammar allows any text next: each byte's single-byte token,
        and every token whose text starts with a byte that has none. A grammar that accepts a
        token accepts the first byte of its text on its own (llama.cpp matches partial text and
        partial UTF-8), so a grammar that accepts none of these accepts no text token at all."""
        import numpy as np

        pieces = self.pieces
        single: dict[int, int] = {}
        for token, piece in enumerate(pieces):
            if len(piece) == 1:
                single.setdefault(piece[0], token)
        others = [token for token, piece in enumerate(pieces) if len(piece) > 1 and piece[0] not in single]
        return np.array([*single.values(), *others], dtype=np.int32)

    def pick(self, candidates, scores, temperature: float) -> int:
        import numpy as np

        if temperature <= 0:
            return int(candidates[int(np.argmax(scores))])
        scaled = (scores - scores.max()) / temperature
        probs = np.exp(scaled)
        return int(self.rng.choice(candidates, p=probs / probs.sum()))


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

    def __init__(self, choice: TokenChoice, prompt_tokens: int, sampler, max_tokens: int,
                 temperature: float, ending: Ending | None = None) -> None:
        self.choice = choice
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

        choice = self.choice
        token = choice.choose(logits, self.sampler, self.temperature)
        if not self.tokens and self.sampler is not None and self.temperature <= 0:
            token = choice.prefer_an_answer(logits, self.sampler, token)
        top = float(logits.max())
        logprob = float(logits[token]) - top - math.log(float(np.exp(logits - top).sum()))
        if choice.lc.llama_vocab_is_eog(choice.vocab, token):
            self.stopped = "eos"
            return None
        if self.sampler is not None:
            choice.lc.llama_sampler_accept(self.sampler, token)
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
        text, ends = self.choice.forced_text(self.sampler)
        if not ends:
            return False
        tokens = self.choice.llm.tokenize(text, add_bos=False, special=False) if text else []
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
        self.pieces.append(self.choice.llm.detokenize([token], prev_tokens=self.tokens[:-1]))
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
            self.choice.lc.llama_sampler_free(self.sampler)
            self.sampler = None

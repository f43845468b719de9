"""What every backend shares, whichever engine runs the model: the answer type, and a way to
keep llama.cpp quiet while it loads a vocabulary or quantizes."""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    # (end character offset in `text`, log-probability) per generated token; None for a token
    # the grammar forced, whose probability the model was never asked for
    token_ends: list[tuple[int, float | None]] = field(default_factory=list)
    stopped: str = "eos"  # "eos", "length", "loop" or "ended" (by an ending rule)
    cached_tokens: int = 0  # prompt tokens whose KV cache was reused from the previous call
    forced_tokens: int = 0  # completion tokens the grammar forced up to its end, never decoded

    def end_as(self, text: str) -> None:
        """Make `text` the answer, a prefix of what was generated (plus a closing), as an
        ending rule decided; tokens past it no longer count for scores."""
        self.text, self.stopped = text, "ended"
        self.token_ends = [(end, logprob) for end, logprob in self.token_ends if end <= len(text)]

    def score(self, start: int, end: int) -> float | None:
        """Probability of the least likely token the model chose for text[start:end]: an item is
        as sure as its weakest choice (the type it gave, where its span began), which an average
        over the near-certain quotes and braces around them hides."""
        logprobs = []
        token_start = 0
        for token_end, logprob in self.token_ends:
            if token_end > start and token_start < end and logprob is not None:
                logprobs.append(logprob)
            token_start = token_end
        if not logprobs:
            return None
        return math.exp(min(logprobs))


@contextmanager
def quiet_llama() -> Iterator[None]:
    """Silence llama.cpp's own log lines (on stderr) for a while: loading a vocabulary alone, or
    quantizing, logs at levels that say nothing to the user."""
    import llama_cpp
    from llama_cpp._logger import llama_log_callback

    silent = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
    llama_cpp.llama_log_set(silent, ctypes.c_void_p(0))
    try:
        yield
    finally:
        llama_cpp.llama_log_set(llama_log_callback, ctypes.c_void_p(0))

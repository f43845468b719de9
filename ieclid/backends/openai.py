"""Extraction through OpenAI-compatible servers (llama.cpp's server, llama-cpp-python's, vLLM).

Prompts are rendered and counted here, with the GGUF's own chat template and tokenizer
(its vocabulary only is loaded), and sent as raw text to `/v1/completions`, so a server
running the same model answers exactly as the in-process backend does at temperature 0.
The grammar, checked here first, goes with each request where the server reads it:
llama.cpp's servers in `grammar`, vLLM in `structured_outputs.grammar` (`guided_grammar`
before vLLM 0.12, which removed it); the kind comes from what the server says of itself
(`owned_by` of its models, vLLM's `/version`) or from --server-kind. A server that takes no
grammar gets none, once said: its answers are parsed as they come. Requests go round-robin
over the servers; a failing server is retried with backoff on the next one, and a request
that fails everywhere fails only its document.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from ieclid.backends.base import Completion, quiet_llama
from ieclid.backends.gguf_text import GgufText
from ieclid.errors import IeclidError, UsageError

if TYPE_CHECKING:
    from ieclid.profiles.base import Ending

RETRIES = 4  # attempts per request, spread over the servers
BACKOFF = 0.5  # seconds before the second attempt; doubled after each failure
OPENAI_HOST = "api.openai.com"
SERVER_KINDS = ("llama.cpp", "vllm", "unconstrained")
VLLM_WITHOUT_GUIDED_FIELDS = (0, 12)  # the version that took `guided_grammar` away


def api_key_for(base_urls: list[str], given: str | None) -> str | None:
    """The bearer token to send: `--api-key` (or IECLID_API_KEY) to any server named, but
    OPENAI_API_KEY, set for OpenAI, only to OpenAI's own host: a key a user keeps in their
    environment must not reach whatever server a --base-url names."""
    if given:
        return given
    if os.environ.get("IECLID_API_KEY"):
        return os.environ["IECLID_API_KEY"]
    hosts = {urllib.parse.urlsplit(url).hostname for url in base_urls}
    if hosts == {OPENAI_HOST} and all(url.startswith("https://") for url in base_urls):
        return os.environ.get("OPENAI_API_KEY") or None
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are refused: urllib would copy the Authorization header to the new address,
    whatever host it names, and turn the POST into a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise IeclidError(
            f"{req.full_url}: the server redirects (HTTP {code}) to {newurl}; ieclid does not follow "
            "redirects (they would carry the API key there): give that address as --base-url"
        )


_OPENER = urllib.request.build_opener(_NoRedirects)


class OpenAIBackend(GgufText):
    schedule = None  # servers batch as they please

    def __init__(
        self,
        model_path: str,
        base_urls: list[str],
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        seed: int = 0,
        kind: str = "auto",
        notify: Callable[[str], None] | None = None,
    ) -> None:
        """`kind`: one of SERVER_KINDS, or auto to ask the first server; `notify` hears, once,
        that the answers will come unconstrained."""
        if not base_urls:
            raise UsageError("--backend openai needs --base-url URL (one or more)")
        self.base_urls = [_api_root(url) for url in base_urls]
        self.api_key = api_key_for(self.base_urls, api_key)
        self.timeout = timeout
        self.seed = seed
        self._load_vocabulary(model_path)
        self._turn = itertools.cycle(range(len(self.base_urls)))
        self._lock = threading.Lock()
        self._logprobs = True  # dropped for servers that cannot give them
        models = self._request("GET", "/models", None).get("data") or []
        # the model id the first reachable server serves (vLLM needs it in every request)
        self.server_model = str(models[0].get("id")) if models else self.name
        owner = str(models[0].get("owned_by", "")) if models else ""
        self.kind = kind if kind != "auto" else "vllm" if owner == "vllm" else "llama.cpp"
        self.grammar_field = self._grammar_field()
        # Sampling settings the server must not take from elsewhere: llama-cpp-python's server
        # defaults to a repeat penalty of 1.1, vLLM to the model's generation_config.json.
        self.sampling = ({"repetition_penalty": 1.0, "top_p": 1.0, "top_k": -1} if self.kind == "vllm"
                         else {"repeat_penalty": 1.0})
        if self.grammar_field is None and notify:
            notify("the server takes no grammar (--server-kind unconstrained): answers come "
                   "unconstrained and are parsed as they are; some may not parse")

    def _load_vocabulary(self, model_path: str) -> None:
        """The GGUF's tokenizer and template only. llama.cpp then warns, at error level, that
        the (absent) training context is smaller than the context; that says nothing here."""
        with quiet_llama():
            self._load_text(model_path, vocab_only=True)

    def _grammar_field(self) -> str | None:
        """Where a request carries the grammar on this kind of server (None: nowhere)."""
        if self.kind == "unconstrained":
            return None
        if self.kind != "vllm":
            return "grammar"
        try:
            version = str(self._request("GET", "/version", None, root=True).get("version", ""))
        except IeclidError:
            version = ""  # an unknown version is taken for a current one
        numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
        return "guided_grammar" if numbers and numbers < VLLM_WITHOUT_GUIDED_FIELDS else "structured_outputs"

    def complete(
        self, prompt: str, *, grammar: str | None, max_tokens: int, temperature: float = 0.0,
        ending: Ending | None = None,
    ) -> Completion:
        """`ending` is applied to the finished answer as if it had been checked after every
        character, so records match the in-process backend's; the server's time is spent."""
        body: dict = {
            "model": self.server_model, "prompt": prompt, "max_tokens": max_tokens,
            "temperature": temperature, "seed": self.seed, **self.sampling,
        }
        if grammar and self.grammar_field:
            self.check_grammar(grammar)
            if self.grammar_field == "structured_outputs":
                body["structured_outputs"] = {"grammar": grammar}
            else:
                body[self.grammar_field] = grammar
        if self._logprobs:
            body["logprobs"] = 1
        try:
            answer = self._request("POST", "/completions", body)
        except _LogprobsRefused:
            self._logprobs = False
            body.pop("logprobs")
            answer = self._request("POST", "/completions", body)
        try:
            choice = answer["choices"][0]
            text = choice["text"]
        except (KeyError, IndexError, TypeError):
            raise IeclidError(f"the server's answer has no completion: {str(answer)[:120]}") from None
        usage = answer.get("usage") or {}
        completion = Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            token_ends=_token_ends(text, choice.get("logprobs")),
            stopped="length" if choice.get("finish_reason") == "length" else "eos",
        )
        for end in range(1, len(text) + 1) if ending else ():
            if (ended := ending(text[:end])) is not None:
                completion.end_as(ended)
                break
        return completion

    def _request(self, method: str, path: str, body: dict | None, root: bool = False) -> dict:
        """One API call with retries over the servers; IeclidError when every attempt failed.
        `root`: the path is under the server's root, not its /v1."""
        problems: list[str] = []
        for attempt in range(max(RETRIES, len(self.base_urls))):
            with self._lock:
                base = self.base_urls[next(self._turn)]
                url = (base.removesuffix("/v1") if root else base) + path
            try:
                return self._send(method, url, body)
            except _Retryable as exc:
                problems.append(f"{url}: {exc}")
                time.sleep(min(BACKOFF * 2**attempt, 8.0))
        raise IeclidError(f"no server answered ({len(problems)} attempts); last: {problems[-1]}")

    def _send(self, method: str, url: str, body: dict | None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = orjson.dumps(body) if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                return orjson.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[:300]
            if "logprobs" in detail and body is not None and "logprobs" in body:
                raise _LogprobsRefused() from None
            if exc.code >= 500 or exc.code == 429:
                raise _Retryable(f"HTTP {exc.code}") from None
            raise IeclidError(f"{url}: HTTP {exc.code}: {' '.join(detail.split())[:200]}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise _Retryable(str(getattr(exc, "reason", exc))) from None
        except orjson.JSONDecodeError:
            raise _Retryable("not a JSON answer") from None


class _Retryable(Exception):
    """A failure another attempt (or another server) may not have."""


class _LogprobsRefused(Exception):
    """The server cannot return token log-probabilities (llama-cpp-python without logits_all)."""


@functools.cache
def _api_root(url: str) -> str:
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must start with http:// or https://: {url}")
    return url if url.endswith("/v1") else url + "/v1"


def _token_ends(text: str, logprobs: dict | None) -> list[tuple[int, float]]:
    """(end offset, log-probability) per token, when the tokens spell out the text."""
    if not logprobs:
        return []
    tokens, values = logprobs.get("tokens") or [], logprobs.get("token_logprobs") or []
    if "".join(tokens) != text or len(tokens) != len(values):
        return []
    ends = list(itertools.accumulate(len(t) for t in tokens))
    return [(end, float(v)) for end, v in zip(ends, values, strict=True) if v is not None]

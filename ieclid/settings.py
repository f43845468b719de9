"""What a run is asked to do: the options of `extract` and `eval` as one value, checked.

Everything a user can get wrong without a model is checked here, before the model loads, so
mistakes fail in milliseconds with exit code 2.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from enum import Enum
from pathlib import Path

from ieclid import __version__
from ieclid.chunking import DEFAULT_CHUNK_SENTENCES
from ieclid.errors import UsageError
from ieclid.pipeline import MIN_SCORE
from ieclid.profiles import PROFILES
from ieclid.resume import digest

METHODS = ("direct", "qa4re")
# Answers decoded together in process: 8 beat 4 on 2 CPU cores (benchmarks/throughput.py).
DEFAULT_PARALLEL = 8
IN_FLIGHT_PER_SEQUENCE = 4
MIN_CTX = 512  # the instructions and label set of a prompt, a chunk, and room for its answer
MAX_CTX = 1 << 20
MAX_THREADS = 1024
MAX_SHOTS = 64



@dataclass
class RunSettings:
    task: str = "ner"
    labels: str | None = None
    schema: str | None = None
    model: str | None = None
    profile: str | None = None
    method: str = "direct"
    demos: str | None = None
    label_map: str | None = None  # --label-map PER=person,...: demonstration tags -> labels
    shots: int = 4
    max_chunk_tokens: int = 256
    chunk_sentences: int = DEFAULT_CHUNK_SENTENCES
    chunk_overlap: int = 0
    propagate: bool = True
    min_score: float = MIN_SCORE
    n_gpu_layers: int | None = None
    cpu_copy: bool = True  # a small Q4_1/Q5_1 model runs as its Q8_0 copy on the CPU
    cache_type_k: str = "auto"  # the KV cache's keys: auto is Q8_0 on the CPU
    threads: int | None = None
    ctx: int = 4096
    seed: int = 0
    temperature: float = 0.0
    grammar: bool = True
    verbatim: bool | None = None  # None: see verbatim_spans
    event_type: str | None = None
    instruction: str | None = None
    columns: str | None = None
    lora: str | None = None
    backend: str = "llama-cpp"
    base_urls: tuple[str, ...] = ()
    concurrency: int | None = None
    sequences: int | None = None  # in-process: answers decoded together (--parallel)
    api_key: str | None = None
    timeout: float = 300.0
    server_kind: str = "auto"  # openai backend: where the grammar goes (backends/openai.py)

    @classmethod
    def from_options(cls, options: dict) -> RunSettings:
        """Settings from a command's option values (`locals()` of `extract`, `eval`): the options
        named as the fields (--parallel is `sequences`, --base-url `base_urls`, --backend
        `backend`), choices as their values; the command's other arguments are not settings."""
        renamed = {"parallel": "sequences", "base_url": "base_urls", "backend_name": "backend"}
        names = {f.name for f in fields(cls)}
        values = {}
        for option, value in options.items():
            name = renamed.get(option, option)
            if name in names:
                values[name] = value.value if isinstance(value, Enum) else value
        values["base_urls"] = tuple(values.get("base_urls") or ())
        return cls(**values)

    @property
    def parallel(self) -> int:
        """Documents in flight at once: in process, as many as are decoded together; on servers,
        4 per server by default."""
        if self.backend != "openai":
            return self.sequences or DEFAULT_PARALLEL
        return self.concurrency or 4 * max(1, len(self.base_urls))

    @property
    def in_flight(self) -> int:
        """Documents being worked on at once. In process, several times the answers decoded
        together: results come out in input order, so with exactly `parallel` in flight one long
        answer would hold back the next documents and leave the batch half empty meanwhile."""
        if self.backend == "openai" or self.parallel <= 1:  # one at a time: no engine to share
            return self.parallel
        return IN_FLIGHT_PER_SEQUENCE * self.parallel


def check_settings(settings: RunSettings) -> None:
    if settings.profile is not None and settings.profile not in PROFILES:
        raise UsageError(f"unknown profile {settings.profile!r}; choose from: {', '.join(PROFILES)}")
    if settings.method not in METHODS:
        raise UsageError(f"unknown method {settings.method!r}; choose from: {', '.join(METHODS)}")
    if settings.method == "qa4re" and settings.task != "rc":
        raise UsageError("--method qa4re is for --task rc")
    if settings.verbatim and not settings.grammar:
        raise UsageError("--verbatim needs the grammar; drop --no-grammar")
    check_numbers(settings)
    if settings.lora and not Path(settings.lora).is_file():
        raise UsageError(f"LoRA adapter not found: {settings.lora}")
    if settings.lora and settings.backend == "openai":
        raise UsageError("--lora is for the in-process backend; load the adapter in your server")
    if settings.backend != "openai" and (settings.base_urls or settings.concurrency):
        raise UsageError("--base-url and --concurrency are for --backend openai")
    if settings.backend != "openai" and settings.server_kind != "auto":
        raise UsageError("--server-kind is for --backend openai")
    if settings.backend == "openai" and not settings.base_urls:
        raise UsageError("--backend openai needs --base-url URL (one or more)")
    if settings.sequences and settings.backend == "openai":
        raise UsageError("--parallel is for the in-process backend; servers take --concurrency")


def check_numbers(settings: RunSettings) -> None:
    """Every number a user gives, checked before the model loads: llama.cpp aborts the process
    on some of them (a context of a few tokens) instead of reporting an error."""
    def within(value: float | None, low: float, high: float, option: str) -> None:
        if value is not None and not low <= value <= high:
            raise UsageError(f"{option} must be between {low} and {high}, not {value}")

    within(settings.ctx, MIN_CTX, MAX_CTX, "--ctx")
    within(settings.max_chunk_tokens, 16, settings.ctx // 2, "--max-chunk-tokens")
    within(settings.chunk_sentences, 0, 10_000, "--chunk-sentences")
    within(settings.chunk_overlap, 0, 100, "--chunk-overlap")
    within(settings.shots, 0, MAX_SHOTS, "--shots")
    within(settings.threads, 1, MAX_THREADS, "--threads")
    within(settings.n_gpu_layers, -1, 100_000, "--n-gpu-layers")
    within(settings.seed, 0, 2**32 - 1, "--seed")
    within(settings.sequences, 1, 64, "--parallel")
    within(settings.concurrency, 1, 1024, "--concurrency")
    within(settings.temperature, 0.0, 2.0, "--temperature")
    within(settings.min_score, 0.0, 1.0, "--min-score")
    within(settings.timeout, 0.001, 86_400.0, "--timeout")


# Settings that do not change what a run's records hold: how fast and where it runs.
NOT_IN_DIGEST = ("threads", "sequences", "concurrency", "base_urls", "api_key", "timeout")


def settings_digest(settings: RunSettings, model_path: str) -> str:
    """A fingerprint of what makes the records: the settings, and the files they name by content
    (demonstrations, a schema file) or by name and size (the model, an adapter)."""
    parts: dict = {k: v for k, v in asdict(settings).items() if k not in NOT_IN_DIGEST}
    parts["version"] = __version__
    for key in ("demos", "schema"):
        if parts[key] and Path(parts[key]).is_file():
            parts[key] = hashlib.sha256(Path(parts[key]).read_bytes()).hexdigest()
    for key, path in (("model", model_path), ("lora", settings.lora)):
        parts[key] = [Path(path).name, Path(path).stat().st_size] if path else None
    return digest(parts)



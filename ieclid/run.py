"""A whole extraction run: settings -> schema, demonstrations, model, profile -> records.

Everything the user can get wrong without a model (paths, schema, demonstrations) is
checked before the model loads, so mistakes fail in milliseconds with exit code 2.
"""

from __future__ import annotations

import hashlib
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from enum import Enum
from pathlib import Path
from typing import BinaryIO, TypeVar

from ieclid import __version__
from ieclid.backends.schedule import Schedule
from ieclid.chunking import DEFAULT_CHUNK_SENTENCES
from ieclid.datasets import read_annotated
from ieclid.demos import demo_labels, parse_label_map, select_demos, task_labels
from ieclid.documents import Document
from ieclid.errors import Terminated, UsageError
from ieclid.gguf_info import read_gguf
from ieclid.outputs import JsonlWriter
from ieclid.pipeline import ExtractOptions, Extractor, Plan
from ieclid.profiles import PROFILES, guess_profile, is_adelie_release, make_profile
from ieclid.resume import Resume, digest
from ieclid.schema import EventType, Schema, load_schema, schema_from_labels
from ieclid.tasks import SPAN_TASKS, Example, Request, check_task_schema

T = TypeVar("T")
R = TypeVar("R")
METHODS = ("direct", "qa4re")
# Answers decoded together in process: 8 beat 4 on 2 CPU cores (benchmarks/throughput.py).
DEFAULT_PARALLEL = 8
IN_FLIGHT_PER_SEQUENCE = 4
DEFAULT_SCHEMAS = {
    "ner": "conll2003", "rc": "semeval2010", "re": "general",
    "ed": "phee", "eae": "phee", "ee": "phee", "ere": "matres",
}
SCHEMALESS = ("openie", "table")  # open IE and on-demand tables take no label set
# ere on unmarked text detects events first; a schema of event relations alone (MATRES) names
# no event types, so any event is sought, as MATRES annotates them: the verbs of the text.
ANY_EVENT = EventType(
    "event", "something that happens, happened or will happen, named by its verb or noun "
    "(hit, began, evacuation)",
)
# Which (sub)tasks take demonstrations: ee's ed and eae steps; ere on unmarked text does ed first.
DEMO_STEPS = {"ee": ("ed", "eae"), "ere": ("ere", "ed")}


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


def resolve_schema(settings: RunSettings) -> Schema:
    if settings.labels and settings.schema:
        raise UsageError("give either --labels or --schema, not both")
    if settings.task in SCHEMALESS:
        if settings.labels or settings.schema:
            raise UsageError(f"--task {settings.task} takes no --labels or --schema")
        return Schema(settings.task)
    if settings.labels:
        kinds = {"rc": "relations", "re": "relations", "ere": "relations", "ed": "events", "ee": "events"}
        if settings.task == "eae":
            raise UsageError("--task eae needs a schema with event roles; --labels cannot give them")
        schema = schema_from_labels(settings.labels, kinds.get(settings.task, "entities"))
    else:
        schema = load_schema(settings.schema or DEFAULT_SCHEMAS[settings.task])
    if settings.task == "ere" and not schema.events:  # unmarked text: detect any event first
        schema = replace(schema, events=(ANY_EVENT,))
    check_task_schema(settings.task, schema, settings.event_type)
    return schema


def resolve_request(settings: RunSettings) -> Request:
    """Table's instruction and columns, eae's event type, checked."""
    if settings.task == "table":
        if not (settings.instruction or "").strip():
            raise UsageError('--task table needs --instruction "what to put in the table"')
        columns = tuple(c.strip() for c in (settings.columns or "").split(",") if c.strip())
        if any("|" in c for c in columns):
            raise UsageError("--columns names must not contain '|'")
        return Request(instruction=settings.instruction.strip(), columns=columns)
    if settings.instruction or settings.columns:
        raise UsageError("--instruction and --columns are for --task table")
    return Request(event_type=settings.event_type)


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
    if settings.backend == "openai" and not settings.base_urls:
        raise UsageError("--backend openai needs --base-url URL (one or more)")
    if settings.sequences and settings.backend == "openai":
        raise UsageError("--parallel is for the in-process backend; servers take --concurrency")


MIN_CTX = 512  # the instructions and label set of a prompt, a chunk, and room for its answer
MAX_CTX = 1 << 20
MAX_THREADS = 1024
MAX_SHOTS = 64


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
    within(settings.timeout, 0.001, 86_400.0, "--timeout")


def verbatim_spans(settings: RunSettings, profile_name: str, has_demos: bool) -> bool:
    """--verbatim or --free-spans as given; by default verbatim only where a general chat model
    (chat-json) labels spans (ner, eae, ee) without demonstrations. Nothing then shows it that
    mentions come from the text, and it copies the instruction's example. With demonstrations
    it copies their mentions instead, which free spans leave unplaced and verbatim ones force
    onto the text; open IE tuples and IE-aligned models lose under it too (the figures are in
    benchmarks/RESULTS.md)."""
    if settings.verbatim is not None:
        return settings.verbatim
    labels_spans = settings.task in (*SPAN_TASKS, "ee")
    return settings.grammar and profile_name == "chat-json" and labels_spans and not has_demos


def with_bundled_adapter(settings: RunSettings) -> RunSettings:
    """The settings with the adapter the model name brings (smollm2-ie, the default, brings
    ieclid's IE adapter); an explicit --lora replaces it, and servers load their own."""
    from ieclid.models import bundled_adapter

    if settings.lora or settings.backend == "openai":
        return settings
    return replace(settings, lora=bundled_adapter(settings.model))


def open_extractor(settings: RunSettings):
    """Check everything cheap first, then load the model; returns (extractor, backend)."""
    from ieclid.models import resolve_model

    check_settings(settings)
    settings = with_bundled_adapter(settings)
    schema = resolve_schema(settings)
    request = resolve_request(settings)
    demos = load_demos(settings, schema)
    model_path = resolve_model(settings.model)
    backend = open_backend(settings, model_path)
    metadata = dict(backend.metadata)
    if settings.lora:  # an adapter from `ieclid train export` names the profile it was trained for
        metadata.update(read_gguf(settings.lora).metadata)
    profile_name = settings.profile or guess_profile(metadata, model_path)
    tulu = is_adelie_release(backend.metadata, model_path)
    verbatim = verbatim_spans(settings, profile_name, has_demos=any(demos.values()))
    profile = make_profile(profile_name, backend.format_chat, verbatim, tulu=tulu)
    if settings.task not in getattr(profile, "tasks", (settings.task,)):
        backend.close()
        known = ", ".join(profile.tasks)
        raise UsageError(
            f"profile {profile_name} does not do --task {settings.task} (it knows {known}); "
            "use --profile adelie or chat-json"
        )
    if settings.method == "qa4re":
        from ieclid.profiles.qa4re import Qa4reProfile

        profile = Qa4reProfile(profile.render, profile_name)
    options = ExtractOptions(
        task=settings.task,
        schema=schema,
        demos=demos,
        max_chunk_tokens=settings.max_chunk_tokens,
        chunk_sentences=settings.chunk_sentences,
        chunk_overlap=settings.chunk_overlap,
        propagate=settings.propagate,
        temperature=settings.temperature,
        grammar=settings.grammar,
        request=request,
        digest=settings_digest(settings, model_path),
    )
    return Extractor(backend, profile, options), backend


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


def warn(message: str) -> None:
    print(f"ieclid: warning: {message}", file=sys.stderr)


def load_demos(
    settings: RunSettings, schema: Schema, notify: Callable[[str], None] = warn
) -> dict[str, list[Example]]:
    """Demonstrations per (sub)task from --demos, their tags mapped to the schema's labels.

    Tags that map to no label are named (their items are left out); a file none of whose tags
    map, or that gives no demonstration at all, is an error: the run would silently be zero-shot.
    """
    label_map = parse_label_map(settings.label_map)
    if not settings.demos:
        if label_map:
            raise UsageError("--label-map is for --demos")
        return {}
    if settings.task == "table":
        raise UsageError("--task table takes no --demos")
    annotated = read_annotated(settings.demos)
    demos = {}
    for step in DEMO_STEPS.get(settings.task, (settings.task,)):
        labels = demo_labels(annotated, step, schema, label_map)
        if labels.unknown and not labels.mapping:
            raise UsageError(
                f"{settings.demos}: its tags ({', '.join(labels.unknown[:8])}) match none of the labels "
                f"({', '.join(task_labels(step, schema)[0][:8])}); map them with --label-map TAG=label,..."
            )
        if labels.unknown:
            notify(
                f"{settings.demos}: no label for the tags {', '.join(labels.unknown)}; their items are "
                "left out of the demonstrations (--label-map TAG=label maps them)"
            )
        renamed = labels.renamed()
        if renamed and set(renamed) - set(label_map):
            notify("demonstration tags read as: " + ", ".join(f"{t}={n}" for t, n in renamed.items()))
        demos[step] = select_demos(annotated, step, schema, settings.shots, settings.seed, labels)
        if settings.shots and not demos[step]:
            raise UsageError(f"{settings.demos}: no usable demonstration for --task {step}")
        if len(demos[step]) < settings.shots:
            notify(f"{settings.demos}: {len(demos[step])} usable demonstrations for {step}, "
                   f"fewer than --shots {settings.shots}")
    return demos


def open_backend(settings: RunSettings, model_path: str):
    if settings.backend == "openai":
        from ieclid.backends.openai import OpenAIBackend

        return OpenAIBackend(
            model_path, list(settings.base_urls), api_key=settings.api_key, timeout=settings.timeout,
            seed=settings.seed,
        )
    from ieclid.backends.llama_cpp import LlamaCppBackend

    return LlamaCppBackend(
        model_path, n_gpu_layers=settings.n_gpu_layers, threads=settings.threads, ctx=settings.ctx,
        seed=settings.seed, lora=settings.lora, parallel=settings.parallel, cpu_copy=settings.cpu_copy,
        cache_type_k=settings.cache_type_k,
    )


def extract_each(
    extract: Callable[[T], R], documents: Iterable[T], in_flight: int = 1, schedule: Schedule | None = None
) -> Iterator[R]:
    """Results in input order; with `in_flight` > 1, that many inputs are worked on at once (their
    answers queued for the batch engine in process, or sent to servers), and inputs are read
    only as far ahead as that. Give the backend's `schedule` (in process) to make the batches,
    and so the results, the same on every run.

    On Ctrl-C or SIGTERM the work in flight is given up, not finished: the engine answers its
    requests with `Cancelled` at its next step, and inputs not started are dropped."""
    if in_flight <= 1:
        yield from map(extract, documents)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from ieclid.backends.batching import block_interrupts

    in_process = schedule is not None
    schedule = schedule or Schedule()

    def work(number: int, doc: T) -> R:
        with schedule.working(number):
            return extract(doc)

    pool = ThreadPoolExecutor(in_flight, initializer=block_interrupts)
    finished = False
    try:
        # The schedule is left first: workers still running must not wait for documents to come.
        with interrupts_noted() as noted, schedule.run(in_flight):
            pending: deque = deque()
            for doc in documents:
                pending.append(pool.submit(work, schedule.enter(), doc))
                if len(pending) >= in_flight:
                    yield _result(pending.popleft(), noted)
            schedule.end()
            while pending:
                yield _result(pending.popleft(), noted)
        finished = True
    finally:
        if not finished:  # interrupted, or the consumer stopped: give up what is in flight
            schedule.cancel()
        # In process the workers end within one engine step once cancelled, and must end before
        # the model is freed; a server's answers are not waited for.
        pool.shutdown(wait=finished or in_process, cancel_futures=True)


@contextmanager
def interrupts_noted() -> Iterator[threading.Event]:
    """Ctrl-C (and SIGTERM) set a flag as well as raising KeyboardInterrupt (`Terminated`). The
    exception is raised in the main thread wherever it happens to be running Python code, and
    there it can be swallowed: in a finalizer (`__del__` of a llama.cpp object the garbage
    collector frees) or a ctypes callback, Python prints and drops it, and the run would go on
    to the end. The flag survives."""
    noted = Noted()
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield noted  # only the main thread may set handlers; an ignored Ctrl-C stays ignored
        return

    def note(signum, frame):
        noted.terminated = signum == signal.SIGTERM
        noted.set()
        noted.raise_it()

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, note)
    signal.signal(signal.SIGTERM, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous)


class Noted(threading.Event):
    """Set when an interrupt arrived; `terminated` when it was SIGTERM."""

    terminated = False

    def raise_it(self) -> None:
        raise Terminated if self.terminated else KeyboardInterrupt


def _result(future, noted: Noted):
    """Wait in short slices: a Ctrl-C that the kernel gave another thread is only acted on when
    the main thread runs Python code, which a wait without a timeout would not let it do."""
    from concurrent.futures import TimeoutError as Pending

    while not noted.is_set():
        try:
            return future.result(timeout=0.1)
        except Pending:
            continue
    noted.raise_it()


def extract_records(
    extractor: Extractor, documents: Iterable[Document], in_flight: int = 1
) -> Iterator[dict]:
    """Records in input order. With `in_flight` > 1, the parts of documents (their chunks) are
    what is worked on at once, so a long document's chunks are decoded together as short
    documents are; a record is made when its document's last part is done."""
    stamp = {"settings": extractor.options.digest} if extractor.options.digest else {}
    if in_flight <= 1:
        for doc in documents:
            yield {**extractor.extract(doc), **stamp}
        return

    def work(part: tuple[Plan, int]) -> tuple[Plan, int, tuple]:
        plan, number = part
        return plan, number, plan.run(number)

    parts = ((plan, number) for plan in map(extractor.plan, documents) for number in range(len(plan.parts)))
    runs: list = []
    for plan, number, run in extract_each(work, parts, in_flight, extractor.backend.schedule):
        runs.append(run)
        if number == len(plan.parts) - 1:
            yield {**plan.record(runs), **stamp}
            runs = []


def extract_to(
    extractor: Extractor,
    documents: Iterable[Document],
    output: str | None,
    *,
    resume: bool = False,
    overwrite: bool = True,
    inputs: Iterable[str] = (),
    stdout: BinaryIO | None = None,
    on_record: Callable[[dict], None] | None = None,
    in_flight: int = 1,
) -> tuple[int, int]:
    """Write one record per document to `output` (a file; None or - for `stdout`); returns how
    many documents failed and how many records were written. With `resume`, documents whose
    records `output` (or what killed runs left beside it) holds are not extracted again: their
    records are written in their place, and on an interrupt all of them not written yet are."""
    done = Resume(output, extractor.options.digest) if resume else None  # before a new file is made
    if done is not None:
        print(f"ieclid: resuming: {len(done)} documents done in {output}", file=sys.stderr)
    writer = JsonlWriter(output, overwrite=overwrite, inputs=inputs, stdout=stdout)
    failed = 0
    try:
        if done is None:
            records = extract_records(extractor, documents, in_flight)
        else:
            records = done.merged(extract_records(extractor, done.pending(documents), in_flight))
        try:
            for record in records:
                writer.write(record)
                if "error" in record:
                    failed += 1
                    print(f"ieclid: error: {record['error']}", file=sys.stderr)
                if on_record:
                    on_record(record)
        finally:
            for record in done.rest() if done else ():
                writer.write(record)
    finally:
        writer.close()
        if done is not None:  # once the file holds what the leftovers held
            done.clean_up()
    return failed, writer.count

"""A run's parts from its settings: schema, request, demonstrations, model and profile, put
together as an `Extractor`. Cheap checks come first; the model loads last."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace

from ieclid.datasets import read_annotated
from ieclid.demos import demo_labels, parse_label_map, select_demos, task_labels
from ieclid.errors import UsageError
from ieclid.gguf_info import read_gguf
from ieclid.pipeline import ExtractOptions, Extractor
from ieclid.profiles import guess_profile, is_adelie_release, make_profile
from ieclid.schema import EventType, Schema, load_schema, schema_from_labels
from ieclid.settings import RunSettings, check_settings, settings_digest
from ieclid.tasks import TASKS, Example, Request, check_task_schema

# ere on unmarked text detects events first; a schema of event relations alone (MATRES) names
# no event types, so any event is sought, as MATRES annotates them: the verbs of the text.
ANY_EVENT = EventType(
    "event", "something that happens, happened or will happen, named by its verb or noun "
    "(hit, began, evacuation)",
)


def resolve_schema(settings: RunSettings) -> Schema:
    if settings.labels and settings.schema:
        raise UsageError("give either --labels or --schema, not both")
    spec = TASKS[settings.task]
    if spec.default_schema is None:
        if settings.labels or settings.schema:
            raise UsageError(f"--task {settings.task} takes no --labels or --schema")
        return Schema(settings.task)
    if settings.labels:
        if spec.labels_kind is None:
            raise UsageError(f"--task {spec.name} needs a schema with event roles; --labels cannot give them")
        schema = schema_from_labels(settings.labels, spec.labels_kind)
    else:
        schema = load_schema(settings.schema or spec.default_schema)
    if settings.task == "ere" and not schema.events:  # unmarked text: detect any event first
        schema = replace(schema, events=(ANY_EVENT,))
    check_task_schema(settings.task, schema, settings.event_type)
    return schema


def resolve_request(settings: RunSettings) -> Request:
    """Table's instruction and columns, eae's event type, checked."""
    if settings.task == "table":
        instruction = (settings.instruction or "").strip()
        if not instruction:
            raise UsageError('--task table needs --instruction "what to put in the table"')
        columns = tuple(c.strip() for c in (settings.columns or "").split(",") if c.strip())
        if any("|" in c for c in columns):
            raise UsageError("--columns names must not contain '|'")
        return Request(instruction=instruction, columns=columns)
    if settings.instruction or settings.columns:
        raise UsageError("--instruction and --columns are for --task table")
    return Request(event_type=settings.event_type)


def verbatim_spans(settings: RunSettings, profile_name: str, has_demos: bool) -> bool:
    """--verbatim or --free-spans as given; by default verbatim only where a general chat model
    (chat-json) labels spans (ner, eae, ee) without demonstrations. Nothing then shows it that
    mentions come from the text: it copied the example an earlier instruction gave, and now
    that none does it scores about the same either way (docs/performance.md). With demonstrations
    it copies their mentions instead, which free spans leave unplaced and verbatim ones force
    onto the text; open IE tuples and IE-aligned models lose under it too (the figures are in
    benchmarks/RESULTS.md)."""
    if settings.verbatim is not None:
        return settings.verbatim
    labels_spans = TASKS[settings.task].labels_spans
    return settings.grammar and profile_name == "chat-json" and labels_spans and not has_demos


def with_bundled_adapter(settings: RunSettings) -> RunSettings:
    """The settings with the adapter the model name brings (smollm2-ie, the default, brings
    ieclid's IE adapter); an explicit --lora replaces it, and servers load their own."""
    from ieclid.models import bundled_adapter

    if settings.lora or settings.backend == "openai":
        return settings
    return replace(settings, lora=bundled_adapter(settings.model))


def check_run(settings: RunSettings, say: Callable[[str], None] | None = None):
    """Everything a run needs that is cheap to check, before a model loads: the settings (with
    the default model's adapter), schema, request, demonstrations and model file, and the
    digest its records will carry."""
    from ieclid.backends.gguf_text import check_gguf
    from ieclid.models import resolve_model

    check_settings(settings)
    settings = with_bundled_adapter(settings)
    schema = resolve_schema(settings)
    request = resolve_request(settings)
    if settings.demos and say:
        say("reading demonstrations")
    demos = load_demos(settings, schema)
    model_path = resolve_model(settings.model)
    check_gguf(model_path)  # the digest names the file by its size
    return settings, schema, request, demos, model_path, settings_digest(settings, model_path)


def open_extractor(settings: RunSettings, say: Callable[[str], None] | None = None):
    """Check everything cheap first, then load the model; returns (extractor, backend). `say`
    hears what is being done (reading demonstrations, loading the model, making its CPU copy),
    for a progress display."""
    say = say or (lambda _stage: None)
    settings, schema, request, demos, model_path, digest = check_run(settings, say)
    say("loading the model")
    backend = open_backend(settings, model_path, say)
    metadata = dict(backend.metadata)
    if settings.lora:  # an adapter from `ieclid train export` names the profile it was trained for
        metadata.update(read_gguf(settings.lora).metadata)
    profile_name = settings.profile or guess_profile(metadata, model_path)
    tulu = is_adelie_release(backend.metadata, model_path)
    verbatim = verbatim_spans(settings, profile_name, has_demos=any(demos.values()))
    profile = make_profile(profile_name, backend.format_chat, verbatim, tulu=tulu)
    if settings.task not in profile.tasks:
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
        min_score=settings.min_score,
        temperature=settings.temperature,
        grammar=settings.grammar,
        request=request,
        digest=digest,
    )
    return Extractor(backend, profile, options), backend


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
    for step in TASKS[settings.task].steps:
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


def open_backend(settings: RunSettings, model_path: str, say: Callable[[str], None] | None = None):
    if settings.backend == "openai":
        from ieclid.backends.openai import OpenAIBackend

        return OpenAIBackend(
            model_path, list(settings.base_urls), api_key=settings.api_key, timeout=settings.timeout,
            seed=settings.seed, kind=settings.server_kind, notify=warn,
        )
    from ieclid.backends.in_process import LlamaCppBackend

    return LlamaCppBackend(
        model_path, n_gpu_layers=settings.n_gpu_layers, threads=settings.threads, ctx=settings.ctx,
        seed=settings.seed, lora=settings.lora, parallel=settings.parallel, cpu_copy=settings.cpu_copy,
        cache_type_k=settings.cache_type_k, say=say,
    )

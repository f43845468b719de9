"""`ieclid extract`: files, directories or stdin in; one JSON record per document out."""

from __future__ import annotations

import sys

import typer

from ieclid.cli.app import app
from ieclid.cli.options import (
    API_KEY,
    BACKEND,
    BASE_URL,
    CACHE_TYPE_K,
    CHUNK_OVERLAP,
    CHUNK_SENTENCES,
    COLUMNS,
    CONCURRENCY,
    CPU_COPY,
    CTX,
    DEMOS,
    EVENT_TYPE,
    GRAMMAR,
    INSTRUCTION,
    LABEL_MAP,
    LABELS,
    LORA,
    MAX_CHUNK_TOKENS,
    METHOD,
    MODEL,
    N_GPU_LAYERS,
    PARALLEL,
    PROFILE,
    PROPAGATE,
    QUIET,
    SCHEMA,
    SEED,
    SHOTS,
    TASK,
    TEMPERATURE,
    THREADS,
    TIMEOUT,
    VERBATIM,
    BackendName,
    CacheTypeK,
    Method,
    ProfileName,
    Task,
    progress,
)


@app.command(no_args_is_help=True)
def extract(
    inputs: list[str] = typer.Argument(
        ..., metavar="INPUTS...",
        help="Text files, directories (searched recursively), or - for standard input."
    ),
    task: Task = TASK,
    labels: str = LABELS,
    schema: str = SCHEMA,
    model: str = MODEL,
    lora: str = LORA,
    profile: ProfileName = PROFILE,
    method: Method = METHOD,
    instruction: str = INSTRUCTION,
    columns: str = COLUMNS,
    event_type: str = EVENT_TYPE,
    demos: str = DEMOS,
    label_map: str = LABEL_MAP,
    shots: int = SHOTS,
    output: str = typer.Option(None, "--output", "-o", help="Write records to this file instead of stdout."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --output file if it exists."),
    resume: bool = typer.Option(
        False, "--resume",
        help="Continue a run into --output that was stopped or killed: documents whose records it "
        "holds (same id, text and settings) are not extracted again; the file ends as a clean run's.",
    ),
    glob: str = typer.Option("*.txt", "--glob", help="Which files to take from directories."),
    lines: bool = typer.Option(False, "--lines", help="Every non-empty line is a document (id path:N)."),
    max_chunk_tokens: int = MAX_CHUNK_TOKENS,
    chunk_sentences: int = CHUNK_SENTENCES,
    propagate: bool = PROPAGATE,
    chunk_overlap: int = CHUNK_OVERLAP,
    n_gpu_layers: int = N_GPU_LAYERS,
    cpu_copy: bool = CPU_COPY,
    cache_type_k: CacheTypeK = CACHE_TYPE_K,
    threads: int = THREADS,
    ctx: int = CTX,
    seed: int = SEED,
    temperature: float = TEMPERATURE,
    grammar: bool = GRAMMAR,
    verbatim: bool | None = VERBATIM,
    quiet: bool = QUIET,
    backend_name: BackendName = BACKEND,
    base_url: list[str] = BASE_URL,
    parallel: int = PARALLEL,
    concurrency: int = CONCURRENCY,
    api_key: str = API_KEY,
    timeout: float = TIMEOUT,
) -> int:
    """Extract entities, relations, events, open tuples or a table; one JSON object per document."""
    from ieclid.documents import read_documents, resolve_inputs
    from ieclid.errors import UsageError
    from ieclid.outputs import check_output, records_stdout
    from ieclid.run import RunSettings, extract_to, open_extractor

    settings = RunSettings.from_options(locals())
    paths = resolve_inputs(inputs, glob)
    if not paths:
        raise UsageError(f"no files matching {glob!r} in the given directories")
    if resume and output in (None, "-"):
        raise UsageError("--resume needs --output FILE")
    if resume and overwrite:
        raise UsageError("give --resume or --overwrite, not both")
    check_output(output, overwrite=overwrite or resume, inputs=paths)  # before the model loads
    with records_stdout() as stdout:
        extractor, backend = open_extractor(settings)
        try:
            with progress(None if lines else len(paths), quiet, "extracting") as advance:
                failed, written = extract_to(
                    extractor, read_documents(paths, lines=lines), output, resume=resume,
                    overwrite=overwrite or resume, inputs=paths, stdout=stdout, on_record=advance,
                    in_flight=settings.in_flight,
                )
        finally:
            backend.close()
    if failed:
        if written > 1:  # a single document's error line says it all
            print(f"ieclid: {failed} of {written} documents failed", file=sys.stderr)
        return 1
    return 0


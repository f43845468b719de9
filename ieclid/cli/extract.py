"""`ieclid extract`: files, directories or stdin in; one JSON record per document out."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from ieclid.cli import app


class Task(StrEnum):
    ner = "ner"
    rc = "rc"
    re = "re"


class ProfileName(StrEnum):
    adelie = "adelie"
    chat_json = "chat-json"


def _schema_names() -> list[str]:
    from ieclid.schema import builtin_schemas

    return list(builtin_schemas())


@app.command(no_args_is_help=True)
def extract(
    inputs: list[str] = typer.Argument(
        ..., metavar="INPUTS...",
        help="Text files, directories (searched recursively), or - for standard input."
    ),
    task: Task = typer.Option(
        Task.ner, "--task", "-t",
        help="ner: entities; rc: relation between <e1>..</e1> and <e2>..</e2>; re: triples.",
    ),
    labels: str = typer.Option(None, "--labels", "-l", help="Comma-separated labels, e.g. person,location."),
    schema: str = typer.Option(
        None, "--schema", "-s", autocompletion=lambda: _schema_names(),
        help="A built-in schema (conll2003, wnut17, crossner_politics, semeval2010, ...) or a YAML file.",
    ),
    model: str = typer.Option(
        None, "--model", "-m", envvar="IECLID_MODEL",
        help="A GGUF file; default: the embedded SmolLM2-135M-Instruct.",
    ),
    profile: ProfileName = typer.Option(
        None, "--profile", help="Prompt format; default: chosen from the model's metadata."
    ),
    demos: str = typer.Option(
        None, "--demos", help="Few-shot examples: ieclid records (JSONL), CoNLL BIO or SemEval-2010 file."
    ),
    shots: int = typer.Option(4, "--shots", "-k", help="How many demonstrations to use from --demos."),
    output: str = typer.Option(None, "--output", "-o", help="Write records to this file instead of stdout."),
    glob: str = typer.Option("*.txt", "--glob", help="Which files to take from directories."),
    lines: bool = typer.Option(False, "--lines", help="Every non-empty line is a document (id path:N)."),
    max_chunk_tokens: int = typer.Option(
        256, "--max-chunk-tokens", help="Longer documents are cut into sentence-aligned chunks of this size."
    ),
    chunk_overlap: int = typer.Option(0, "--chunk-overlap", help="Sentences repeated between chunks."),
    n_gpu_layers: int = typer.Option(
        None, "--n-gpu-layers", help="Layers to offload; default: all when llama.cpp has GPU support, else 0."
    ),
    threads: int = typer.Option(None, "--threads", help="CPU threads; default: all cores."),
    ctx: int = typer.Option(4096, "--ctx", help="Context size in tokens."),
    seed: int = typer.Option(0, "--seed", help="Seed for sampling and demonstration choice."),
    temperature: float = typer.Option(0.0, "--temperature", help="0 decodes greedily."),
    grammar: bool = typer.Option(
        True, "--grammar/--no-grammar", help="Constrain answers with a grammar built from the schema."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> int:
    """Extract entities or relations and print one JSON object per document (JSON Lines)."""
    from ieclid.documents import read_documents, resolve_inputs
    from ieclid.outputs import JsonlWriter
    from ieclid.run import RunSettings, extract_all, open_extractor

    settings = RunSettings(
        task=task.value, labels=labels, schema=schema, model=model,
        profile=profile.value if profile else None, demos=demos, shots=shots,
        max_chunk_tokens=max_chunk_tokens, chunk_overlap=chunk_overlap,
        n_gpu_layers=n_gpu_layers, threads=threads, ctx=ctx, seed=seed,
        temperature=temperature, grammar=grammar,
    )
    paths = resolve_inputs(inputs, glob)
    if not paths:
        from ieclid.errors import UsageError

        raise UsageError(f"no files matching {glob!r} in the given directories")
    extractor, backend = open_extractor(settings)
    writer = JsonlWriter(output)
    documents = read_documents(paths, lines=lines)
    try:
        if quiet or not sys.stderr.isatty():
            failed = extract_all(extractor, documents, writer)
        else:
            failed = _with_progress(extractor, documents, writer, None if lines else len(paths))
    finally:
        writer.close()
        backend.close()
    if failed:
        print(f"ieclid: {failed} of {writer.count} documents failed", file=sys.stderr)
        return 1
    return 0


def _with_progress(extractor, documents, writer, total: int | None) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ieclid.run import extract_all

    columns = [TextColumn("extracting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        bar = progress.add_task("extract", total=total)
        return extract_all(extractor, documents, writer, lambda _: progress.advance(bar))

"""`ieclid extract`: files, directories or stdin in; one JSON record per document out."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any

import typer

from ieclid.cli.app import app
from ieclid.cli.options import EVENT_TYPE, RUN_OPTIONS, with_options
from ieclid.cli.progress import progress, shown, stages
from ieclid.record_text import FORMATS

Layout = StrEnum("Layout", {name: name for name in ("auto", *FORMATS)})  # type: ignore[misc]


class Engine(StrEnum):
    local = "local"
    ray = "ray"


@app.command(no_args_is_help=True)
@with_options(RUN_OPTIONS)
def extract(
    inputs: list[str] = typer.Argument(
        ..., metavar="INPUTS...",
        help="Files (text, Markdown, HTML, PDF, Word), directories (searched recursively), or - for "
        "standard input."
    ),
    output: str = typer.Option(None, "--output", "-o", help="Write records to this file instead of stdout."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --output file if it exists."),
    resume: bool = typer.Option(
        False, "--resume",
        help="Continue a run into --output that was stopped or killed: documents whose records it "
        "holds (same id, text and settings) are not extracted again; the file ends as a clean run's.",
    ),
    glob: str = typer.Option(
        None, "--glob",
        help="Which files to take from directories, e.g. '*.pdf'; default: every kind ieclid reads "
        "(.txt, .md, .html/.htm, .pdf, .docx).",
    ),
    lines: bool = typer.Option(False, "--lines", help="Every non-empty line is a document (id path:N)."),
    layout: Layout = typer.Option(
        "auto", "--format",
        help="jsonl: one JSON object per document; pretty: the document's id, then a line per item "
        "(label, text, offsets, score); tsv: a row per item. auto: pretty on a terminal, else jsonl.",
    ),
    engine: Engine = typer.Option(
        Engine.local, "--engine",
        help="local: this process holds the model. ray: a pool of Ray actors, each holding one, "
        "reads and extracts the documents (pip install 'ieclid[ray]'; docs/models.md).",
    ),
    ray_address: str = typer.Option(
        None, "--ray-address", help="--engine ray: the cluster (default: RAY_ADDRESS, or a Ray started here)."
    ),
    actors: int = typer.Option(
        None, "--actors",
        help="--engine ray: models at work at once (default: one per GPU, or per CPU at --threads each).",
    ),
    event_type: str = EVENT_TYPE,
    **options: Any,
) -> int:
    """Extract entities, relations, events, open tuples or a table; one JSON object per document."""
    from functools import partial

    from ieclid.assembly import open_extractor
    from ieclid.documents import count_documents, read_documents, resolve_inputs
    from ieclid.errors import UsageError
    from ieclid.outputs import check_output, records_stdout
    from ieclid.run import extract_records, extract_to, resume_target
    from ieclid.settings import RunSettings

    if engine is not Engine.ray and (ray_address or actors):
        raise UsageError("--ray-address and --actors are for --engine ray")

    settings = RunSettings.from_options({**options, "event_type": event_type})
    paths = resolve_inputs(inputs, glob)
    if not paths:
        wanted = repr(glob) if glob else "a kind ieclid reads (.txt, .md, .html, .pdf, .docx)"
        raise UsageError(f"no files matching {wanted} in the given directories")
    to_terminal = output in (None, "-") and sys.stdout.isatty()
    chosen = ("pretty" if to_terminal else "jsonl") if layout.value == "auto" else layout.value
    if resume:
        resume_target(output, chosen)  # before the model loads
    if resume and overwrite:
        raise UsageError("give --resume or --overwrite, not both")
    check_output(output, overwrite=overwrite or resume, inputs=paths)  # before the model loads
    quiet = options["quiet"]
    with records_stdout() as stdout:
        with stages(quiet) as say:
            if engine is Engine.ray:
                from ieclid.run_ray import open_ray

                # a resumed run reads its documents here, to give the actors only those not done
                source = open_ray(settings, paths, lines, ray_address, actors, say, read_here=resume)
            else:
                extractor, source = open_extractor(settings, say)
        try:
            # Counting --lines reads the files once more: only for a bar that is shown.
            total = count_documents(paths, lines) if shown(quiet) else None
            with progress(total, quiet, "extracting") as tracker:
                if engine is Engine.ray:
                    records_of, digest = source.records, source.digest
                else:
                    records_of = partial(extract_records, extractor, in_flight=settings.in_flight,
                                         on_part=tracker.part)
                    digest = extractor.options.digest or ""
                failed, written = extract_to(
                    records_of, digest, read_documents(paths, lines=lines), output, resume=resume,
                    overwrite=overwrite or resume, inputs=paths, stdout=stdout, on_record=tracker,
                    layout=chosen,
                )
        finally:
            source.close()
    if shown(quiet):
        print(tracker.summary(), file=sys.stderr)
    if failed:
        if written > 1:  # a single document's error line says it all
            print(f"ieclid: {failed} of {written} documents failed", file=sys.stderr)
        return 1
    return 0

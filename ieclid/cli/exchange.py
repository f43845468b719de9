"""`ieclid export` and `ieclid import`: records to and from annotation tools."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from ieclid.cli.app import app
from ieclid.exchange import EXPORTS, IMPORTS

ExportFormat = StrEnum("ExportFormat", {name: name for name in EXPORTS})  # type: ignore[misc]
ImportFormat = StrEnum("ImportFormat", {name: name for name in IMPORTS})  # type: ignore[misc]


@app.command("export", no_args_is_help=True)
def export(
    records: str = typer.Argument(..., help="ieclid records (JSONL), e.g. the output of extract or review."),
    to: ExportFormat = typer.Option(
        ..., "--to", help="doccano JSONL, Label Studio tasks, brat standoff, CoNLL BIO."
    ),
    output: str = typer.Option(
        None, "--output", "-o", help="The file to write (brat: a directory); default: standard output."
    ),
) -> int:
    """Write records for an annotation tool (rejected items are left out)."""
    from ieclid.exchange.files import export_records
    from ieclid.outputs import read_records

    skipped = export_records(to.value, read_records(records), output)
    if skipped:
        print(f"ieclid: {skipped} items that {to.value} cannot hold were left out "
              "(unplaced spans, events or relations where the format has none)", file=sys.stderr)
    return 0


@app.command("import", no_args_is_help=True)
def import_(
    source: str = typer.Argument(
        ..., help="A doccano JSONL file, a Label Studio JSON export, or a brat folder."
    ),
    from_: ImportFormat = typer.Option(..., "--from", help="The tool the file comes from."),
    output: str = typer.Option(None, "--output", "-o", help="Write records here; default: standard output."),
) -> int:
    """Read annotations from doccano, Label Studio or brat as ieclid records (JSONL)."""
    from ieclid.exchange.files import import_records
    from ieclid.outputs import JsonlWriter

    writer = JsonlWriter(output)
    try:
        for record in import_records(from_.value, source):
            writer.write(record)
    finally:
        writer.close()
    return 0

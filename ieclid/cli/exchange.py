"""`ieclid export` and `ieclid import`: records to and from annotation tools."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from ieclid.cli.app import app
from ieclid.exchange import EXPORTS, IMPORTS
from ieclid.exchange.doccano import LAYOUTS

ExportFormat = StrEnum("ExportFormat", {name: name for name in EXPORTS})  # type: ignore[misc]
DoccanoLayout = StrEnum("DoccanoLayout", {name: name for name in LAYOUTS})  # type: ignore[misc]
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
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --output file if it exists."),
    user: str = typer.Option(
        None, "--user",
        help="labelstudio: the Label Studio user (email or id) reviewed annotations are credited to; "
        "default: the user who imports them.",
    ),
    config: bool = typer.Option(
        False, "--config", help="labelstudio: print the project's labelling config (XML) instead of tasks."
    ),
    doccano_layout: DoccanoLayout = typer.Option(
        "relation", "--doccano-layout",
        help="doccano: relation (entities and relations) or sequence (label: [[start, end, label]]).",
    ),
) -> int:
    """Write records for an annotation tool (rejected items are left out)."""
    from ieclid.errors import UsageError
    from ieclid.exchange import labelstudio
    from ieclid.exchange.files import export_records
    from ieclid.outputs import check_output, read_records

    if config and to.value != "labelstudio":
        raise UsageError("--config is for --to labelstudio")
    if to.value != "brat":
        check_output(output, overwrite=overwrite, inputs=[records])
    if config:
        xml = labelstudio.labeling_config(read_records(records))
        if output:
            Path(output).write_text(xml, encoding="utf-8")
        else:
            print(xml, end="")
        return 0
    skipped = export_records(to.value, read_records(records), output, user=user,
                             doccano_layout=doccano_layout.value)
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

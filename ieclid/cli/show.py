"""`ieclid show`: records as an HTML page to read them by."""

from __future__ import annotations

import typer

from ieclid.cli.app import app


@app.command(no_args_is_help=True)
def show(
    records: str = typer.Argument(..., help="ieclid records (JSONL): the output of extract or review."),
    output: str = typer.Option(
        None, "--output", "-o", help="The HTML file to write; default: the records file's name with .html."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the output file if it exists."),
    open_: bool = typer.Option(False, "--open", help="Open the page in the web browser."),
) -> int:
    """Write one self-contained HTML page: spans highlighted per label, relations, events,
    tuples and tables, scores and review state on hover (nothing is fetched from the network)."""
    import sys

    from ieclid.html_view import write_view

    page = write_view(records, output, overwrite=overwrite)
    print(f"ieclid: wrote {page}", file=sys.stderr)
    if open_:
        import webbrowser

        if not webbrowser.open(page.resolve().as_uri()):
            print("ieclid: no web browser to open it with; open the file yourself", file=sys.stderr)
    return 0

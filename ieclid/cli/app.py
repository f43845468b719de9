"""The typer application that every command registers itself on."""

from __future__ import annotations

import typer

from ieclid import __version__

# Plain click help: typer's rich help imports rich's markdown stack (~80 ms) on every
# `--help`, and help must stay instant.
typer.core.HAS_RICH = False

app = typer.Typer(
    name="ieclid",
    help="Information extraction from text files with a local LLM: grounded JSON Lines out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"ieclid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Information extraction from text files with a local LLM: grounded JSON Lines out."""

"""`ieclid review`: go through extractions in a terminal UI; every decision is saved at once."""

from __future__ import annotations

from pathlib import Path

import typer

from ieclid.cli.app import app


@app.command("review", no_args_is_help=True)
def review(
    results: Path = typer.Argument(..., help="ieclid records (JSONL) to review."),
    out: Path = typer.Option(
        None, "--out", "-o",
        help="The reviewed file (default: RESULTS.reviewed.jsonl); reopening it resumes the review.",
    ),
    user: str = typer.Option(None, "--user", help="Who reviews (default: login name)."),
) -> int:
    """Accept, reject, edit and add extractions with the keyboard (press ? for the keys)."""
    from ieclid.review.app import ReviewApp
    from ieclid.review.session import Session

    session = Session(results, out, user)
    ReviewApp(session).run()
    done, total = session.progress()
    print(f"{done} of {total} documents done; saved to {session.out}")
    return 0

"""What a person sees on stderr while a run goes on: the stage (loading the model), a bar that
moves as chunks and documents finish, with an estimate of the time left, and a one-line
summary at the end. Nothing when stderr is not a terminal or with --quiet; never on stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ieclid.record_text import items


class Tracker:
    """Counts what a run made; moves the bar, if there is one, per record and per chunk."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self.bar, self.task = bar, task
        self.documents = self.items = self.errors = self.chunks = 0
        self.started = time.perf_counter()

    def __call__(self, record: dict) -> None:
        self.documents += 1
        self.items += items(record)
        self.errors += 1 if record.get("error") else 0
        if self.bar is not None:
            self.bar.update(self.task, advance=1)

    def part(self) -> None:
        """A chunk (a part of a document) is done."""
        self.chunks += 1
        if self.bar is not None:
            self.bar.update(self.task, chunks=self.chunks)

    def summary(self) -> str:
        seconds = time.perf_counter() - self.started
        failed = f", {self.errors} failed" if self.errors else ""
        return (f"ieclid: {self.documents} document{'s' * (self.documents != 1)}, {self.items} "
                f"item{'s' * (self.items != 1)}{failed}, {seconds:.1f} s")


def shown(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress(total: int | None, quiet: bool, what: str) -> Iterator[Tracker]:
    """A Tracker; on a terminal, with a bar on stderr (documents, chunks, elapsed, time left)."""
    if not shown(quiet):
        yield Tracker()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn(what), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[chunks]} chunks"), TimeElapsedColumn(), TextColumn("left"),
               TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield Tracker(bar, bar.add_task(what, total=total, chunks=0))


@contextmanager
def stages(quiet: bool) -> Iterator[Callable[[str], None]]:
    """A spinner naming what is being done before the run (reading demonstrations, loading the
    model, making its CPU copy); the function yielded names the next stage."""
    if not shown(quiet):
        yield lambda _text: None
        return
    from rich.console import Console

    with Console(stderr=True).status("starting") as status:
        yield status.update

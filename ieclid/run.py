"""A run's loop: documents in, records out in input order, several in flight at once, written
to a file or stdout, resumable, and stopped cleanly by Ctrl-C or SIGTERM."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TypeVar

from ieclid.backends.schedule import Schedule
from ieclid.documents import Document
from ieclid.errors import UsageError
from ieclid.interrupts import block_interrupts, interrupts_noted, result_or_interrupt
from ieclid.outputs import JsonlWriter
from ieclid.pipeline import Extractor, Plan
from ieclid.resume import Resume

T = TypeVar("T")
R = TypeVar("R")
# Where records come from: documents in, their records out in input order (extract_records
# here, or a pool of Ray actors: run_ray.py).
RecordSource = Callable[[Iterable[Document]], Iterator[dict]]


def extract_each(
    extract: Callable[[T], R], documents: Iterable[T], in_flight: int = 1, schedule: Schedule | None = None
) -> Iterator[R]:
    """Results in input order; with `in_flight` > 1, that many inputs are worked on at once (their
    answers queued for the batch engine in process, or sent to servers), and inputs are read
    only as far ahead as that. Give the backend's `schedule` (in process) to make the batches,
    and so the results, the same on every run.

    On Ctrl-C or SIGTERM the work in flight is given up, not finished: the engine answers its
    requests with `Cancelled` at its next step, and inputs not started are dropped."""
    if in_flight <= 1:
        yield from map(extract, documents)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    in_process = schedule is not None
    schedule = schedule or Schedule()

    def work(number: int, doc: T) -> R:
        with schedule.working(number):
            return extract(doc)

    pool = ThreadPoolExecutor(in_flight, initializer=block_interrupts)
    finished = False
    try:
        # The schedule is left first: workers still running must not wait for documents to come.
        with interrupts_noted() as noted, schedule.run(in_flight):
            pending: deque = deque()
            for doc in documents:
                pending.append(pool.submit(work, schedule.enter(), doc))
                if len(pending) >= in_flight:
                    yield result_or_interrupt(pending.popleft(), noted)
            schedule.end()
            while pending:
                yield result_or_interrupt(pending.popleft(), noted)
        finished = True
    finally:
        if not finished:  # interrupted, or the consumer stopped: give up what is in flight
            schedule.cancel()
        # In process the workers end within one engine step once cancelled, and must end before
        # the model is freed; a server's answers are not waited for.
        pool.shutdown(wait=finished or in_process, cancel_futures=True)


def extract_records(
    extractor: Extractor, documents: Iterable[Document], in_flight: int = 1,
    on_part: Callable[[], None] | None = None,
) -> Iterator[dict]:
    """Records in input order. With `in_flight` > 1, the parts of documents (their chunks) are
    what is worked on at once, so a long document's chunks are decoded together as short
    documents are; a record is made when its document's last part is done. `on_part` is
    called as each part is taken in (in input order), for a progress display."""
    stamp = {"settings": extractor.options.digest} if extractor.options.digest else {}
    if in_flight <= 1:
        for doc in documents:
            yield {**extractor.extract(doc), **stamp}
        return

    def work(part: tuple[Plan, int]) -> tuple[Plan, int, tuple]:
        plan, number = part
        return plan, number, plan.run(number)

    parts = ((plan, number) for plan in map(extractor.plan, documents) for number in range(len(plan.parts)))
    runs: list = []
    for plan, number, run in extract_each(work, parts, in_flight, extractor.backend.schedule):
        runs.append(run)
        if on_part:
            on_part()
        if number == len(plan.parts) - 1:
            yield {**plan.record(runs), **stamp}
            runs = []


def resume_target(output: str | None, layout: str = "jsonl") -> str:
    """The file a resumed run continues: there must be one, and of JSON Lines (the other
    layouts cannot be read back)."""
    if output is None or output == "-":
        raise UsageError("--resume needs --output FILE")
    if layout != "jsonl":
        raise UsageError("--resume continues a JSON Lines output; give --format jsonl")
    return output


def extract_to(
    records_of: RecordSource,
    digest: str,
    documents: Iterable[Document],
    output: str | None,
    *,
    resume: bool = False,
    overwrite: bool = True,
    inputs: Iterable[str] = (),
    stdout: BinaryIO | None = None,
    on_record: Callable[[dict], None] | None = None,
    layout: str = "jsonl",
) -> tuple[int, int]:
    """Write one record per document, made by `records_of` with settings of `digest`, to `output`
    (a file; None or - for `stdout`); returns how many documents failed and how many records
    were written. With `resume`, documents whose records `output` (or what killed runs left
    beside it) holds are not extracted again: their records are written in their place, and on
    an interrupt all of them not written yet are. `layout`: how records are written
    (record_text.FORMATS); a resumed output is JSON Lines."""
    # Read before a new file is made.
    done = Resume(resume_target(output, layout), digest) if resume else None
    if done is not None:
        print(f"ieclid: resuming: {len(done)} documents done in {output}", file=sys.stderr)
    writer = JsonlWriter(output, overwrite=overwrite, inputs=inputs, stdout=stdout, layout=layout)
    failed = 0
    try:
        records = records_of(documents) if done is None else done.merged(records_of(done.pending(documents)))
        try:
            for record in records:
                writer.write(record)
                if "error" in record:
                    failed += 1
                    print(f"ieclid: error: {record['error']}", file=sys.stderr)
                if on_record:
                    on_record(record)
        finally:
            for record in done.rest() if done else ():
                writer.write(record)
    finally:
        writer.close()
        if done is not None:  # once the file holds what the leftovers held
            done.clean_up()
    return failed, writer.count

"""When the batch engine may step, and in which order requests join: a schedule that makes
batched runs repeatable.

Which answers share a llama_decode, and where their cells lie in the KV cache, changes the
floating-point sums a little (other kernels, other summation orders), and greedy decoding turns
close calls one way or the other. If requests joined the batch whenever their threads happened
to submit them, two runs of one command would give different records, and scores that move
by more than a point from run to run. So during a run the engine steps only when every
document in flight has submitted its next request or finished, and takes new requests in
document order: the batches, and so the records, depend on the inputs alone.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count


class Schedule:
    """Shared by the thread that hands documents out (`run`, `enter`, `end`), the threads that
    work on them (`working`, `submit`) and the engine (`take`, `answered`, `close`).

    Documents are numbered in input order as they enter. The run's window is how many may be in
    flight: the engine waits until the documents from the oldest unfinished one to `window`
    after it have all entered (or the input has ended), and each of those has a request waiting
    or has finished. Requests made outside a run (no document) are taken as they come.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._local = threading.local()
        self._arrivals = count()
        self._pending: list[tuple[tuple[int, int], object]] = []
        self._window = 0
        self._entered = 0  # documents numbered so far
        self._oldest = 0  # the oldest unfinished document
        self._ended = True  # no more documents will enter
        self._finished: set[int] = set()  # finished documents after the oldest unfinished one
        self._asking: dict[int, int] = {}  # requests a document is waiting on
        self._closing = False
        self.cancelled = False  # the run was interrupted: every request is answered at once

    # The thread that hands documents out.

    @contextmanager
    def run(self, window: int) -> Iterator[None]:
        """A run of documents; when it is left, however, no more documents are waited for."""
        with self._changed:
            self._window, self._entered, self._oldest, self._ended = window, 0, 0, False
            self.cancelled = False
            self._finished.clear()
            self._asking.clear()
        try:
            yield
        finally:
            self.end()

    def enter(self) -> int:
        """Number the next document, before it is handed to a worker."""
        with self._changed:
            self._entered += 1
            self._changed.notify_all()
            return self._entered - 1

    def cancel(self) -> None:
        """Give up the run (Ctrl-C): the engine answers every request, waiting or being decoded,
        with `Cancelled` at its next step, so the threads working on documents end at once."""
        with self._changed:
            self.cancelled = True
            self._ended = True
            self._changed.notify_all()

    def end(self) -> None:
        """The input has ended: documents that never entered are not waited for."""
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    # The threads that work on documents.

    @contextmanager
    def working(self, document: int) -> Iterator[None]:
        """Requests made in this thread meanwhile belong to `document`, which is finished after."""
        self._local.document = document
        try:
            yield
        finally:
            self._local.document = None
            with self._changed:
                self._finished.add(document)
                while self._oldest in self._finished:
                    self._finished.remove(self._oldest)
                    self._oldest += 1
                self._asking.pop(document, None)
                self._changed.notify_all()

    def submit(self, request) -> None:
        """Queue a request for the engine; it remembers its document in `request.document`."""
        document = getattr(self._local, "document", None)
        request.document = document
        with self._changed:
            if document is not None:
                self._asking[document] = self._asking.get(document, 0) + 1
            order = sys.maxsize if document is None else document
            self._pending.append(((order, next(self._arrivals)), request))
            self._changed.notify_all()

    # The engine.

    def answered(self, request) -> None:
        """Call before the requester hears: its document is busy again until it asks or finishes."""
        if request.document is not None:
            with self._changed:
                if request.document in self._asking:
                    self._asking[request.document] -= 1

    def take(self, idle: bool) -> tuple[list, bool]:
        """Requests submitted since the last call, in document order, once the engine may step;
        when `idle`, wait for at least one. Returns them and whether the engine is closing."""
        with self._changed:
            self._changed.wait_for(lambda: self._closing or (
                (self.cancelled or self._may_step()) and (bool(self._pending) or not idle)))
            self._pending.sort(key=lambda item: item[0])
            taken = [request for _, request in self._pending]
            self._pending.clear()
            return taken, self._closing

    def close(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()

    def _may_step(self) -> bool:
        if not self._ended and self._entered < self._oldest + self._window:
            return False  # the next document is about to enter
        return all(self._asking.get(document, 0) > 0 for document in range(self._oldest, self._entered)
                   if document not in self._finished)

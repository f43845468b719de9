"""Ctrl-C and SIGTERM during a run: noted by the main thread, kept away from worker threads,
and acted on promptly while the main thread waits for results."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as Pending
from contextlib import contextmanager

from ieclid.errors import Terminated


def block_interrupts() -> None:
    """Keep Ctrl-C away from this thread (and the compute threads it starts), so the kernel
    delivers it to the main thread, which stops the run; a worker thread that caught the
    signal would leave the main thread waiting and the run going on."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


@contextmanager
def interrupts_noted() -> Iterator[Noted]:
    """Ctrl-C (and SIGTERM) set a flag as well as raising KeyboardInterrupt (`Terminated`). The
    exception is raised in the main thread wherever it happens to be running Python code, and
    there it can be swallowed: in a finalizer (`__del__` of a llama.cpp object the garbage
    collector frees) or a ctypes callback, Python prints and drops it, and the run would go on
    to the end. The flag survives."""
    noted = Noted()
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield noted  # only the main thread may set handlers; an ignored Ctrl-C stays ignored
        return

    def note(signum, frame):
        noted.terminated = signum == signal.SIGTERM
        noted.set()
        noted.raise_it()

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, note)
    signal.signal(signal.SIGTERM, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous)


class Noted(threading.Event):
    """Set when an interrupt arrived; `terminated` when it was SIGTERM."""

    terminated = False

    def raise_it(self) -> None:
        raise Terminated if self.terminated else KeyboardInterrupt


def result_or_interrupt(future: Future, noted: Noted):
    """Wait in short slices: a Ctrl-C that the kernel gave another thread is only acted on when
    the main thread runs Python code, which a wait without a timeout would not let it do."""
    while not noted.is_set():
        try:
            return future.result(timeout=0.1)
        except Pending:
            continue
    noted.raise_it()

"""Errors a user can act on: the CLI prints them as one line, never a traceback."""


class IeclidError(Exception):
    """A runtime failure (exit code 1): the input was valid but something went wrong."""

    exit_code = 1


class UsageError(IeclidError):
    """A bad argument or input named by the user (exit code 2)."""

    exit_code = 2


class ReaderGone(Exception):
    """The program reading standard output went away (`ieclid extract ... | head -1`): the run
    stops quietly with exit code 0. Not an OSError, which click turns into exit code 1."""


class Terminated(BaseException):
    """SIGTERM, handled as Ctrl-C is (records done so far are kept), with exit code 143. Not a
    KeyboardInterrupt, which typer turns into exit code 130, nor an Exception, which handlers
    for errors would catch."""


class Cancelled(Exception):
    """An answer given up because the run was interrupted (not an IeclidError: no document
    record is made of it)."""

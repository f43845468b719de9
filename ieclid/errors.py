"""Errors a user can act on: the CLI prints them as one line, never a traceback."""


class IeclidError(Exception):
    """A runtime failure (exit code 1): the input was valid but something went wrong."""

    exit_code = 1


class UsageError(IeclidError):
    """A bad argument or input named by the user (exit code 2)."""

    exit_code = 2

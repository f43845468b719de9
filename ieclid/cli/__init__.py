"""The `ieclid` command. Commands are thin: they parse arguments and call library code.

Every error a user can cause ends as one line on stderr and a non-zero exit code
(2 for usage errors, 1 for runtime failures, 130 on Ctrl-C), never a traceback;
set IECLID_DEBUG=1 to see one.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
import typer

from ieclid.cli.app import app
from ieclid.errors import IeclidError, ReaderGone, Terminated

COMPLETE_VAR = "_IECLID_COMPLETE"


def _register() -> None:
    from ieclid.cli import evaluate, exchange, extract, models, review, show, train  # noqa: F401 - register commands


def fail(message: str, code: int) -> int:
    print(f"ieclid: error: {message}", file=sys.stderr)
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    _register()
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:
        # Shell completion (see completions/): click's protocol, driven by the scripts.
        from click.shell_completion import shell_complete

        return shell_complete(typer.main.get_command(app), {}, "ieclid", COMPLETE_VAR, instruction)
    try:
        with terminate_as_interrupt():
            result = app(args=argv, prog_name="ieclid", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == 130:  # typer turns Ctrl-C into an exit code
            print("ieclid: interrupted", file=sys.stderr)
        return code
    except IeclidError as exc:
        return fail(str(exc), exc.exit_code)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        return fail(exc.format_message(), exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("ieclid: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("ieclid: terminated", file=sys.stderr)
        return 143
    except (BrokenPipeError, ReaderGone):
        # The reader went away (e.g. `| head`); nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if os.environ.get("IECLID_DEBUG"):
            raise
        return fail(f"internal error: {type(exc).__name__}: {exc} (IECLID_DEBUG=1 shows more)", 1)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C (`Terminated`): output files keep the records written so far."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> None:
    code = run()
    if code in (130, 143):
        # Interrupted: outputs are closed; threads still waiting on a server are not waited for.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)

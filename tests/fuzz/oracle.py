"""What no input may make a command do, and how a run that did is told apart.

A command runs in this process (click's runner) inside the folder of its
input, under a deadline (SIGPROF, CPU time; SIGALRM, wall time). It fails when it ends in an exception
other than the documented exit (a traceback), with an exit code other than
0, 1 or 2, or past the deadline (a hang). Stream surfaces add that every
line read is applied, rejected, blank or after --until, and that
`--on-error skip` does not stop the run.

A failure's signature (`RecursionError@engine/events.py`,
`hang@dsl/spelling.py`: where the deadline found it, `unaccounted`) is what
the regression cases' `xfail` entries name: a campaign counts a failure that
a known case already reproduces as known, and fails on any other.
"""
from __future__ import annotations

import os
import signal
import sys
import traceback
from dataclasses import dataclass

from click.testing import CliRunner

# The issue: over 10 s is a hang. Counted in CPU seconds of this process, so that a busy shared machine does not
# turn a slow input into a "hang"; wall-clock time, at six times that, catches a wait that burns no CPU.
DEADLINE = float(os.environ.get("FUZZ_DEADLINE", "10"))
WALL_DEADLINE = 6 * DEADLINE
EXIT_CODES = (0, 1, 2)
PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTSIDE = tuple(os.path.join(PACKAGE, folder) + os.sep for folder in (".venv", "tests"))


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no `except Exception` in the code under test swallows it."""


@dataclass(frozen=True)
class Failure:
    kind: str               # traceback, exit-code, hang, unaccounted, stopped
    signature: str          # what a known case names: "RecursionError@engine/events.py", "hang@dsl/spelling.py"
    command: str
    detail: str


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    exit_code: int
    output: str
    failure: Failure | None


def run_command(args: list[str], folder: str, stdin: bytes | None = None) -> Run:
    """`funnel ARGS` in `folder`, under the deadline; the failure, if any, classified."""
    from funnelspec.cli import main

    runner = CliRunner()
    previous = os.getcwd()
    command = "funnel " + " ".join(args)
    os.chdir(folder)
    handlers = {sig: signal.signal(sig, _alarm) for sig in (signal.SIGPROF, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_PROF, DEADLINE)
    signal.setitimer(signal.ITIMER_REAL, WALL_DEADLINE)
    try:
        result = runner.invoke(main, args, input=stdin, catch_exceptions=True)
    except Hang:
        where = signature(sys.exc_info()).replace("Hang@", "hang@")
        return Run(tuple(args), -1, "", Failure("hang", where, command,
                                                f"over {DEADLINE:g} s of CPU\n{_last_lines(sys.exc_info())}"))
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        os.chdir(previous)
    output = result.output
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        return Run(tuple(args), result.exit_code, output,
                   Failure("traceback", signature(result.exc_info), command, _last_lines(result.exc_info)))
    if result.exit_code not in EXIT_CODES:
        return Run(tuple(args), result.exit_code, output,
                   Failure("exit-code", f"exit-{result.exit_code}", command, output[-500:]))
    return Run(tuple(args), result.exit_code, output, None)


def _alarm(signum, frame):
    raise Hang()


def signature(exc_info) -> str:
    """`Type@file` of the innermost frame in the package (or the outermost outside it, for a library's error)."""
    kind, error, tb = exc_info
    where = "?"
    for frame, _ in traceback.walk_tb(tb):
        path = os.path.abspath(frame.f_code.co_filename)
        inside = path.startswith(PACKAGE + os.sep) and not path.startswith(OUTSIDE)
        if inside:
            where = os.path.relpath(path, PACKAGE).replace(os.sep, "/")
    return f"{kind.__name__}@{where}"


def _last_lines(exc_info) -> str:
    text = "".join(traceback.format_exception(*exc_info, limit=-8))
    return text[-3000:]

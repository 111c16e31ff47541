"""What every command shares: exit codes, I/O errors as messages, output to a file or stdout."""
from __future__ import annotations

import json
import math
import os
import sys

import click

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class FunnelGroup(click.Group):
    """Commands listed in the order they were added; unexpected exceptions are reported, not dumped."""

    ORDER = ("lint", "fmt", "graph", "simulate", "report", "diff", "explain", "test", "new", "export", "schema")

    def list_commands(self, ctx):
        rank = {name: i for i, name in enumerate(self.ORDER)}
        return sorted(self.commands, key=lambda n: (rank.get(n, len(rank)), n))

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except OSError as err:
            fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
        except UnicodeDecodeError as err:
            fail(f"input is not valid UTF-8: {err}")


class WorkerCount(click.ParamType):
    """`--workers`: a whole number from 1, or `auto`, one worker per CPU this process may run on."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif str(value).strip().lower() == "auto":
            return cpus()
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is neither a whole number nor `auto`", param, ctx)
        if number < 1:
            self.fail(f"{number} is not at least 1 (`auto`: one worker per CPU)", param, ctx)
        return number


AUTO_WORKERS_BYTES = 16 << 20       # from this stream size on, `--workers` defaults to one per CPU


def default_workers(events: str | None) -> int:
    """One worker per CPU for a large stream file (starting them costs more than it saves on a small one)."""
    try:
        large = events not in (None, "-") and os.path.getsize(events) >= AUTO_WORKERS_BYTES
    except OSError:                    # missing or unreadable: the replay says so
        return 1
    return cpus() if large else 1


def workers_option(command):
    """`--workers N|auto` for a command that replays a history."""
    return click.option(
        "--workers", type=WorkerCount(), default=None, metavar="N|auto",
        help="Replay on N processes (`auto`: one per CPU), deals split by their id; the output is the same as "
             f"with one. Default: `auto` for a stream file of {AUTO_WORKERS_BYTES >> 20} MB or more, else 1.")(command)


def cpus() -> int:
    """The CPUs this process may use, at least 1: those it may run on (taskset, cpuset), no more than a
    container's CPU quota (cgroups), which a pod on a large host has though it sees every core."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:                  # not on Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        count = min(count, quota)
    return max(1, count)


CGROUP_FILES = ("/sys/fs/cgroup/cpu.max",                  # cgroup v2: "QUOTA PERIOD" or "max PERIOD"
                "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")      # cgroup v1: QUOTA (-1: none), period beside it


def cgroup_cpu_quota(files: tuple[str, ...] = CGROUP_FILES) -> int | None:
    """The CPU quota of this process's cgroup, rounded up to whole CPUs; None when there is none or no cgroup."""
    for path in files:
        try:
            with open(path, encoding="ascii") as handle:
                words = handle.read().split()
            if path.endswith("cpu.max"):
                quota, period = words[0], words[1]
            else:
                with open(os.path.join(os.path.dirname(path), "cpu.cfs_period_us"), encoding="ascii") as handle:
                    quota, period = words[0], handle.read().strip()
        except (OSError, IndexError):
            continue
        if quota in ("max", "-1"):
            return None
        try:
            return max(1, math.ceil(int(quota) / int(period)))
        except (ValueError, ZeroDivisionError):
            return None
    return None


def files_below(paths: tuple[str, ...], suffix: str) -> list[str]:
    """The files named, and every *SUFFIX below the folders named (hidden folders skipped), in a stable order.

    A missing path, or a folder with no such file, is a usage error (exit 2).
    """
    found: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            fail(f"{path}: no such file or folder")
        if not os.path.isdir(path):
            found.append(path)
            continue
        inside = []
        for folder, subfolders, files in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            inside += [os.path.join(folder, f) for f in files if f.endswith(suffix)]
        if not inside:
            fail(f"{path}: no {suffix} files in this folder")
        found += sorted(inside)
    return list(dict.fromkeys(os.path.normpath(p) for p in found))


def replay_options(csv_map: str | None, until: str | None):
    """`--csv-map` and `--until` as the replay takes them: (column mapping or None, end time or None)."""
    from ..engine.events import parse_csv_map
    from ..engine.simulate import until_time

    try:
        mapping = parse_csv_map(csv_map) if csv_map else None
    except ValueError as err:
        fail(f"--csv-map: {err}")
    try:
        end = until_time(until)
    except ValueError:
        fail(f"--until: `{until}` is not an ISO 8601 date or date and time")
    return mapping, end


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print an error to stderr and exit (2 by default)."""
    click.echo(click.style("error", fg="red", bold=True) + f": {message}", err=True)
    sys.exit(code)


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def dump_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def write_output(text: str, path: str | None) -> None:
    """Write to a file atomically (never half-written: atomic.py), or to stdout when no path is given."""
    from ..atomic import write_atomically

    if path in (None, "-"):
        click.echo(text, nl=False)
        return
    write_atomically(path, text)

"""What every command shares: exit codes, I/O errors as messages, output to a file or stdout."""
from __future__ import annotations

import json
import math
import os
import sys
from contextlib import contextmanager

import click

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class FunnelGroup(click.Group):
    """Commands listed in the order they were added; unexpected exceptions are reported, not dumped."""

    ORDER = ("lint", "fmt", "graph", "simulate", "report", "fit", "forecast", "backtest", "diff", "run", "state",
             "serve", "explain", "test", "new", "export", "schema")

    # command -> the module of this package that adds it: a command imports its own module when it is
    # run (start-up pays for one command, not all); `--help`, which lists them all, imports every one.
    MODULES: dict[str, str] = {}

    def list_commands(self, ctx):
        rank = {name: i for i, name in enumerate(self.ORDER)}
        return sorted(set(self.commands) | set(self.MODULES), key=lambda n: (rank.get(n, len(rank)), n))

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands and cmd_name in self.MODULES:
            import importlib

            importlib.import_module(f"{__package__}.{self.MODULES[cmd_name]}")
        return self.commands.get(cmd_name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            closed_pipe()
        except OSError as err:
            fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
        except UnicodeDecodeError as err:
            fail(f"input is not valid UTF-8: {err}")


WORKERS_ENV = "FUNNEL_MAX_WORKERS"      # more workers than CPUs, when a person asks for them
MOST_WORKERS = 1024                     # past this a count is a mistake, whatever the machine
EXIT_CLOSED_PIPE = 141           # what a shell reports for a command ended by SIGPIPE (128 + 13)


def closed_pipe() -> None:
    """The reader went away (`funnel new --list | head -2`): stop quietly, as other command-line tools do.

    Standard output is pointed at /dev/null so the interpreter's last flush
    cannot raise a second time and print a traceback.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):       # no real stdout (a test runner's capture): nothing left to flush
        pass
    sys.exit(EXIT_CLOSED_PIPE)


class WorkerCount(click.ParamType):
    """`--workers`: a whole number from 1, or `auto`, one worker per CPU this process may run on.

    More than the CPUs is cut to the CPUs, with a note (each worker reads the
    whole stream: more workers than CPUs only slow the replay down), unless
    FUNNEL_MAX_WORKERS allows more; more than MOST_WORKERS is a usage error."""

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
                self.fail(f"{str(value)[:40]!r} is neither a whole number nor `auto`", param, ctx)
        if number < 1:
            self.fail(f"{number} is not at least 1 (`auto`: one worker per CPU)", param, ctx)
        if number > MOST_WORKERS:
            self.fail(f"{str(number)[:40]} is more than {MOST_WORKERS} (`auto`: one worker per CPU, {cpus()} here)",
                      param, ctx)
        allowed = self.allowed(param, ctx)
        if number > allowed:
            click.echo(f"note: --workers {number}: {allowed} CPU(s) here, so {allowed} worker(s) replay "
                       f"({WORKERS_ENV}={number} allows more)", err=True)
            return allowed
        return number

    def allowed(self, param, ctx) -> int:
        """The CPUs, or what FUNNEL_MAX_WORKERS says."""
        text = os.environ.get(WORKERS_ENV, "").strip()
        if not text:
            return cpus()
        if not text.isdigit() or not 1 <= int(text) <= MOST_WORKERS:
            self.fail(f"{WORKERS_ENV}={text[:40]!r} is not a whole number from 1 to {MOST_WORKERS}", param, ctx)
        return int(text)


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
             f"with one. Default: `auto` for a stream file of {AUTO_WORKERS_BYTES >> 20} MB or more, else 1. "
             f"N is cut to the CPUs unless the environment variable {WORKERS_ENV} allows more "
             f"(at most {MOST_WORKERS}).")(command)


def cluster_option(command):
    """`--cluster dask[://HOST:PORT]` for a command that replays a history (engine/cluster.py)."""
    return click.option(
        "--cluster", metavar="dask[://HOST:PORT]", default=None,
        help="Replay on a Dask cluster, deals split by their id as with --workers (the stream shuffled by deal: "
             "workers read pieces of it side by side); the output is the same. `dask` starts one on this machine (--workers processes, default one per CPU); dask://HOST:PORT "
             "uses a running scheduler, whose workers must read --events at the same path. Needs "
             "pip install 'funnelspec[dask]' (docs/scale.md).")(command)


def partitioned_option(command):
    """`--partitioned-by-deal` for a command with --cluster: each file of --events holds whole deals."""
    return click.option(
        "--partitioned-by-deal", "partitioned", is_flag=True, default=False,
        help="With --cluster: --events is a directory or glob whose files each hold whole deals (no deal in two "
             "files); each worker reads only its own files, no shuffle. A deal found in two files stops the "
             "run (exit 2) (docs/scale.md).")(command)


def check_partitioned(partitioned: bool, cluster: str | None, events: str | None) -> None:
    """Exit 2 when --partitioned-by-deal cannot apply: without --cluster, or on one file or stdin."""
    from ..engine.partitions import NotPartitioned, partition_files

    if not partitioned:
        return
    if not cluster:
        fail("--partitioned-by-deal goes with --cluster: --workers splits the deals of any stream itself")
    try:
        partition_files(events if events is not None else "-")
    except NotPartitioned as err:
        fail(str(err))
    except OSError:
        pass                              # said where the stream is opened, as for any --events


@contextmanager
def cluster_client(cluster: str, workers: int | None):
    """A Dask client for `--cluster`, closed (with the cluster it started) on the way out; exit 2 when there is none."""
    from ..engine.cluster import ClusterUnavailable, connect, scheduler_address

    try:
        address = scheduler_address(cluster)
        client = connect(address, workers if workers and workers > 1 else cpus())
    except (ValueError, ClusterUnavailable) as err:
        fail(str(err))
    try:
        yield client
    finally:
        local = client.cluster if address is None else None
        client.close()
        if local is not None:
            local.close()


def import_root_option(command):
    """`--import-root DIR` for a command that reads specs: a folder imports may reach besides the project root."""
    return click.option(
        "--import-root", "import_roots", multiple=True, metavar="DIR", type=click.Path(file_okay=False, exists=True),
        help="A folder imports may reach besides the project root (the folder of the pyproject.toml with "
             "[tool.funnel], else the spec's own); repeatable. `import-roots` in [tool.funnel] does the same.")(command)


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
        inside = files_in(path, suffix)
        if not inside:
            fail(no_files_message(path, suffix))
        found += inside
    return list(dict.fromkeys(os.path.normpath(p) for p in found))


def files_in(folder: str, suffix: str) -> list[str]:
    """Every *SUFFIX below `folder`, hidden folders (.git, .venv) skipped, in a stable order."""
    inside = []
    for parent, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        inside += [os.path.join(parent, f) for f in files if f.endswith(suffix)]
    return sorted(inside)


def no_files_message(folder: str, suffix: str) -> str:
    return f"{folder}: no {suffix} files in this folder"


def replay_options(csv_map: str | None, until: str | None):
    """`--csv-map` and `--until` as the replay takes them: (column mapping or None, end time or None)."""
    from ..engine.events import parse_csv_map
    try:
        mapping = parse_csv_map(csv_map) if csv_map else None
    except ValueError as err:
        fail(f"--csv-map: {err}")
    return mapping, until_option(until)


def until_option(until: str | None, option: str = "--until") -> float | None:
    """`--until` (or another time option) as epoch seconds (None when not given); a usage error naming
    the option when it is not a time in range."""
    from ..engine.simulate import until_time
    from ..engine.values import OutOfRange

    try:
        return until_time(until)
    except OutOfRange as err:
        fail(f"{option}: `{until}` is {err}")
    except ValueError:
        fail(f"{option}: `{until}` is not an ISO 8601 date or date and time")


def runnable_analysis(path: str, code: int = EXIT_FINDINGS, message: str | None = None,
                      import_roots: tuple[str, ...] = ()):
    """A spec file a command is to run, analysed (its spec is set, its sources are the files read);
    else its errors, those `funnel lint` reports included, on stderr (then `message`, when given)
    and exit `code`."""
    from ..api import analyse_runnable

    analysis = analyse_runnable(path, import_roots)
    if analysis.spec is None:
        from ..dsl.render.text import render_text       # only to show the errors

        click.echo(render_text(analysis.diagnostics, analysis.sources, use_color(sys.stderr)), err=True)
        if message:
            fail(message, code)
        raise SystemExit(code)
    return analysis


def runnable_spec(path: str, code: int = EXIT_FINDINGS, message: str | None = None,
                  import_roots: tuple[str, ...] = ()):
    """The checked spec of a file a command is to run (see `runnable_analysis`)."""
    return runnable_analysis(path, code, message, import_roots).spec


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print an error to stderr and exit (2 by default); what the message quotes cannot drive the terminal."""
    from ..dsl.render.safe_text import terminal

    click.echo(click.style("error", fg="red", bold=True) + f": {terminal(message)}", err=True)
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


# Writing outputs lives in cli/outputs.py; commands written before it import write_output from here.
from .outputs import write_output  # noqa: E402,F401

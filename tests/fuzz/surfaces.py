"""Every surface that takes outside input: its files, which of them a campaign mutates, the commands it runs.

A surface lays out a folder: files from the seed corpus (examples/, stdlib/,
tests/cases/, tests/fuzz/corpus/), one of its `targets` mutated. Its commands
run in that folder with relative paths, so a case saved from it (the files
that differ) replays anywhere. `check` looks at what the commands left
(a stream's line accounting) and returns the failures it finds.
"""
from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .mutate import Corpus, choice, mutate
from .oracle import Failure, Run, run_command

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = ROOT / "examples"
CRM = EXAMPLES / "data" / "crm_sales_opportunities"
LANGUAGE_WORDS = tuple(w.encode() for w in (
    "funnel", "stage", "start", "won", "lost", "sla", "require", "probability", "any", "when", "and", "or", "not",
    "is", "set", "in", "every", "while", "on", "enter", "event", "task", "notify", "due", "import", "extends", "as",
    "fields", "events", "value", "currency", "money", "text", "bool", "datetime", "duration", "->", "..", "=", "?",
    "std.b2b_classic", "import \"lib.funnel\"", "import \"/proc/self/environ\"", "import \"../../../etc/passwd\""))


def _read(path: Path) -> bytes:
    return path.read_bytes()


@dataclass
class Surface:
    """One input surface: `layout(pick)` the seed files, `targets` those a mutation may change."""

    name: str
    layout: Callable[[object], dict[str, bytes]]
    targets: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...] | Callable[[dict[str, bytes]], list[tuple[str, ...]]]
    corpus: Callable[[], Corpus]
    json_input: bool = False
    encode: Callable[[str, bytes, object], bytes] | None = None       # e.g. gzip the mutated text
    check: Callable[[str, dict[str, bytes], list[Run]], list[Failure]] | None = None
    _corpus: Corpus | None = field(default=None, repr=False)

    @property
    def seeds(self) -> Corpus:
        if self._corpus is None:
            self._corpus = self.corpus()
        return self._corpus

    def generate(self, pick) -> dict[str, bytes]:
        """A folder's files: the layout, one target mutated."""
        files = self.layout(pick)
        target = choice(pick, [t for t in self.targets if t in files])
        text = mutate(files[target], pick, self.seeds, self.json_input)
        files[target] = self.encode(target, text, pick) if self.encode else text
        return files

    def run(self, folder: str, files: dict[str, bytes], first_only: bool = False) -> list[Failure]:
        """Lay the files out in `folder`, run each command; the failures found (`first_only`: stop at one)."""
        for name, data in files.items():
            path = os.path.join(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
        _forget_settings()
        commands = self.commands(files) if callable(self.commands) else self.commands
        runs = []
        for args in commands:
            runs.append(run_command(list(args), folder))
            if first_only and runs[-1].failure is not None:
                return [runs[-1].failure]
        failures = [r.failure for r in runs if r.failure is not None]
        if self.check and not failures:
            failures += self.check(folder, files, runs)
        return failures


def _forget_settings() -> None:
    """pyproject.toml settings are cached per folder per process: a new case's folder must be read afresh."""
    from funnelspec.dsl.config import settings_in

    settings_in.cache_clear()


# --- spec text, imports and pyproject config ----------------------------------------------------------------


def spec_paths() -> list[Path]:
    paths = sorted(EXAMPLES.glob("*.funnel")) + sorted((ROOT / "stdlib").glob("*.funnel"))
    paths += sorted((ROOT / "tests" / "cases").rglob("*.funnel"))
    return [p for p in paths if p.stat().st_size < 20_000]


def spec_corpus() -> Corpus:
    return Corpus([_read(p) for p in spec_paths()], LANGUAGE_WORDS)


def config_seeds() -> list[bytes]:
    return [_read(CORPUS / "pyproject-lint.toml"), _read(CORPUS / "pyproject-diagnosis.toml"),
            _read(ROOT / "pyproject.toml")]


def spec_layout(pick) -> dict[str, bytes]:
    corpus = SPEC.seeds.seeds
    return {"s.funnel": b'import "lib.funnel" as lib\n' + choice(pick, corpus),
            "lib.funnel": choice(pick, corpus),
            "pyproject.toml": choice(pick, config_seeds())}


SPEC = Surface(
    "spec", spec_layout, ("s.funnel", "s.funnel", "lib.funnel", "pyproject.toml"),
    (("lint", "s.funnel", "--format", "json"), ("lint", "s.funnel", "lib.funnel"), ("export", "s.funnel"),
     ("graph", "s.funnel", "--format", "mermaid"), ("graph", "s.funnel", "--format", "dot"),
     ("fmt", "s.funnel", "lib.funnel")),
    spec_corpus)


# --- the deal stream: JSON Lines, gzip, CSV ---------------------------------------------------------------


STREAM_SPEC = EXAMPLES / "security_b2b.funnel"


def simulate(events: str, *more: str) -> tuple[tuple[str, ...]]:
    return (("simulate", "s.funnel", "--events", events, *more, "--on-error", "skip", "--format", "json",
             "-o", "out.json", "--rejects", "rejects.txt"),)


def stream_corpus() -> Corpus:
    return Corpus([_read(CORPUS / "events-start.jsonl"), _read(CORPUS / "events-middle.jsonl"),
                   _read(CORPUS / "events.csv")])


def jsonl_layout(pick) -> dict[str, bytes]:
    return {"s.funnel": _read(STREAM_SPEC),
            "e.jsonl": choice(pick, [_read(CORPUS / "events-start.jsonl"), _read(CORPUS / "events-middle.jsonl")])}


def gzip_layout(pick) -> dict[str, bytes]:
    files = jsonl_layout(pick)
    return {"s.funnel": files["s.funnel"], "e.jsonl.gz": files["e.jsonl"]}


def gzip_encode(target: str, text: bytes, pick) -> bytes:
    """The mutated lines compressed; now and then the compressed bytes damaged too (cut, a bit flipped)."""
    data = gzip.compress(text, mtime=0)
    damage = pick.integer(0, 5)
    if damage == 0:
        return data[:pick.integer(0, len(data))]
    if damage == 1:
        at = pick.integer(0, len(data) - 1)
        return data[:at] + bytes([data[at] ^ 1 << pick.integer(0, 7)]) + data[at + 1:]
    return data


def csv_layout(pick) -> dict[str, bytes]:
    return {"s.funnel": _read(STREAM_SPEC), "e.csv": _read(CORPUS / "events.csv")}


CSV_MAP = ("deal=deal,ts=ts,type=type,to=to,by=by,name=name,fields.budget=budget,fields.source=source,"
           "fields.segment=segment,fields.meeting_at=meeting_at,fields.proposal_sent=proposal_sent,"
           "fields.manager=manager,fields.paid=paid,data.amount=amount")


def physical_lines(data: bytes) -> int:
    """Lines as the reader counts them: every newline ends one, and a last line without one counts."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def stop_signature(output: str) -> str:
    """`stopped:` and the first words of the last message (`stopped:crc-check-failed`, `stopped:aborted`)."""
    lines = [line for line in output.splitlines() if line.strip()] or ["(no message)"]
    words = re.findall(r"[a-z]+", lines[-1].lower().removeprefix("error: "))[:3]
    return "stopped:" + "-".join(words)


def check_stream(folder: str, files: dict[str, bytes], runs: list[Run]) -> list[Failure]:
    """Under --on-error skip: every line read applied, rejected, blank or after --until, and kept if rejected.

    The run may stop only for the file as a whole (exit 2, a message naming it); never for one line.
    """
    run = runs[0]
    command = "funnel " + " ".join(run.args)
    name = next(n for n in files if n.startswith("e."))
    if run.exit_code == 2 and name in run.output:
        return []                   # the file as a whole refused (not gzip, cut short), with a message naming it
    if run.exit_code != 0:
        return [Failure("stopped", stop_signature(run.output), command, run.output[-800:])]
    with open(os.path.join(folder, "out.json"), encoding="utf-8") as handle:
        totals = json.load(handle)["totals"]
    accounted = totals["applied"] + totals["rejected"] + totals["blank"] + totals["after_until"]
    problems = []
    if accounted != totals["lines"]:
        problems.append(f"{totals}: {totals['lines'] - accounted} lines unaccounted")
    if name.endswith(".jsonl") and totals["lines"] != physical_lines(files[name]):
        problems.append(f"read {physical_lines(files[name])} lines, counted {totals['lines']}")
    with open(os.path.join(folder, "rejects.txt"), "rb") as handle:
        kept = sum(1 for line in handle if line.startswith(b"# ") and b": " in line)
    if kept < totals["rejected"]:
        problems.append(f"{totals['rejected']} rejected, {kept} kept in --rejects")
    return [Failure("unaccounted", "unaccounted", command, "; ".join(problems))] if problems else []


JSONL = Surface("stream-jsonl", jsonl_layout, ("e.jsonl",), simulate("e.jsonl"),
                stream_corpus, json_input=True, check=check_stream)
GZIP = Surface("stream-gzip", gzip_layout, ("e.jsonl.gz",), simulate("e.jsonl.gz"),
               stream_corpus, json_input=True, encode=gzip_encode, check=check_stream)
CSV = Surface("stream-csv", csv_layout, ("e.csv",),
              simulate("e.csv", "--csv-map", CSV_MAP), stream_corpus, check=check_stream)


# --- funnel convert crm-opportunities ---------------------------------------------------------------------


def crm_tables() -> dict[str, bytes]:
    pipeline = _read(CRM / "sales_pipeline.csv").split(b"\n")
    return {"crm/sales_pipeline.csv": b"\n".join(pipeline[:40]) + b"\n",
            "crm/sales_teams.csv": _read(CRM / "sales_teams.csv"),
            "crm/products.csv": _read(CRM / "products.csv"),
            "crm/accounts.csv": _read(CRM / "accounts.csv")}


CONVERT = Surface("convert", lambda pick: crm_tables(),
                  ("crm/sales_pipeline.csv", "crm/sales_pipeline.csv", "crm/sales_teams.csv", "crm/products.csv",
                   "crm/accounts.csv"),
                  (("convert", "crm-opportunities", "crm", "-o", "stream.jsonl"),
                   ("convert", "crm-opportunities", "crm/sales_pipeline.csv")),
                  lambda: Corpus(list(crm_tables().values())))


# --- journeys (funnel test) --------------------------------------------------------------------------------


def journey_pairs() -> list[tuple[Path, Path]]:
    tests = sorted(EXAMPLES.glob("*.funnel-test")) + sorted((ROOT / "stdlib").glob("*.funnel-test"))
    tests += sorted((ROOT / "tests" / "cases" / "journeys").rglob("*.funnel-test"))
    return [(t.with_suffix(".funnel"), t) for t in tests if t.with_suffix(".funnel").exists()]


def journeys_layout(pick) -> dict[str, bytes]:
    spec, tests = choice(pick, journey_pairs())
    lines = _read(tests).split(b"\n")
    return {"j.funnel": _read(spec), "j.funnel-test": b"\n".join(lines[:60]) + b"\n"}


JOURNEYS = Surface("journeys", journeys_layout, ("j.funnel-test", "j.funnel-test", "j.funnel-test", "j.funnel"),
                   (("test", "j.funnel-test"), ("test", "j.funnel-test", "--format", "json")),
                   lambda: Corpus([_read(t) for _, t in journey_pairs()]))


# --- lint baselines ----------------------------------------------------------------------------------------


BASELINE = Surface("baseline",
                   lambda pick: {"b.funnel": _read(CORPUS / "baseline.funnel"),
                                 "baseline.json": _read(CORPUS / "baseline.json")},
                   ("baseline.json",),
                   (("lint", "b.funnel", "--baseline", "baseline.json"),
                    ("lint", "b.funnel", "--baseline", "baseline.json", "--format", "json")),
                   lambda: Corpus([_read(CORPUS / "baseline.json")]), json_input=True)


# --- saved results: funnel report, funnel graph --results --------------------------------------------------


RESULTS = Surface("results",
                  lambda pick: {"s.funnel": _read(STREAM_SPEC), "result.json": _read(CORPUS / "result.json")},
                  ("result.json",),
                  (("report", "result.json"), ("report", "result.json", "--report", "json"),
                   ("report", "result.json", "--report", "html", "--by", "manager", "-o", "report.html"),
                   ("graph", "s.funnel", "--results", "result.json", "--format", "mermaid"),
                   ("graph", "s.funnel", "--results", "result.json", "--format", "dot")),
                  lambda: Corpus([_read(CORPUS / "result.json")]), json_input=True)


# --- command-line options: times, counts, thresholds, names ------------------------------------------------


OPTION_SEEDS = (
    "sample s.funnel --start 2026-01-05T09:00:00Z --days 90 --deals 5 --seed 7 --steps 4",
    "simulate s.funnel --events e.jsonl --until 2026-03-01T00:00:00Z --moves record --report text --by manager",
    "simulate s.funnel --events e.jsonl --until 2026-02-01 --format jsonl",
    "report result.json --threshold first-stage-drop=0.6 --threshold min-deals=5 --by manager,source",
    "lint s.funnel --select FNL1,FNL2 --ignore no-sla --fail-on warning --format sarif",
    "graph s.funnel --funnel security --format mermaid --results result.json",
    "explain s.funnel --events e.jsonl --deal D-0001 --format json",
    "diff s.funnel s.funnel --events e.jsonl --until 2026-02-15 --format markdown",
)
RISKY = {"--workers": "1", "--deals": "5", "--steps": "4"}      # counts that fork or allocate without bound


def option_args(files: dict[str, bytes]) -> list[tuple[str, ...]]:
    """The mutated command line, one argument a line; process and deal counts kept small (they fork, allocate)."""
    args = files["args"].decode("utf-8", "surrogateescape").replace("\0", "").split("\n")   # argv has no NUL
    for i, arg in enumerate(args[:-1]):
        if arg in RISKY and not _small(args[i + 1]):
            args[i + 1] = RISKY[arg]
    return [tuple(a for a in args if a != "") or ("--help",)]


def _small(value: str) -> bool:
    try:
        return abs(int(value)) <= 1000
    except ValueError:
        return True            # not a number: the option's own check refuses it


OPTIONS = Surface("options",
                  lambda pick: {"s.funnel": _read(STREAM_SPEC), "e.jsonl": _read(CORPUS / "events-start.jsonl"),
                                "result.json": _read(CORPUS / "result.json"),
                                "args": choice(pick, OPTION_SEEDS).replace(" ", "\n").encode()},
                  ("args",), option_args,
                  lambda: Corpus([s.replace(" ", "\n").encode() for s in OPTION_SEEDS]))


SURFACES = {s.name: s for s in (SPEC, JSONL, GZIP, CSV, CONVERT, JOURNEYS, BASELINE, RESULTS, OPTIONS)}

"""The facade: each call chains the pipeline's steps; nothing else reaches across them."""
from __future__ import annotations

from dataclasses import dataclass, field

from .dsl.gcpause import gc_paused
from .dsl.diagnostics import Diagnostic, has_errors, sorted_diagnostics
from .dsl.loader import load_files
from .dsl.model import Spec
from .dsl.resolve import resolve_files
from .dsl.source import Source


@dataclass
class Analysis:
    """A spec file loaded and checked: the model (None when it has errors), findings, sources."""

    path: str
    spec: Spec | None
    diagnostics: list[Diagnostic]
    sources: dict[str, Source] = field(default_factory=dict)
    files: dict = field(default_factory=dict)      # key -> dsl.loader.LoadedFile: each file's tree and imports

    @property
    def ok(self) -> bool:
        return self.spec is not None


def analyse(path: str, text: str | None = None, *, lint: bool = True,
            import_roots: tuple[str, ...] = ()) -> Analysis:
    """Parse, resolve and (when `lint`) run every lint check on one spec file.

    Imports stay inside the project root (dsl/roots.py); `import_roots` are
    more folders they may reach. Raises OSError when the file itself cannot
    be read; every problem in its text is a diagnostic.
    """
    from .dsl.roots import roots_for

    roots = roots_for(path if not path.startswith("<") else "<entry>", import_roots)   # text alone: the cwd's
    with gc_paused():                   # one collection after all three steps, not one after each
        fileset = load_files(path, text, roots)
        spec, problems = resolve_files(fileset)
        if spec is not None and not has_errors(problems) and lint:
            from .dsl.lint import lint_spec

            problems = problems + lint_spec(spec)
    diagnostics = sorted_diagnostics(problems)
    usable = spec if spec is not None and not has_errors(diagnostics) else None
    return Analysis(path, usable, diagnostics, fileset.sources, fileset.files)


def analyse_runnable(path: str, import_roots: tuple[str, ...] = ()) -> Analysis:
    """A spec file checked as for running it: its spec is None, and its diagnostics are the errors,
    when it has errors or `funnel lint` reports errors for it (with its pyproject.toml settings and
    inline suppressions); otherwise as `analyse(path, lint=False)` gives it.

    A spec without errors is kept in the user's cache folder and, while none of the files and settings
    it was made from change, read back from there instead of parsed and checked again
    (dsl/user_cache.py). Raises OSError when the file itself cannot be read."""
    from .dsl import user_cache

    kept = user_cache.load_analysis(path, import_roots)
    if kept is not None:
        return kept
    from .dsl.config import settings_for
    from .dsl.lint import errors_that_stop_a_run

    analysis = analyse(path, lint=False, import_roots=import_roots)
    if analysis.spec is None:
        return analysis
    with gc_paused():
        errors = errors_that_stop_a_run(analysis, settings_for(path))
    if errors:
        return Analysis(path, None, errors, analysis.sources)
    user_cache.store_analysis(path, import_roots, analysis)
    return analysis


def load(path: str, text: str | None = None) -> tuple[Spec | None, list[Diagnostic]]:
    """The checked model of a spec file (None when it has errors) and every finding."""
    result = analyse(path, text, lint=False)
    return result.spec, result.diagnostics


@dataclass
class Fixed:
    """What `fix` did to one spec file: its text before and after, and the fixes applied."""

    path: str
    before: str
    after: str
    applied: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.after != self.before


def lint_report(path: str, text: str | None = None, *, settings=None, import_roots: tuple[str, ...] = (),
                analysis: Analysis | None = None):
    """What `funnel lint` reports for one file (dsl/lint.py FileReport), with its settings from pyproject.toml.

    `analysis`: the file already analysed with lint=False, to report on it without reading it again."""
    from .dsl.config import settings_for
    from .dsl.lint import lint_analysis

    chosen = settings if settings is not None else settings_for(path)
    if analysis is None:
        analysis = analyse(path, text, lint=False, import_roots=import_roots)
    return lint_analysis(analysis, chosen)


def fix(path: str, text: str | None = None, *, settings=None, unsafe: bool = False,
        import_roots: tuple[str, ...] = (), rounds: int = 8) -> Fixed:
    """Apply the quick fixes (dsl/fixes.py) of `funnel lint`'s findings to one spec file's text.

    Only safe fixes unless `unsafe`. Fixing one finding can show others (a mended syntax
    error lets the names be checked), so fixes are applied in rounds until none is left.
    Advice (info level) is fixed too, shown or not. Writes nothing: the caller decides.
    Raises OSError when the file cannot be read.
    """
    from .dsl.config import settings_for
    from .dsl.fixes import fixed_text, fixes_for
    from .dsl.loader import display_path, read_source

    before = read_source(path, crlf=True).text if text is None else text
    crlf = "\r\n" in before                # fixed as LF text, as every step reads it; written back as it was
    current, applied, key = before.replace("\r\n", "\n"), [], display_path(path)
    settings = (settings if settings is not None else settings_for(path)).overridden(show_advice=True)
    for _ in range(rounds):
        report = lint_report(path, current, settings=settings, import_roots=import_roots)
        source = report.sources.get(key)
        fixes = [f for d in report.findings if d.span.file == key
                 for f in fixes_for(d, source) if f.safe or unsafe]
        after = fixed_text(key, current, fixes)
        if after == current:
            break
        applied += fixes
        current = after
    return Fixed(path, before, current.replace("\n", "\r\n") if crlf else current, applied)


class SpecError(ValueError):
    """A spec with errors cannot be replayed; `diagnostics` holds its findings."""

    def __init__(self, path: str, diagnostics: list[Diagnostic]):
        errors = [d for d in diagnostics if d.severity.name == "ERROR"]
        first = errors[0] if errors else None
        where = f": {first.span.label()}: {first.message}" if first is not None else ""
        super().__init__(f"`{path}` has {len(errors)} error(s){where}")
        self.path, self.diagnostics = path, diagnostics


def simulate(spec, events, *, until=None, moves: str = "enforce", on_error: str = "stop",
             csv_map: dict[str, str] | None = None):
    """Replay a deal stream against a spec; returns a ReplayResult (engine/outcome.py).

    spec: a path or a checked Spec. events: a path (`.jsonl`, `.gz`, `.csv`,
    `-` for stdin), an open file, or an iterable of lines or of event dicts.
    until: when the replay ends (epoch seconds, ISO text or datetime; default
    the latest event). moves: `enforce` refuses a person's move the spec does
    not allow, `record` applies it; both report a Violation. on_error: `stop`
    raises engine.simulate.BadLine at the first bad line, `skip` sets it aside
    in `result.rejects`. Raises SpecError when the spec has errors or `funnel lint` reports
    errors for it (a spec given as a path).
    """
    from .engine.simulate import replay_events

    return replay_events(_checked(spec), events, until=until, moves=moves, on_error=on_error, csv_map=csv_map)


def diff(old, new, events=None, *, funnel: str | None = None, until=None, moves: str = "enforce",
         csv_map: dict[str, str] | None = None, workers: int = 1):
    """What changing spec `old` into `new` changes: a Plan (engine/diff_plan.py).

    Without events, the structural changes; with events (as for `simulate`),
    both specs replay the history, read once, and the plan lists the deals
    whose outcome, path or actions differ and the metric deltas. Specs are
    paths or checked Specs; raises SpecError when either has errors (lint's too, for a path).
    `workers` above 1 replays a history file on that many processes (the
    same plan; engine/diff_shares.py).
    """
    from .engine.diff_plan import plan_diff

    return plan_diff(_checked(old), _checked(new), events, funnel=funnel, until=until, moves=moves,
                     csv_map=csv_map, workers=workers)


def _checked(spec) -> Spec:
    if isinstance(spec, Spec):
        return spec
    path = str(spec)
    analysis = analyse_runnable(path)
    if analysis.spec is None:
        raise SpecError(path, analysis.diagnostics)
    return analysis.spec


def fit(spec, events, *, by: str | None = None, min_deals: int = 30, until=None,
        csv_map: dict[str, str] | None = None):
    """The behaviour of a history replayed through a spec: a FittedModel (engine/forecast/fit.py).

    by: a deal field; each of its values gets its own figures (a stage with
    fewer than `min_deals` visits in a group uses the whole history's).
    Raises SpecError, ValueError for a `by` that no funnel has as a field.
    """
    from .engine.forecast.fit import fit_history

    checked = _checked(spec)
    _check_field(checked, by)
    result = simulate(checked, events, until=until, csv_map=csv_map)
    stage_ids = {f.id: tuple(s.id for s in f.stages) for f in checked.funnels}
    end = result.until if result.until is not None else 0.0
    return fit_history(checked.path, stage_ids, result.outcomes, end, by=by, min_deals=min_deals)


def forecast(spec, model, events, *, horizon: float, runs: int = 10_000, seed: int = 0, workers: int = 1,
             until=None, csv_map: dict[str, str] | None = None, bootstrap: bool = True, drift: bool = True):
    """The deals open at the end of `events` run forward `horizon` seconds: a Forecast (engine/forecast/runs.py).

    model: a FittedModel (from `fit`, perhaps on another spec: the behaviour
    stays, the rules are this spec's). The same seed gives the same figures.
    bootstrap: the interval carries the fitted behaviour's own uncertainty;
    drift: and how far the same forecast missed at earlier cuts of `events`
    (engine/forecast/drift.py). Both off: the runs' chance alone.
    """
    from .engine.compile import compile_spec
    from .engine.forecast.forward import forecast_open
    from .engine.forecast.pipeline import unfitted_notes

    checked = _checked(spec)
    result = simulate(checked, events, until=until, csv_map=csv_map)
    cut = result.until if result.until is not None else model.end
    compiled = compile_spec(checked)
    return forecast_open(compiled, model, result.outcomes, cut, horizon, spec=checked.path, runs=runs, seed=seed,
                         workers=workers, bootstrap=bootstrap, drift=drift,
                         notes=model.notes + unfitted_notes(compiled, model))


def backtest(spec, events, *, cuts, horizon: float, runs: int = 2_000, seed: int = 0, by: str | None = None,
             min_deals: int = 30, csv_map: dict[str, str] | None = None, workers: int = 1, bootstrap: bool = True,
             drift: bool = True):
    """Fit at each cut (epoch seconds), forecast, compare with what followed: a Backtest (engine/forecast/backtest.py)."""
    from .engine.forecast.backtest import run_backtest

    checked = _checked(spec)
    _check_field(checked, by)
    return run_backtest(checked, events, list(cuts), horizon, runs=runs, seed=seed, by=by, min_deals=min_deals,
                        csv_map=csv_map, workers=workers, bootstrap=bootstrap, drift=drift)


def history_span(spec, events, *, csv_map: dict[str, str] | None = None) -> tuple[float, float]:
    """The first deal's creation and the history's end, as the replay sees them (for default backtest cuts)."""
    result = simulate(_checked(spec), events, csv_map=csv_map)
    first = min((o.created for o in result.outcomes), default=result.until or 0.0)
    return first, result.until if result.until is not None else first


def _check_field(spec: Spec, by: str | None) -> None:
    if by is None:
        return
    if not any(by in {f.name for f in funnel.fields} for funnel in spec.funnels):
        names = sorted({f.name for funnel in spec.funnels for f in funnel.fields})
        raise ValueError(f"no funnel has a field `{by}`; the fields are {', '.join(names)}")

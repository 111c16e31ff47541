"""`funnel new`: the files of a new funnel project that starts from a template.

`plan_project` renders the files in memory and checks the spec they make
(it must load without errors); `write_project` writes them all or none.
The file texts are `string.Template`s in stdlib/scaffold_files/.
"""
from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from importlib import metadata, resources

from . import sample_events, template_header, template_names, template_summary

NAME = re.compile(r"(?!\d)\w+\Z")


class ScaffoldError(Exception):
    """A request `funnel new` cannot carry out; the message says why and what to do."""


@dataclass(frozen=True)
class ProjectFile:
    path: str          # relative to the project's directory, `/`-separated
    text: str
    role: str          # one line for the listing


def _version() -> str:
    try:
        return metadata.version("funnelspec")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def _render(file_name: str, **values: str) -> str:
    text = resources.files(__package__).joinpath("scaffold_files", file_name).read_text(encoding="utf-8")
    return string.Template(text).substitute(values)


def unknown_template_message(template: str) -> str:
    from ..dsl.spelling import did_you_mean

    known = template_names()
    hint = did_you_mean(template, known)
    return (f"unknown template `{template}`" + (f"; {hint}" if hint else "")
            + f" (templates: {', '.join(known)})")


def _template_title(template: str) -> str:
    """The template funnel's display title, which the new funnel starts with."""
    from ..api import load
    from ..dsl.loader import STD_PREFIX

    spec, _ = load(f"{STD_PREFIX}{template}.funnel")
    return spec.funnels[0].title if spec is not None and spec.funnels else template


def check_name(name: str) -> None:
    if not NAME.match(name):
        suggestion = re.sub(r"\W+", "_", name).strip("_")
        if suggestion and suggestion[0].isdigit():
            suggestion = "funnel_" + suggestion
        raise ScaffoldError(f"`{name}` cannot be a funnel's name: use letters, digits and `_`, not starting "
                            f"with a digit" + (f" (for example `{suggestion}`)" if suggestion else ""))


def plan_project(name: str, template: str, directory: str) -> list[ProjectFile]:
    """The files of a new project; raises ScaffoldError for a bad name or template."""
    check_name(name)
    if template not in template_names():
        raise ScaffoldError(unknown_template_message(template))
    header = "\n".join(f"#   {line}".rstrip() for line in template_header(template))
    values = dict(name=name, template=template, header=header, summary=template_summary(template),
                  title=_template_title(template).replace("\\", "\\\\").replace('"', '\\"'),
                  version=_version())
    spec = ProjectFile(f"{name}.funnel", _render("spec.funnel.tmpl", **values),
                       f"the funnel: extends std.{template}")
    files = [
        spec,
        ProjectFile(f"{name}.events.jsonl", sample_events(template) or "", "a sample deal stream to simulate"),
        ProjectFile(f"{name}.funnel-test", _journeys(name, template), "journeys the funnel must pass: funnel test"),
        ProjectFile("README.md", _render("README.md.tmpl", **values), "what is here and how to use it"),
        ProjectFile(".github/workflows/funnel.yml", _render("funnel.yml.tmpl", **values),
                    "CI: lints the funnel on every push"),
    ]
    _check_spec(os.path.join(directory, spec.path), spec.text)
    return files


def _journeys(name: str, template: str) -> str:
    """The template's journeys, which the new funnel passes as long as it behaves like the template."""
    from . import template_journeys

    body = template_journeys(template) or ""
    lines = body.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    header = (f"# Journeys of {name}.funnel, taken over from std.{template}: each is one deal's events and the\n"
              f"# outcome it must reach. Run them with `funnel test {name}.funnel-test`; when you change the\n"
              f"# funnel on purpose, change the expectations with it.\n")
    return header + "".join(lines)


def _check_spec(path: str, text: str) -> None:
    """The generated spec must load cleanly; a name the language refuses is reported here."""
    from ..api import analyse
    from ..dsl.diagnostics import Severity

    errors = [d for d in analyse(path, text, lint=False).diagnostics if d.severity >= Severity.ERROR]
    if errors:
        raise ScaffoldError(f"the new spec would not load: {errors[0].message}")


def existing_files(directory: str, files: list[ProjectFile]) -> list[str]:
    return [f.path for f in files if os.path.lexists(os.path.join(directory, *f.path.split("/")))]


def write_project(directory: str, files: list[ProjectFile]) -> None:
    """Write every file, or none: refuses when any exists, removes what it wrote when a write fails."""
    from ..atomic import write_atomically

    clashes = existing_files(directory, files)
    if clashes:
        where = os.path.normpath(directory)
        raise ScaffoldError(f"{', '.join(clashes)} already exist{'s' if len(clashes) == 1 else ''} in "
                            f"`{where}`; nothing was written (choose another `--dir` or move them away)")
    made_dirs: list[str] = []
    written: list[str] = []
    try:
        for f in files:
            target = os.path.join(directory, *f.path.split("/"))
            _make_dirs(os.path.dirname(target), made_dirs)
            write_atomically(target, f.text, exclusive=True)       # whole, and never over a file made meanwhile
            written.append(target)
    except BaseException:
        for path in reversed(written):
            os.unlink(path)
        for path in reversed(made_dirs):
            os.rmdir(path)
        raise


def _make_dirs(path: str, made: list[str]) -> None:
    """Create `path` and its missing parents, remembering each one created (outermost first)."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        os.mkdir(folder)
        made.append(folder)

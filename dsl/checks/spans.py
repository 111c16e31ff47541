"""Where to point: the narrow span of a funnel's name or a stage's title, found in the source text.

The model keeps the span of a whole declaration; a finding about a funnel's
name or a stage's display name reads better underlining just that name.
"""
from __future__ import annotations

import re

from ..model import Funnel, Spec, Stage
from ..source import Span


def _narrow(span: Span, spec: Spec, pattern: re.Pattern, group: int = 0) -> Span:
    source = spec.sources.get(span.file)
    if source is None:
        return span
    match = pattern.match(source.text, span.start)
    if match is None or "\n" in match.group(group):
        return span
    start, end = match.span(group)
    return source.span_at(start, end - start)


_FUNNEL_NAME = re.compile(r"funnel\s+(\w+)")
_STAGE_TITLE = re.compile(r"\s*(\"(?:[^\"\\\n]|\\.)*\")")


def funnel_name_span(funnel: Funnel, spec: Spec) -> Span:
    """The funnel's id in `funnel sales "…" {`; the whole header when the text does not match."""
    return _narrow(funnel.span, spec, _FUNNEL_NAME, 1)


def stage_title_span(stage: Stage, spec: Spec) -> Span:
    """The quoted display name after the stage's id; the id itself when the stage has no title."""
    narrowed = _narrow(stage.id_span, spec, re.compile(re.escape(stage.id) + _STAGE_TITLE.pattern), 1)
    return stage.id_span if narrowed is stage.id_span else narrowed

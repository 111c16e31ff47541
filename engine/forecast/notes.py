"""The forecast's notes: each worded once here, in English, for the JSON and the model; reworded for people.

A note travels as its English text (in the fitted model's file and the
forecast's JSON, which read the same in every language); `note_text` finds the
form it was made from and words it in the language in use.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ...lang import N_, _

NO_EXITS = N_("stage `{stage}` of funnel `{funnel}` has no fitted exits: its deals only move by the spec's timers")
FALLBACK = N_("funnel `{funnel}`, {field} = `{value}`: fewer than {count} deals in {stages}; the whole history's "
              "figures are used there")
SHORT_HISTORY = N_("the history before the cut is too short for an earlier cut date: no drift estimated")
NO_WINS = N_("no earlier cut date with wins to estimate drift from")
UNFITTED = N_("{count} open deal(s) in a funnel the model has no fit for were left out")
FORMS = (NO_EXITS, FALLBACK, SHORT_HISTORY, NO_WINS, UNFITTED)


@lru_cache(maxsize=None)
def _pattern(form: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", form)          # literal, name, literal, name, ...
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts)) + "$",
                      re.S)


def note_text(note: str) -> str:
    """`note` in the language in use: its form translated, the names and figures in it kept; a note of no known
    form (from an older model file) as it is."""
    for form in FORMS:
        found = _pattern(form).match(note)
        if found:
            return _(form).format(**found.groupdict())
    return note

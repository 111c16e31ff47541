"""Sinks that keep a long replay's records out of memory: spooled to disk, counted, rejects written out.

`SpoolingSink` appends each action, violation and problem to a temporary
file (engine/serialize.py `Spool`) and counts them by kind and rule; the
spools stand in for the lists of a ReplayResult, so the JSON document, the
JSON Lines and the reports are written from them at the end. Rejected lines
go verbatim to a rejects file, each after a `# source:line: reason` comment
line (a fixed rejects file can be replayed as it is: comments are skipped).
"""
from __future__ import annotations

import time as _time
from collections import Counter
from typing import IO

from .outcome import ActionRecord, RuntimeProblem, Violation, _iso
from .serialize import Spool, encode_object, encode_text
from .simulate import Sink, raw_text


_PARTS: dict[tuple[str, str, int], tuple[dict, str, str]] = {}
_LAST = ["", '""', None, ""]     # the deal and the time encoded last: an event's records come together
_DAYS: dict[int, str] = {}
_CLOCK = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02d}Z" for s in range(60)]


def _time_text(ts: float) -> str:
    """`outcome.iso(ts)`: whole seconds put together from a day's text and two tables, not by strftime."""
    whole = int(ts)
    if whole != ts or not 0 <= whole < 253402300800:
        return _iso(ts)
    day, second = divmod(whole, 86400)
    text = _DAYS.get(day)
    if text is None:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        text = _DAYS[day] = _time.strftime("%Y-%m-%d", _time.gmtime(day * 86400))
    return text + _CLOCK[second // 60] + _SECONDS[second % 60]


def encode_action(record: ActionRecord) -> str:
    """`dumps(record.to_json())`, byte for byte, at less cost: the kind, rule and span (the same for every
    record of a rule) are encoded once, the deal id once for its records in a row; an ISO time needs no
    escaping."""
    span = record.span
    key = (record.kind, record.rule, id(span))
    parts = _PARTS.get(key)
    if parts is None or parts[0] is not span:
        parts = _PARTS[key] = (span, f'", "kind": {encode_text(record.kind)}, "payload": ',
                               f', "rule": {encode_text(record.rule)}, "span": {encode_object(span)}}}')
    deal = record.deal
    last = _LAST
    if deal is last[0]:
        deal_text = last[1]
    else:
        deal_text = encode_text(deal)
        last[0], last[1] = deal, deal_text
    time = record.time
    if time is None:
        return f'{{"deal": {deal_text}, "time": null{parts[1][1:]}{encode_object(record.payload)}{parts[2]}'
    if time == last[2]:
        time_text = last[3]
    else:
        time_text = _time_text(time)
        last[2], last[3] = time, time_text
    return f'{{"deal": {deal_text}, "time": "{time_text}{parts[1]}{encode_object(record.payload)}{parts[2]}'


class RejectsWriter:
    """Rejected lines, verbatim, each after a comment with where it was and why."""

    def __init__(self, out: IO[bytes] | None, source: str):
        self.out = out
        self.source = source

    def write(self, line: int, raw, reason: str) -> None:
        if self.out is None:
            return
        comment = f"# {self.source}:{line}: {reason}\n".encode("utf-8")
        body = raw if isinstance(raw, bytes) else raw_text(raw).encode("utf-8")
        if not body.endswith(b"\n"):
            body += b"\n"
        self.out.write(comment)
        self.out.write(body)


class SpoolingSink(Sink):
    """Records to temporary files, counts in memory; rejects to a writer and a short list for messages."""

    KEEP_REJECTS = 20

    def __init__(self, rejects: RejectsWriter | None = None):
        self.actions = Spool("actions")
        self._append_action = self.actions.append_encoded      # bound once: called for every record
        self.violations = Spool("violations")
        self.problems = Spool("problems")
        self.action_kinds: Counter[str] = Counter()
        self.action_rules: Counter[tuple[str, str]] = Counter()
        self.rejects_writer = rejects
        self.first_rejects: list[tuple[int, str]] = []

    def action(self, record: ActionRecord) -> None:
        self._append_action(encode_action(record))
        kind = record.kind
        self.action_kinds[kind] += 1
        self.action_rules[(record.rule, kind)] += 1

    def violation(self, record: Violation) -> None:
        self.violations.append(record)

    def problem(self, record: RuntimeProblem) -> None:
        self.problems.append(record)

    def take_encoded(self, section: str, line: str, kind: str | None = None, rule: str | None = None) -> None:
        """A record a worker already encoded (engine/parallel.py): `section` is actions, violations or problems."""
        getattr(self, section).append_encoded(line)
        if section == "actions":
            self.action_kinds[kind] += 1
            self.action_rules[(rule, kind)] += 1

    def reject(self, line: int, raw, reason: str) -> None:
        if len(self.first_rejects) < self.KEEP_REJECTS:
            self.first_rejects.append((line, reason))
        if self.rejects_writer is not None:
            self.rejects_writer.write(line, raw, reason)

    def close(self) -> None:
        for spool in (self.actions, self.violations, self.problems):
            spool.close()

"""Sinks that keep a long replay's records out of memory: spooled to disk, counted, rejects written out.

`SpoolingSink` appends each action, violation and problem to a temporary
file (engine/serialize.py `Spool`) and counts them by kind and rule; the
spools stand in for the lists of a ReplayResult, so the JSON document, the
JSON Lines and the reports are written from them at the end. Rejected lines
go verbatim to a rejects file, each after a `# source:line: reason` comment
line (a fixed rejects file can be replayed as it is: comments are skipped).
"""
from __future__ import annotations

from collections import Counter
from typing import IO

from .encode import encode_action
from .outcome import ActionRecord, RuntimeProblem, Violation
from .serialize import Spool
from .simulate import Sink, raw_text


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
        self.action_rules: Counter[tuple[str, str]] = Counter()     # (rule, kind) -> actions
        self.rejects_writer = rejects
        self.first_rejects: list[tuple[int, str]] = []

    def action(self, record: ActionRecord) -> None:
        self._append_action(encode_action(record))
        self.action_rules[(record.rule, record.kind)] += 1

    @property
    def action_kinds(self) -> Counter[str]:
        """kind -> actions (summed from the counts by rule: one count less for every action)."""
        kinds: Counter[str] = Counter()
        for (_, kind), count in self.action_rules.items():
            kinds[kind] += count
        return kinds

    def violation(self, record: Violation) -> None:
        self.violations.append(record)

    def problem(self, record: RuntimeProblem) -> None:
        self.problems.append(record)

    def adopt(self, section: str, records) -> None:
        """Records encoded elsewhere (engine/shares.py: a parallel replay's workers) replace a section's spool."""
        getattr(self, section).close()
        setattr(self, section, records)

    def reject(self, line: int, raw, reason: str) -> None:
        if len(self.first_rejects) < self.KEEP_REJECTS:
            self.first_rejects.append((line, reason))
        if self.rejects_writer is not None:
            self.rejects_writer.write(line, raw, reason)

    def close(self) -> None:
        for spool in (self.actions, self.violations, self.problems):
            spool.close()

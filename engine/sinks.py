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


class CountedActions:
    """The actions of a run that writes none of them (a summary, a report): how many, by rule and kind."""

    def __init__(self, counts: Counter):
        self.counts = counts

    def __len__(self) -> int:
        return sum(self.counts.values())

    def __iter__(self):
        raise RuntimeError("the actions were counted, not kept: replay with a SpoolingSink(actions='text')")

    def close(self) -> None:
        pass


class SpoolingSink(Sink):
    """Records to temporary files, counts in memory; rejects to a writer and a short list for messages.

    actions: "text" spools each action as its JSON text, made by the replay straight from the action's
    templates; "count" only counts them by rule and kind, for a run whose output never shows one (the
    summary, a report): building and encoding records nobody reads was a third of such a run."""

    KEEP_REJECTS = 20

    def __init__(self, rejects: RejectsWriter | None = None, actions: str = "text"):
        if actions not in ("text", "count"):
            raise ValueError(f"actions must be `text` or `count`, not `{actions}`")
        self.action_form = actions
        self.action_rules: Counter[tuple[str, str]] = Counter()     # (rule, kind) -> actions
        self.actions = Spool("actions") if actions == "text" else CountedActions(self.action_rules)
        self._append_action = getattr(self.actions, "append_encoded", None)   # bound once: called for every record
        if actions == "text":
            # The replay hands each action's text straight to the spool: a written result needs no count by rule
            # (only the summary shows those, and it is made from a run that counts).
            self.action_text = self._append_action
        self.violations = Spool("violations")
        self.problems = Spool("problems")
        self.rejects_writer = rejects
        self.first_rejects: list[tuple[int, str]] = []

    def action(self, record: ActionRecord) -> None:
        if self._append_action is not None:
            self._append_action(encode_action(record))
        self.action_rules[(record.rule, record.kind)] += 1

    def action_text(self, text: str, key: tuple[str, str], deal: str) -> None:
        self._append_action(text)

    @property
    def action_kinds(self) -> Counter[str]:
        """kind -> actions (summed from the counts by rule: one count less for every action); kept by a sink that
        counts (actions="count") or is given records, not by one the replay hands the text."""
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

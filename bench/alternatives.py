"""The benchmark's funnel on the general-purpose libraries a Python team would otherwise pick.

pytransitions (a Machine per deal), python-statemachine
(a StateMachine per deal), business-rules (the transitions as JSON rules run
on every event) and rule-engine (each criterion as a rule-engine expression,
the stages by hand). None of them reads streams or keeps timers, so all four
share one event loop: the same JSON reader and time parsing as bench/plain.py,
the same fields, and a heap per deal for the `after`/`every` timers. What each
library does is what it is for: deciding and making the moves. They are
installed from bench/requirements.txt, never by the package. `CompiledCriteria`
is not one of them: it is funnelspec's own compiled criteria in the same loop,
for a comparison of the rules' evaluation on the same footing.
"""
from __future__ import annotations

from datetime import datetime
from heapq import heappop, heappush
from operator import itemgetter

from .plain import LOSE_AFTER, REMIND, STAGES, loads_function

CRITERIA = (            # (from, to, criterion as a rule-engine expression), in the spec's order
    ("new", "lost", 'segment == "spam"'),
    ("new", "qualified", 'score >= 30 and segment != "spam"'),
    ("qualified", "demo", "demo_done"),
    ("demo", "proposal", "proposal_sent"),
    ("proposal", "negotiation", "score >= 60"),
    ("negotiation", "won", "paid >= budget"),
)
TESTS = {               # the same criteria as Python, for the libraries that take callables
    'segment == "spam"': lambda f: f["segment"] == "spam",
    'score >= 30 and segment != "spam"': lambda f: f["score"] >= 30 and f["segment"] != "spam",
    "demo_done": lambda f: f["demo_done"],
    "proposal_sent": lambda f: f["proposal_sent"],
    "score >= 60": lambda f: f["score"] >= 60,
    "paid >= budget": lambda f: f["paid"] >= f["budget"],
}
OPEN = STAGES[:5]
TIMED = {STAGES[s]: delay for s, delay in LOSE_AFTER.items()}


# the libraries: new(fields) -> deal, stage(deal), advance(deal) -> moved?, lose(deal) ---------------------

class Transitions:
    name = "pytransitions"

    def __init__(self):
        from transitions import Machine

        rules = [{"trigger": "advance", "source": a, "dest": b, "conditions": [TESTS[c]]} for a, b, c in CRITERIA]
        rules.append({"trigger": "lose", "source": list(OPEN), "dest": "lost"})
        self.machine, self.rules = Machine, rules

    def new(self, fields: dict):
        """A Machine per deal: one shared Machine's add_model checks every model it has (quadratic)."""
        deal = _Model(fields)
        self.machine(model=deal, states=list(STAGES), transitions=self.rules, initial="new",
                     auto_transitions=False, ignore_invalid_triggers=True)
        return deal

    def stage(self, deal) -> str:
        return deal.state

    def advance(self, deal) -> bool:
        return deal.advance(deal.fields)

    def lose(self, deal) -> None:
        deal.lose()


class _Model:
    def __init__(self, fields: dict):
        self.fields = fields


class StateMachines:
    name = "python-statemachine"

    def __init__(self):
        from statemachine import State, StateMachine

        states = {s: State(initial=s == "new", final=s in ("won", "lost")) for s in STAGES}
        namespace = dict(states)
        advance = None
        for a, b, c in CRITERIA:
            step = states[a].to(states[b], cond=_condition(TESTS[c]))
            advance = step if advance is None else advance | step
        lose = None
        for a in OPEN:
            step = states[a].to(states["lost"])
            lose = step if lose is None else lose | step
        namespace.update(advance=advance, lose=lose, allow_event_without_transition=True,
                         __init__=_machine_init)
        self.machine_class = type("Pipeline", (StateMachine,), namespace)

    def new(self, fields: dict):
        return self.machine_class(fields)

    def stage(self, deal) -> str:
        return deal.current_state_value

    def advance(self, deal) -> bool:
        before = deal.current_state_value
        deal.send("advance")
        return deal.current_state_value != before

    def lose(self, deal) -> None:
        deal.send("lose")


def _condition(test):
    def holds(machine) -> bool:
        return test(machine.fields)
    return holds


def _machine_init(self, fields: dict) -> None:
    self.fields = fields
    super(type(self), self).__init__()


class BusinessRules:
    name = "business-rules"

    def __init__(self):
        from business_rules import run_all
        from business_rules.actions import BaseActions, rule_action
        from business_rules.fields import FIELD_TEXT
        from business_rules.variables import (BaseVariables, boolean_rule_variable, numeric_rule_variable,
                                              string_rule_variable)

        class Variables(BaseVariables):
            def __init__(self, deal):
                self.deal = deal

            @string_rule_variable
            def stage(self):
                return self.deal[0]

            @string_rule_variable
            def segment(self):
                return self.deal[1]["segment"]

            @numeric_rule_variable
            def score(self):
                return self.deal[1]["score"]

            @numeric_rule_variable
            def unpaid(self):
                return self.deal[1]["budget"] - self.deal[1]["paid"]

            @boolean_rule_variable
            def demo_done(self):
                return self.deal[1]["demo_done"]

            @boolean_rule_variable
            def proposal_sent(self):
                return self.deal[1]["proposal_sent"]

        class Actions(BaseActions):
            def __init__(self, deal):
                self.deal = deal

            @rule_action(params={"to": FIELD_TEXT})
            def move(self, to):
                self.deal[0] = to

        def when(stage: str, *more: dict) -> dict:
            return {"all": [{"name": "stage", "operator": "equal_to", "value": stage}, *more]}

        spam = {"name": "segment", "operator": "equal_to", "value": "spam"}
        self.rules = [{"conditions": condition, "actions": [{"name": "move", "params": {"to": target}}]}
                      for condition, target in (
                          (when("new", spam), "lost"),
                          (when("new", {"name": "score", "operator": "greater_than_or_equal_to", "value": 30}),
                           "qualified"),           # after the spam rule: the first that holds wins, as in the spec
                          (when("qualified", {"name": "demo_done", "operator": "is_true", "value": True}), "demo"),
                          (when("demo", {"name": "proposal_sent", "operator": "is_true", "value": True}),
                           "proposal"),
                          (when("proposal", {"name": "score", "operator": "greater_than_or_equal_to",
                                             "value": 60}), "negotiation"),
                          (when("negotiation", {"name": "unpaid", "operator": "less_than_or_equal_to",
                                                "value": 0}), "won"))]
        self.run_all, self.variables, self.actions = run_all, Variables, Actions

    def new(self, fields: dict):
        return ["new", fields]

    def stage(self, deal) -> str:
        return deal[0]

    def advance(self, deal) -> bool:
        return self.run_all(self.rules, self.variables(deal), self.actions(deal), stop_on_first_trigger=True)

    def lose(self, deal) -> None:
        deal[0] = "lost"


class RuleEngine:
    name = "rule-engine"

    def __init__(self):
        import rule_engine

        self.by_stage: dict[str, list] = {s: [] for s in STAGES}
        for a, b, criterion in CRITERIA:
            self.by_stage[a].append((rule_engine.Rule(criterion), b))

    def new(self, fields: dict):
        return ["new", fields]

    def stage(self, deal) -> str:
        return deal[0]

    def advance(self, deal) -> bool:
        for rule, target in self.by_stage[deal[0]]:
            if rule.matches(deal[1]):
                deal[0] = target
                return True
        return False

    def lose(self, deal) -> None:
        deal[0] = "lost"


class CompiledCriteria:
    """Not an alternative: funnelspec's own compiled criteria and per-stage tables (engine/compile.py) in this
    loop, deciding the moves as the libraries do, for a comparison on the same footing (no reading, checking or
    records of the engine's own)."""

    name = "funnelspec criteria"

    def __init__(self):
        import tempfile
        from pathlib import Path

        from funnelspec.api import load
        from funnelspec.engine.compile import compile_spec

        from .workload import write_spec

        with tempfile.TemporaryDirectory() as folder:
            spec, diagnostics = load(str(write_spec(Path(folder))))
        if spec is None:
            raise SystemExit(f"the workload's funnel does not load: {diagnostics[:1]}")
        funnel = compile_spec(spec).funnels[0]
        self.values = itemgetter(*funnel.field_names)      # the engine keeps a deal's fields in this order
        # each stage's generated function (engine/codegen.py `add_cascade`), as the replay calls it
        self.auto = {s.id: (s.cascade, tuple(funnel.stages[t.target].id for t in s.auto)) for s in funnel.stages
                     if s.cascade is not None}

    def new(self, fields: dict):
        return ["new", fields]

    def stage(self, deal) -> str:
        return deal[0]

    def advance(self, deal) -> bool:
        auto = self.auto.get(deal[0])
        if auto is None:
            return False
        k = auto[0](self.values(deal[1]), 0.0, 0.0, self, deal)
        if k < 0:
            return False
        deal[0] = auto[1][k]
        return True

    def auto_failed(self, deal, now: float, k: int, which: str, err: Exception) -> None:
        raise err                               # the workload's criteria do not fail: if one does, say so

    def lose(self, deal) -> None:
        deal[0] = "lost"


LIBRARIES = (RuleEngine, BusinessRules, Transitions, StateMachines)


# the shared event loop ------------------------------------------------------------------------------------

def replay(library, path: str) -> tuple[dict[str, str], int]:
    """(final stage by deal, events applied): the workload's rules around `library`'s moves."""
    with open(path, "rb") as lines:
        return replay_events(library, map(loads_function(), lines))


def replay_events(library, events) -> tuple[dict[str, str], int]:
    """`replay` on events already decoded (or decoded as they come)."""
    fromiso = datetime.fromisoformat
    stage_of, advance = library.stage, library.advance
    deals: dict[str, list] = {}         # deal id -> [library's deal, fields, timers, sequence]
    latest = None
    count = 0

    def settle(d: list, now: float, before: str) -> None:
        while advance(d[0]):
            pass
        after = stage_of(d[0])
        if after != before:
            enter(d, after, now)

    def enter(d: list, stage: str, now: float) -> None:
        timers = d[2] = []
        if stage in TIMED:
            d[3] += 1
            heappush(timers, (now + TIMED[stage], d[3], "lose"))
        elif stage == "negotiation":
            d[3] += 1
            heappush(timers, (now + REMIND, d[3], "remind"))

    def fire_due(d: list, until: float) -> None:
        while d[2] and d[2][0][0] <= until:
            due, _, what = heappop(d[2])
            before = stage_of(d[0])
            if what == "lose":
                library.lose(d[0])
                enter(d, "lost", due)
                before = "lost"
            elif d[1]["paid"] < d[1]["budget"]:
                d[3] += 1
                heappush(d[2], (due + REMIND, d[3], "remind"))
            settle(d, due, before)

    for event in events:
        now = fromiso(event["ts"]).timestamp()
        deal = event["deal"]
        kind = event["type"]
        count += 1
        if latest is None or now > latest:
            latest = now
        if kind == "created":
            fields = {"score": 0, "demo_done": False, "proposal_sent": False, "paid": 0, "manager": "team"}
            fields.update(event["fields"])
            d = deals[deal] = [library.new(fields), fields, [], 0]
            enter(d, "new", now)
            settle(d, now, "new")
            continue
        d = deals[deal]
        if d[2] and d[2][0][0] <= now:
            fire_due(d, now)
        f = d[1]
        before = stage_of(d[0])
        if kind == "event":
            name = event["name"]
            if name == "call":
                f["score"] += 10
            elif name == "demo":
                f["demo_done"] = True
            elif name == "proposal":
                f["proposal_sent"] = True
            else:
                f["paid"] += event["data"]["amount"]
        elif kind == "updated":
            f.update(event["fields"])
        elif before in OPEN:
            library.lose(d[0])
            enter(d, "lost", now)
            before = "lost"
        settle(d, now, before)
    for d in deals.values():
        if latest is not None and d[2] and d[2][0][0] <= latest:
            fire_due(d, latest)
    return {deal: stage_of(d[0]) for deal, d in deals.items()}, count


"""Built-in functions: run-time behaviour (time zones, DST, holidays) and type checking of calls."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from funnelspec.api import analyse
from funnelspec.stdlib import dates
from funnelspec.stdlib.functions import EXAMPLE_FIELDS, FUNCTIONS, bind_functions

from conftest import ROOT

RU_JANUARY = frozenset({"2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08",
                        "2026-01-09"})


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def call(name: str, *args, **kwargs):
    return FUNCTIONS[name].impl(*args, **kwargs)


def local(value: float, zone: str) -> str:
    return dt.datetime.fromtimestamp(value, ZoneInfo(zone)).isoformat()


# Dates and time zones ---------------------------------------------------------------

def test_start_of_day_defaults_to_utc():
    assert call("start_of_day", ts("2026-03-02T22:30:00+00:00")) == ts("2026-03-02T00:00:00+00:00")


def test_start_of_day_in_a_zone_takes_the_local_date():
    # 22:30 UTC is already 01:30 the next day in Moscow (UTC+3, no DST)
    start = call("start_of_day", ts("2026-03-02T22:30:00+00:00"), "Europe/Moscow")
    assert local(start, "Europe/Moscow") == "2026-03-03T00:00:00+03:00"


def test_start_of_day_across_spring_forward_is_23_hours_apart():
    # Berlin moves from +01:00 to +02:00 on 2026-03-29
    sunday = call("start_of_day", ts("2026-03-29T12:00:00+00:00"), "Europe/Berlin")
    monday = call("start_of_day", ts("2026-03-30T12:00:00+00:00"), "Europe/Berlin")
    assert local(sunday, "Europe/Berlin") == "2026-03-29T00:00:00+01:00"
    assert local(monday, "Europe/Berlin") == "2026-03-30T00:00:00+02:00"
    assert monday - sunday == 23 * 3600


def test_start_of_day_when_midnight_does_not_exist():
    # Havana jumps from 00:00 to 01:00 on 2026-03-08: the day starts at 01:00 local
    start = call("start_of_day", ts("2026-03-08T12:00:00+00:00"), "America/Havana")
    assert local(start, "America/Havana") == "2026-03-08T01:00:00-04:00"
    assert local(start - 1, "America/Havana").startswith("2026-03-07T23:59:59")


def test_start_of_day_when_midnight_happens_twice_takes_the_first():
    # Havana falls back from 01:00 to 00:00 on 2026-11-01
    start = call("start_of_day", ts("2026-11-01T12:00:00+00:00"), "America/Havana")
    assert start == ts("2026-11-01T00:00:00-04:00")


def test_start_of_week_is_monday_midnight_local():
    start = call("start_of_week", ts("2026-03-01T22:00:00+00:00"), "Europe/Moscow")  # Monday 01:00 in Moscow
    assert local(start, "Europe/Moscow") == "2026-03-02T00:00:00+03:00"
    utc = call("start_of_week", ts("2026-03-01T22:00:00+00:00"))                      # still Sunday in UTC
    assert utc == ts("2026-02-23T00:00:00+00:00")


def test_start_of_month_across_a_dst_change():
    start = call("start_of_month", ts("2026-04-15T08:00:00+00:00"), "America/New_York")
    assert local(start, "America/New_York") == "2026-04-01T00:00:00-04:00"
    winter = call("start_of_month", ts("2026-03-05T08:00:00+00:00"), "America/New_York")
    assert local(winter, "America/New_York") == "2026-03-01T00:00:00-05:00"


def test_weekday_is_iso_and_depends_on_the_zone():
    sunday_night_utc = ts("2026-03-01T22:00:00+00:00")
    assert call("weekday", sunday_night_utc) == 7
    assert call("weekday", sunday_night_utc, "Europe/Moscow") == 1
    assert call("weekday", sunday_night_utc, "America/Los_Angeles") == 7


def test_days_between_keeps_the_fraction_and_the_sign():
    a, b = ts("2026-03-01T00:00:00+00:00"), ts("2026-03-02T12:00:00+00:00")
    assert call("days_between", a, b) == 1.5
    assert call("days_between", b, a) == -1.5


def test_business_days_skip_weekends():
    monday, next_monday = ts("2026-03-02T09:00:00+00:00"), ts("2026-03-09T09:00:00+00:00")
    assert call("business_days_between", monday, next_monday) == 5
    assert call("business_days_between", next_monday, monday) == -5
    assert call("business_days_between", monday, monday) == 0


def test_business_days_skip_the_holiday_calendar():
    start, end = ts("2025-12-31T10:00:00+03:00"), ts("2026-01-12T10:00:00+03:00")
    assert call("business_days_between", start, end, "Europe/Moscow") == 8
    assert call("business_days_between", start, end, "Europe/Moscow", holidays=RU_JANUARY) == 1


def test_business_days_ignore_holidays_on_weekends():
    monday, next_monday = ts("2026-03-02T09:00:00+00:00"), ts("2026-03-09T09:00:00+00:00")
    assert call("business_days_between", monday, next_monday, holidays=frozenset({"2026-03-07"})) == 5
    assert call("business_days_between", monday, next_monday, holidays=frozenset({"2026-03-06"})) == 4


def test_business_days_count_local_dates():
    # Friday 22:00 UTC is Saturday 01:00 in Moscow: in Moscow the Friday is over
    friday_night, monday = ts("2026-03-06T22:00:00+00:00"), ts("2026-03-09T06:00:00+00:00")
    assert call("business_days_between", friday_night, monday) == 1
    assert call("business_days_between", friday_night, monday, "Europe/Moscow") == 0


@given(st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)), st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)),
       st.frozensets(st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat), max_size=20))
def test_business_days_agree_with_counting_day_by_day(a, b, holidays):
    def at_noon(d):
        return dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.timezone.utc).timestamp()

    lo, hi = min(a, b), max(a, b)
    count = sum(1 for n in range((hi - lo).days) if dates.is_working_day(lo + dt.timedelta(days=n), holidays))
    expected = count if b >= a else -count
    assert call("business_days_between", at_noon(a), at_noon(b), holidays=holidays) == expected


def test_add_business_days_skips_the_weekend_and_keeps_the_local_time_across_dst():
    friday = ts("2026-03-27T10:00:00+01:00")          # Berlin, the Friday before the clocks change
    monday = call("add_business_days", friday, 1, "Europe/Berlin")
    assert local(monday, "Europe/Berlin") == "2026-03-30T10:00:00+02:00"
    assert monday - friday == 71 * 3600


def test_add_business_days_skips_holidays_and_rolls_off_days():
    new_year = ts("2025-12-31T15:00:00+03:00")
    after = call("add_business_days", new_year, 1, "Europe/Moscow", holidays=RU_JANUARY)
    assert local(after, "Europe/Moscow") == "2026-01-12T15:00:00+03:00"
    saturday = ts("2026-03-07T09:00:00+00:00")
    assert call("add_business_days", saturday, 0) == ts("2026-03-09T09:00:00+00:00")
    assert call("add_business_days", saturday, -1) == ts("2026-03-05T09:00:00+00:00")


def test_add_business_days_refuses_a_fraction_and_an_absurd_count():
    with pytest.raises(ValueError, match="whole number"):
        call("add_business_days", ts("2026-03-02T09:00:00+00:00"), 1.5)
    with pytest.raises(ValueError, match="century"):
        call("add_business_days", ts("2026-03-02T09:00:00+00:00"), 10**7)


def test_an_unknown_zone_at_run_time_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown time zone `Mars/Olympus`"):
        call("start_of_day", 0.0, "Mars/Olympus")


def test_bound_functions_receive_the_funnels_holidays():
    bound = bind_functions(["2026-03-06"])
    monday, next_monday = ts("2026-03-02T09:00:00+00:00"), ts("2026-03-09T09:00:00+00:00")
    assert bound["business_days_between"](monday, next_monday) == 4
    assert bound["add_business_days"](ts("2026-03-05T09:00:00+00:00"), 1) == ts("2026-03-09T09:00:00+00:00")
    assert bound["lower"]("АБВ") == "абв"


# Text, numbers, optional values ------------------------------------------------------

@pytest.mark.parametrize("name, args, expected", [
    ("lower", ("ИВАНОВА Anna",), "иванова anna"),
    ("upper", ("ооо ромашка",), "ООО РОМАШКА"),
    ("contains", ("ООО Ромашка", "Ромаш"), True),
    ("contains", ("ООО Ромашка", "ромаш"), False),
    ("starts_with", ("+7 999 123", "+7"), True),
    ("ends_with", ("anna@mail.ru", ".ru"), True),
    ("ends_with", ("anna@mail.ru", ".com"), False),
    ("matches", ("anna@yandex.ru", r"@(gmail|yandex)\."), True),
    ("matches", ("anna@mail.ru", r"^\S+@gmail\.com$"), False),
    ("matches", ("Заказ №123", r"№\d+"), True),
    ("length", ("Иванова",), 7),
    ("min", (3, 1.5, 2), 1.5),
    ("max", (3, 1.5, 7), 7),
    ("abs", (-86400,), 86400),
    ("round", (2.5,), 2),
    ("round", (3.14159, 2), 3.14),
    ("coalesce", (None, None, "x"), "x"),
    ("coalesce", (None, None), None),
])
def test_function_results(name, args, expected):
    assert call(name, *args) == expected


@pytest.mark.parametrize("name, args", [
    ("lower", (None,)), ("contains", ("abc", None)), ("min", (1, None)), ("round", (None, 2)),
    ("start_of_day", (None, "Europe/Moscow")), ("business_days_between", (0.0, None)),
    ("days_between", (None, 0.0)), ("weekday", (None,)),
])
def test_an_unset_argument_gives_an_unset_result(name, args):
    assert call(name, *args) is None


def test_matches_with_a_bad_pattern_at_run_time_is_a_clear_error():
    with pytest.raises(ValueError, match="not a valid pattern"):
        call("matches", "abc", "[a-")


# Type checking -----------------------------------------------------------------------

FIELDS = "\n".join(f"    {name}: {kind}" for name, kind in EXAMPLE_FIELDS.items())


def check(condition: str, extra: str = ""):
    """Errors in a funnel whose last line is the criterion `condition`."""
    text = f"""funnel f {{
  fields {{
{FIELDS}
  }}
  stage new {{ start }}
  stage won {{ won }}
  stage lost {{ lost }}
  {extra}
  any -> lost
  new -> won when {condition}
}}
"""
    result = analyse("<test>.funnel", text, lint=False)
    return [d for d in result.diagnostics if d.severity.word == "error"]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_example_type_checks(name):
    example = FUNCTIONS[name].example
    expression = example if any(op in example for op in ("==", "<", ">", "!=")) else f"{example} is set"
    assert check(expression) == []


@pytest.mark.parametrize("condition, culprit, message", [
    ('length(budget) > 1', "budget", "`length`: `text` must be text, found `money`"),
    ('contains(company, 7)', "7", "`contains`: `part` must be text, found `int`"),
    ('start_of_day(budget) > now', "budget", "`start_of_day`: `time` must be a date or datetime, found `money`"),
    ('weekday(now, 3) == 1', "3", "`weekday`: `zone` must be text, found `int`"),
    ('start_of_day(now, "Europe/Moskow") > now', '"Europe/Moskow"',
     "`start_of_day`: unknown time zone `Europe/Moskow`"),
    ('matches(email, "(a")', '"(a"',
     "`matches`: `(a` is not a valid pattern: missing ), unterminated subpattern at position 0"),
    ('round(budget, 0.5) > 0', "0.5", "`round`: `0.5` is not a whole number"),
    ('max(budget, now) > 0', "now", "`max`: argument 2 is `datetime`, but the first is `money`"),
    ('lower(email, phone) == ""', "phone", "`lower`: takes 1 argument, given 2"),
    ('min(budget) > 0', "min(budget)", "`min`: takes 2 or more arguments, given 1"),
    ('add_business_days(now, 1.5) > now', "1.5", "`add_business_days`: `1.5` is not a whole number"),
])
def test_a_wrong_argument_is_pointed_at(condition, culprit, message):
    found = check(condition)
    assert [(d.code, d.message) for d in found] == [("FNL302", message)]
    line = f"  new -> won when {condition}"
    assert found[0].span.column == line.index(culprit) + 1
    assert found[0].span.end_column == line.index(culprit) + len(culprit) + 1


def test_a_misspelt_zone_gets_a_suggestion():
    [found] = check('weekday(now, "europe/moscow") == 1')
    assert found.hint == "did you mean `Europe/Moscow`?"


def test_a_zone_in_a_field_is_checked_only_at_run_time():
    assert check("weekday(now, company) == 1") == []


def test_optional_arguments_make_optional_results():
    assert check("start_of_day(meeting_at) > now") == []
    result = analyse("<t>.funnel", """funnel f {
  fields { meeting_at: datetime?  created_at: datetime  day: datetime = 2026-01-01 }
  stage new { start }
  stage won { won }
  stage lost { lost }
  new -> won when day > now
  any -> lost
  on enter new: set day = start_of_day(meeting_at)
  on enter won: set day = start_of_day(coalesce(meeting_at, created_at))
}
""", lint=False)
    errors = [(d.span.line, d.message) for d in result.diagnostics if d.severity.word == "error"]
    assert errors == [(8, "cannot set `day` (`datetime`) to `start_of_day(meeting_at)` (`datetime?`)")]



# The funnel's holidays reach the functions through a replay --------------------------

HOLIDAY_SPEC = """funnel calls {
  holidays [2026-01-01, 2026-01-02, 2026-01-05, 2026-01-06, 2026-01-07, 2026-01-08, 2026-01-09]
  fields { manager: text?  called: bool = false }
  stage new { start  sla 1d }
  stage waiting { sla 30d }
  stage late { sla 1d }
  stage won { won }
  stage lost { lost }
  new -> waiting when called
  waiting -> late when business_days_between(start_of_day(now, "Europe/Moscow"), now + 30d, "Europe/Moscow") < 16
  late -> won when called
  any -> lost
  rule call on enter new: task "Позвонить" due add_business_days(now, 1, "Europe/Moscow") for manager
}
"""


def replay_holiday_spec(created_at: str):
    from funnelspec.api import load, simulate

    spec, diagnostics = load("<calls>.funnel", HOLIDAY_SPEC)
    assert spec is not None, diagnostics
    events = [{"id": "1", "deal": "D-1", "ts": created_at, "type": "created", "fields": {"manager": "Иванова"}},
              {"id": "2", "deal": "D-1", "ts": created_at, "type": "updated", "fields": {"called": True}}]
    return simulate(spec, events)


def test_a_replay_passes_the_funnels_holidays_to_the_functions():
    result = replay_holiday_spec("2025-12-31T15:00:00+03:00")
    [task] = [a for a in result.actions if a.kind == "task"]
    assert task.payload["due"] == "2026-01-12T12:00:00Z"      # 15:00 in Moscow, after the New Year holidays
    [outcome] = result.outcomes
    assert outcome.status == "won"                            # 30 days hold only 15 working days here


def test_without_holidays_in_the_way_the_same_rules_differ():
    result = replay_holiday_spec("2026-03-02T15:00:00+03:00")
    [task] = [a for a in result.actions if a.kind == "task"]
    assert task.payload["due"] == "2026-03-03T12:00:00Z"
    assert result.outcomes[0].stage == "waiting"               # 30 days hold 22 working days


def test_the_reference_evaluator_passes_holidays_too():
    from funnelspec.dsl import ast
    from funnelspec.dsl.source import Span
    from funnelspec.engine.evaluate import Env, evaluate

    span = Span("<t>", 1, 1, 1, 1)
    call_expr = ast.Call(ast.Ident("business_days_between", span),
                         (ast.Name("start", span), ast.Name("end", span)), span)
    fields = {"start": ts("2026-03-02T09:00:00+00:00"), "end": ts("2026-03-09T09:00:00+00:00")}
    assert evaluate(call_expr, Env(fields, "new", 0.0, 0.0)) == 5
    assert evaluate(call_expr, Env(fields, "new", 0.0, 0.0, holidays=("2026-03-06",))) == 4


# The documentation ------------------------------------------------------------------

def functions_section() -> str:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    start = text.index("## Functions")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_every_function_is_documented_with_its_example():
    section = functions_section()
    for name, fn in FUNCTIONS.items():
        assert f"`{fn.signature}`" in section, name
        assert f"`{fn.example}`" in section, name


def test_the_documented_example_funnel_lints_clean():
    [example] = re.findall(r"```funnel\n(.*?)```", functions_section(), re.S)
    result = analyse("<docs>.funnel", example)
    assert [f"{d.span.line}: {d.code} {d.message}" for d in result.diagnostics] == []

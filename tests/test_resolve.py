"""The resolver's semantics: templates merged (replace, add, drop, place), imports by alias,
and the model a funnel extending another ends up with."""
from __future__ import annotations

import textwrap

import pytest

from funnelspec.api import analyse

BASE = """
funnel base "Общая воронка" {
  currency RUB
  value budget
  holidays [2026-01-01]
  fields { budget: money = 0  manager: text?  paid: money = 0  source: text = "" }
  events { payment { amount: money } }
  block "Начало" {
    stage new "Новый лид" { start  sla 1d }
    stage qualification "Квалификация" { probability 10% }
  }
  stage proposal "Коммерческое предложение" { probability 50% }
  stage won "Успех" { won }
  stage lost "Отклонено" { lost }
  new -> qualification when manager is set
  qualification -> proposal
  proposal -> won when paid >= budget
  any -> lost
  rule count on event payment: set paid = paid + event.amount
  rule remind every 7d in proposal while paid < budget: notify manager "Напомнить"
}
"""


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)      # diagnostics name files relative to the working directory


def resolve(tmp_path, main: str, **files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "main.funnel").write_text(textwrap.dedent(main), encoding="utf-8")
    result = analyse(str(tmp_path / "main.funnel"), lint=False)
    return result


def funnel(result, name):
    assert [d.message for d in result.diagnostics] == []
    return result.spec.funnel_by_id[name]


def base_text():
    return BASE


def test_extending_funnel_inherits_everything(tmp_path):
    result = resolve(tmp_path, 'import "base.funnel"\nfunnel sales "Продажи" extends base { }\n',
                     **{"base.funnel": base_text()})
    sales = funnel(result, "sales")
    assert sales.extends == ("base",)
    assert (sales.currency, sales.value_field, sales.holidays) == ("RUB", "budget", ("2026-01-01",))
    assert [s.id for s in sales.stages] == ["new", "qualification", "proposal", "won", "lost"]
    assert [s.block for s in sales.stages] == ["Начало", "Начало", None, None, None]
    assert [r.name for r in sales.rules] == ["count", "remind"]
    assert {s.span.file for s in sales.stages} == {"base.funnel"}


def test_replace_add_drop_and_place(tmp_path):
    main = """
    import "base.funnel"
    funnel sales "Продажи" extends base {
      currency USD
      fields { budget: number = 1  meeting_at: datetime? }
      stage qualification "Квалификация (новая)" { probability 20% }
      stage meeting "Встреча" after qualification { require meeting_at is set }
      stage review "Проверка" { }
      qualification -> meeting when meeting_at is set
      meeting -> proposal
      proposal -> review
      review -> won
      qualification -> proposal when manager is set
      rule remind every 3d in proposal: notify manager "Чаще"
      drop rule count
      drop field source
    }
    """
    sales = funnel(resolve(tmp_path, main, **{"base.funnel": base_text()}), "sales")
    assert sales.currency == "USD"
    assert [s.id for s in sales.stages] == ["new", "qualification", "meeting", "proposal", "review", "won", "lost"]
    assert [s.index for s in sales.stages] == list(range(7))
    qualification = sales.stage_by_id["qualification"]
    assert (qualification.title, qualification.probability, qualification.block) == ("Квалификация (новая)", 0.2,
                                                                                     "Начало")
    assert sales.field_by_name["budget"].type.kind == "number"
    assert "source" not in sales.field_by_name
    replaced = [t for t in sales.transitions if (t.source, t.target) == ("qualification", "proposal")]
    assert len(replaced) == 1 and replaced[0].automatic
    assert [(r.name, r.delay) for r in sales.rules] == [("remind", 3 * 86400)]


def test_drop_stage_takes_its_transitions_and_timers(tmp_path):
    main = """
    import "base.funnel"
    funnel sales "Продажи" extends base {
      drop stage proposal
      qualification -> won when paid >= budget
    }
    """
    sales = funnel(resolve(tmp_path, main, **{"base.funnel": base_text()}), "sales")
    assert "proposal" not in sales.stage_by_id
    assert all("proposal" not in (t.source, t.target) for t in sales.transitions)
    assert [r.name for r in sales.rules] == ["count"]


def test_templates_chain_nearest_first_and_import_alias(tmp_path):
    main = """
    import "lib/middle.funnel" as lib
    funnel sales "Продажи" extends lib.middle {
      stage proposal "КП" { probability 60% }
    }
    """
    middle = """
    import "../base.funnel"
    funnel middle "Средняя" extends base {
      stage proposal "Предложение" { probability 40% }
    }
    """
    sales = funnel(resolve(tmp_path, main, **{"base.funnel": base_text(), "lib/middle.funnel": middle}), "sales")
    assert sales.extends == ("middle", "base")
    assert (sales.stage_by_id["proposal"].title, sales.stage_by_id["proposal"].probability) == ("КП", 0.6)


def test_funnels_of_imported_files_are_templates_not_funnels_of_the_spec(tmp_path):
    result = resolve(tmp_path, 'import "base.funnel"\nfunnel sales "Продажи" extends base { }\n',
                     **{"base.funnel": base_text()})
    assert [f.id for f in result.spec.funnels] == ["sales"]


def test_import_cycle_between_three_files_is_reported_once(tmp_path):
    result = resolve(tmp_path, 'import "a.funnel"\nfunnel sales "Продажи" extends base { }\n',
                     **{"a.funnel": 'import "b.funnel"\n' + base_text(),
                        "b.funnel": 'import "a.funnel"\nfunnel b "B" extends base { }\n'})
    cycles = [d for d in result.diagnostics if d.code == "FNL003"]
    assert [d.message for d in cycles] == ["import cycle: a.funnel -> b.funnel -> a.funnel"]


def test_an_import_that_is_not_utf8_is_a_diagnostic(tmp_path):
    (tmp_path / "base.funnel").write_bytes(base_text().encode("cp1251"))
    result = resolve(tmp_path, 'import "base.funnel"\nfunnel sales "Продажи" extends base { }\n')
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("FNL002", "cannot import `base.funnel`: not valid UTF-8"),
        ("FNL004", "unknown template `base`"),
    ]
    assert "could not be imported" in result.diagnostics[1].hint


def test_a_field_read_anywhere_inside_an_expression_is_a_use(tmp_path):
    # one field read only under each kind of expression: none of them is an unused field
    result = resolve(tmp_path, """
    funnel f "Ф" {
      fields { a: number = 0  b: text = ""  c: bool = false  d: text?  e: number = 0  f: number = 0
               g: text = ""  h: number = 0  unread: number = 0 }
      stage s "С" { start }
      stage won "Успех" { won }
      s -> won when (g in ["x"] or "y" in [b]) and min(a, 1) > 0 and not c and d is set and -e < f + 1 and h * 2 > 0
    }
    """)
    assert result.spec.funnel_by_id["f"].field_uses == {"a", "b", "c", "d", "e", "f", "g", "h"}

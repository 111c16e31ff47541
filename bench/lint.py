"""funnel lint: 200 generated spec files linted in one process (one parser, every check, text output).

The specs are generated from a fixed seed: 5–9 stages, typed fields, automatic
transitions with comparisons (some overlapping, so the decision procedure
works), `any -> lost`, timers and enter rules. The figure is what `funnel lint
DIR` spends per file after start-up.
"""
from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

FILES, QUICK_FILES = 200, 40
SEED = 20260302
STAGE_NAMES = ["Новый лид", "Квалификация", "Встреча", "Презентация", "Коммерческое предложение",
               "Переговоры", "Договор", "Счёт выставлен", "Оплата"]


def _criterion(rng: random.Random) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        low = rng.choice([0, 10_000, 50_000, 100_000])
        return f"budget > {low}" + (f" and budget <= {low * 3 + 1000}" if rng.random() < 0.5 else "")
    if choice == 1:
        return f'source in [{", ".join(repr(s).replace(chr(39), chr(34)) for s in rng.sample(SOURCES, 2))}]'
    if choice == 2:
        return rng.choice(["meeting_at is set", "proposal_sent", "not proposal_sent and budget > 0"])
    if choice == 3:
        return f'segment == "{rng.choice(["target", "partner", "vip"])}"'
    return f"paid >= budget or time_in_stage > {rng.choice([3, 7, 14])}d"


SOURCES = ["ads", "referral", "cold_call", "email"]


def generate_spec(rng: random.Random, number: int) -> str:
    count = rng.randint(3, 7)
    ids = [f"s{i}" for i in range(count)]
    lines = [f'# generated spec {number}', f'funnel f{number} "Воронка {number}" {{', "  currency RUB",
             "  value budget", "  fields {", "    budget: money", '    source: "ads" | "referral" | "cold_call" | "email"',
             '    segment: text = ""', "    meeting_at: datetime?", "    proposal_sent: bool = false",
             "    paid: money = 0", "    manager: text?", "  }", "  events { payment { amount: money } }"]
    for i, sid in enumerate(ids):
        flags = ["start"] if i == 0 else []
        if rng.random() < 0.8:
            flags.append(f"sla {rng.choice([1, 3, 7, 14])}d")
        if i and rng.random() < 0.5:
            flags.append(f"probability {min(90, i * 15)}%")
        lines.append(f'  stage {sid} "{STAGE_NAMES[i]}" {{ {"  ".join(flags)} }}')
    lines += ['  stage won "Успех" { won }', '  stage lost "Отклонено" { lost }']
    for i, sid in enumerate(ids):
        targets = [ids[i + 1] if i + 1 < count else "won", ids[i + 2] if i + 2 < count else "won"]
        for target in targets[: rng.choice([1, 1, 2])]:
            lines.append(f"  {sid} -> {target} when {_criterion(rng)}")
        if i and rng.random() < 0.2:
            lines.append(f"  {sid} -> {ids[i - 1]}")
    lines.append("  any -> lost")
    lines.append("  on event payment: set paid = paid + event.amount")
    if rng.random() < 0.7:
        lines.append(f'  after 30d in {rng.choice(ids)}: move to lost because "нет ответа"')
    if rng.random() < 0.5:
        lines.append(f'  every 7d in {ids[-1]} while paid < budget: notify manager "Напомнить об оплате"')
    lines.append("}")
    return "\n".join(lines) + "\n"


def run(quick: bool) -> None:
    from funnelspec.api import analyse
    from funnelspec.cli.common import files_below
    from funnelspec.cli.lint import render
    from funnelspec.dsl.config import settings_for
    from funnelspec.dsl.lint import combine, lint_analysis

    files = QUICK_FILES if quick else FILES
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as folder:
        for number in range(files):
            Path(folder, f"spec_{number:03}.funnel").write_text(generate_spec(rng, number), encoding="utf-8")
        analyse(str(Path(folder, "spec_000.funnel")), lint=False)       # build the parser once, as start-up does
        started = time.perf_counter()
        paths = files_below((folder,), ".funnel")
        run_ = combine([lint_analysis(analyse(p, lint=False), settings_for(p)) for p in paths])
        output = render(run_, "text", color=False)
        elapsed = time.perf_counter() - started
    print(f"   {len(paths)} files, {len(run_.findings)} findings ({len(output):,} characters of text)")
    print(f"   {len(paths) / elapsed:8.1f} files/s   {elapsed * 1000 / len(paths):6.2f} ms per file")

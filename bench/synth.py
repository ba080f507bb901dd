"""Synthetic registries for the benchmarks: N tasks, 1,000 units, 5,000 liaisons.

The dues are arranged so that a fixed number of reminders is due at each tick, whatever N is:

- `due_per_tick` tasks are due on TICK_DAY with `reminders: {at: "09:0r"}` for tick r = 0..ticks-1,
  each led by a different unit, so tick r (at 09:0r on TICK_DAY) pops exactly `due_per_tick`
  reminders and addresses `due_per_tick * liaisons_per_unit` chats;
- every other task is due 40 days or more after TICK_DAY (its first reminder, 30 days before, is
  later than every tick), with a milestone on one task in ten and a monthly duty on one in fifty.

`python bench/synth.py N [DIR]` writes tasks.yaml and units.yaml into DIR (a temp dir by default).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

TZ = ZoneInfo("Asia/Shanghai")
TICK_DAY = date(2027, 3, 16)  # a Tuesday, an ordinary working day in mainland China
CHAT_BASE = 10_000_000


def tick_at(r: int = 0) -> datetime:
    """The instant of tick r (09:00 + r minutes on TICK_DAY)."""
    return datetime(TICK_DAY.year, TICK_DAY.month, TICK_DAY.day, 9, r, tzinfo=TZ)


def unit_name(i: int) -> str:
    return f"测试单位{i:04d}"


def chat_id(i: int) -> int:
    return CHAT_BASE + i


@dataclass
class Synth:
    dir: str
    registry: str
    units: str
    n_tasks: int
    n_units: int
    liaisons: list[tuple[int, str]]  # (chat id, unit)
    due_per_tick: int
    ticks: int

    def join_all(self, store, now: datetime) -> None:
        """Make every liaison chat a member of its unit (fast path: one transaction)."""
        M, C = store.m.Membership, store.m.Chat
        with store.db.atomic():
            rows = [{"chat_id": c, "type": "private", "title": None, "created_at": now} for c, _ in self.liaisons]
            for i in range(0, len(rows), 100):
                C.insert_many(rows[i:i + 100]).on_conflict_ignore().execute()
            mem = [{"chat_id": c, "unit": u, "user_id": c, "joined_at": now} for c, u in self.liaisons]
            for i in range(0, len(mem), 100):
                M.insert_many(mem[i:i + 100]).execute()


def write_units(path: str, n_units: int, n_groups: int = 10) -> None:
    out = ["units:"]
    for i in range(n_units):
        n = unit_name(i)
        out += [f"  - name: {n}", f"    full_name: 郑州市{n}", f"    aliases: [单位别名{i:04d}]",
                f"    kind: {('department', 'district', 'zone', 'other')[i % 4]}"]
    out.append("groups:")
    per = max(1, n_units // n_groups)
    for g in range(n_groups):
        members = ", ".join(unit_name(i) for i in range(g * per, min(n_units, (g + 1) * per)))
        out += [f"  - name: 测试组{g:02d}", "    aliases: []", f"    members: [{members}]"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")


def write_tasks(path: str, n_tasks: int, n_units: int, due_per_tick: int, ticks: int, n_docs: int = 100) -> None:
    assert due_per_tick <= n_units, "each due task must be led by a different unit"
    out = ["settings:", "  timezone: Asia/Shanghai", "  coordinators: [900000001]", "  holidays: []",
           "  workdays: []", "  reminders:", "    before_days: [30, 14, 7, 3, 1, 0]", '    at: "09:00"',
           "    workdays_only: true", "    overdue_every: 7", "    escalate_after: 3", "    ongoing: monthly",
           "  feeds:", "    alarm_days: 3", "", "documents:"]
    for d in range(n_docs):
        out += [f"  - number: 郑测〔2027〕{d + 1}号", f"    title: 关于印发测试工作方案第{d + 1}号的通知",
                "    issued: 2027-01-04", "    issuer: 郑州市人民政府"]
    out += ["", "tasks:"]
    n_due = due_per_tick * ticks
    for i in range(n_tasks):
        doc = f"郑测〔2027〕{i % n_docs + 1}号"
        out += [f"  - id: t{i:06d}", f"    doc: {doc}", f"    ref: 二({i % 9 + 1}){i % 7 + 1}",
                f"    title: 测试任务{i:06d}完成专项整治并建立长效机制"]
        if i < n_due:  # due at tick r = i // due_per_tick, led by a different unit each
            r, k = divmod(i, due_per_tick)
            unit = unit_name((k * 7919 + r * 131) % n_units) if due_per_tick < n_units else unit_name(k)
            due = TICK_DAY
            out += [f"    lead: [{unit}]", "    responsible: []", "    cooperating: []",
                    f"    due: {due.isoformat()}", f"    due_text: {due.year}年{due.month}月{due.day}日",
                    "    kind: task", f"    source_line: {i + 1}", f'    reminders: {{at: "09:{r:02d}"}}']
            continue
        unit = unit_name(i % n_units)
        coop = unit_name((i * 37 + 11) % n_units)
        due = TICK_DAY + timedelta(days=40 + i % 900)
        out += [f"    lead: [{unit}]", "    responsible: []",
                f"    cooperating: [{coop}]" if coop != unit else "    cooperating: []",
                f"    due: {due.isoformat()}", f"    due_text: {due.year}年{due.month}月"]
        if i % 10 == 3:
            m = due - timedelta(days=20)
            out += ["    milestones:", f"      - {{due: {m.isoformat()}, title: 完成第一阶段}}",
                    f"      - {{due: {due.isoformat()}, title: 全面完成}}"]
        if i % 50 == 7:
            out.append("    every: monthly")
        out += ["    kind: task", f"    source_line: {i + 1}"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")


def make(n_tasks: int, directory: str | None = None, *, n_units: int = 1000, liaisons: int = 5000,
         due_per_tick: int = 100, ticks: int = 5) -> Synth:
    directory = directory or tempfile.mkdtemp(prefix="taskbot-synth-")
    os.makedirs(directory, exist_ok=True)
    reg, units = os.path.join(directory, "tasks.yaml"), os.path.join(directory, "units.yaml")
    write_units(units, n_units)
    write_tasks(reg, n_tasks, n_units, due_per_tick, ticks)
    per = max(1, liaisons // n_units)
    chats = [(chat_id(i), unit_name(i // per)) for i in range(min(liaisons, per * n_units))]
    return Synth(directory, reg, units, n_tasks, n_units, chats, due_per_tick, ticks)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    s = make(n, sys.argv[2] if len(sys.argv) > 2 else None)
    print(f"{s.registry} ({os.path.getsize(s.registry) / 1e6:.1f} MB), {s.units}; {len(s.liaisons)} liaisons")

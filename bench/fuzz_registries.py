"""Reliability 4: bad input. Fuzzed registries (hypothesis) must never raise a traceback, and on reload
an invalid registry must leave the previous one serving.

Each example writes a tasks.yaml (and sometimes a units.yaml) made one of three ways: a valid registry
with structural mutations (values replaced by odd YAML values, keys dropped or added, extreme
dates), a valid file with text edits (inserted YAML punctuation, tabs, control characters, cut lines),
or raw text/bytes (GB18030, invalid UTF-8). For each: `check_files` must return diagnostics, never
raise; every diagnostic must format; a valid result must plan (Agenda over 90 days, `simulate` over
a month) without raising; `Service.reload()` must reject an invalid registry and keep the current one.
Failures are collected (not shrunk) so that one run counts them all.

    python3 bench/fuzz_registries.py [--examples 10000] [--seed 0] [--cli 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.planning import Agenda, simulate  # noqa: E402
from taskbot.registry import check_files  # noqa: E402
from taskbot.service import Service  # noqa: E402
from taskbot.store import Store  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")

UNITS = {
    "units": [
        {"name": "市城管局", "full_name": "郑州市城市管理局", "aliases": ["城管局"], "kind": "department"},
        {"name": "中原区", "full_name": "郑州市中原区", "kind": "district"},
        {"name": "二七区", "full_name": "郑州市二七区", "kind": "district"},
    ],
    "groups": [{"name": "各区政府", "aliases": [], "members": ["中原区", "二七区"]},
               {"name": "市政府有关部门", "aliases": [], "members": []}],
}

BASE = {
    "settings": {"timezone": "Asia/Shanghai", "coordinators": [900], "holidays": ["2018-12-31"],
                 "workdays": ["2018-12-29"],
                 "reminders": {"before_days": [30, 14, 7, 3, 1, 0], "at": "09:00", "workdays_only": True,
                               "overdue_every": 7, "escalate_after": 3, "ongoing": "monthly"},
                 "feeds": {"alarm_days": 3}},
    "documents": [{"number": "郑政文〔2018〕143号", "title": "方案", "plan_title": "实施方案",
                   "issued": "2018-08-07", "issuer": "郑州市人民政府"},
                  {"number": "郑政〔2018〕35号", "title": "意见", "issued": "2018-08-01", "issuer": "郑州市人民政府"}],
    "tasks": [
        {"id": "cw-01", "doc": "郑政文〔2018〕143号", "ref": "二(一)1", "title": "编制规划", "lead": ["市城管局"],
         "responsible": ["各区政府"], "cooperating": [], "due": "2018-12-31", "due_text": "2018年12月",
         "milestones": [{"due": "2018-10-31", "title": "招标"}, {"due": "2018-12-31", "title": "完成"}],
         "kind": "task", "source_line": 5, "reminders": {"before_days": [7, 0]}},
        {"id": "cw-02", "doc": "郑政文〔2018〕143号", "title": "月报", "lead": ["中原区"], "every": "monthly:25",
         "due": None},
        {"id": "cw-03", "doc": "郑政〔2018〕35号", "title": "长效管理", "lead": ["城管局"], "due": None,
         "due_text": "长期", "kind": "task"},
        {"id": "g-01", "doc": "郑政〔2018〕35号", "title": "目标", "lead": [], "kind": "goal", "due": "2019-06-30"},
    ],
}

EDGE_DATES = ["0001-01-01", "9999-12-31", "9999-12-30", "1970-01-01", "2018-02-29", "2020-02-29", "2018-13-01",
              "2018-00-10", "2018-1-1", "20181231", "2018-12-31T00:00:00", "0000-01-01", "2038-01-19"]
EDGE_STRINGS = ["", " ", "\u3000", "null", "~", "yes", "no", "on", "0x1F", "1e309", ".inf", "-.inf", ".nan",
                "monthly:0", "monthly:31", "monthly:99", "yearly:02-30", "yearly:13-01", "yearly:00-00", "weekly",
                "quarterly", "half-yearly", "yearly:02-29", "every day", "24:00", "23:59", "9:00", "09:60", "-1",
                "各县〔市、区〕政府", "各区政府", "市城管局", "城管局", "a" * 40, "cw-01", "CW-01", "x" * 5000,
                "\u202e", "😀", "\ufeff", "郑政文〔2018〕143号", "Asia/Shanghai", "UTC", "Mars/Base",
                "../../etc/passwd", "goal", "target", "task", "none", "quarterly", "monthly"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-2**70, max_value=2**70), st.sampled_from([0, 1, -1, 365, 366, 3650, 3651, 10**15, 10**16]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EDGE_DATES), st.sampled_from(EDGE_STRINGS),
    st.text(max_size=30),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(
        ["id", "due", "title", "lead", "every", "at", "name", "members", "number"]), st.text(max_size=8)),
        inner, max_size=4)), max_leaves=12)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _copy(x):
    return yaml.safe_load(yaml.safe_dump(x, allow_unicode=True))


@st.composite
def mutated_tree(draw, base):
    tree = _copy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(tree))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "drop", "add", "dup", "date"]))
        if not path:
            if op == "replace":
                tree = draw(values)
            continue
        parent = tree
        try:
            for k in path[:-1]:
                parent = parent[k]
        except (KeyError, IndexError, TypeError):
            continue
        last = path[-1]
        if op == "replace":
            parent[last] = draw(values)
        elif op == "date":
            parent[last] = draw(st.sampled_from(EDGE_DATES))
        elif op == "drop":
            del parent[last]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.one_of(st.sampled_from(["due", "lead", "every", "milestones", "kind", "extra", "reminders"]),
                                  st.text(max_size=6)))] = draw(values)
        elif op == "dup" and isinstance(parent, list):
            parent.append(_copy(parent[last]))
    return tree


def _dump(tree) -> str:
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=10**6)


BASE_TEXT = _dump(BASE)
UNITS_TEXT = _dump(UNITS)
PUNCT = [":", ": ", "-", "- ", "[", "]", "{", "}", ",", "#", "&a ", "*a", "!!python/object:os.system ", "!!int ",
         "%YAML 1.1\n", "---\n", "...\n", "|", ">", "'", '"', "\t", "\n", "\n  ", "  ", "\x00", "\x07", "\x1b",
         "\ud800", "\ufffe", "？", "：", "<<: *a\n", "? ", "@", "`"]


@st.composite
def edited_text(draw, text):
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "dupline", "truncate"]))
        if op == "insert":
            text = text[:i] + draw(st.one_of(st.sampled_from(PUNCT), st.text(max_size=5))) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 40)):]
        elif op == "dupline":
            lines = text.splitlines(True)
            if lines:
                j = draw(st.integers(0, len(lines) - 1))
                lines.insert(j, lines[j])
                text = "".join(lines)
        else:
            text = text[:i]
    return text


VALID_DATES = ["0001-01-01", "0001-01-02", "9999-12-31", "9999-12-30", "9999-12-01", "2018-09-03", "2018-08-07",
               "2018-02-28", "2020-02-29", "1970-01-01", "2100-12-31"]


@st.composite
def plausible(draw):
    """Mostly valid registries with extreme values (years 0001 and 9999 must be rejected with a position)."""
    dates = VALID_DATES
    tree = _copy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        t = draw(st.sampled_from(tree["tasks"]))
        key = draw(st.sampled_from(["due", "milestone", "every", "policy", "settings", "issued"]))
        if key == "due":
            t["due"] = draw(st.sampled_from(dates + [None]))
            t.pop("milestones", None)
        elif key == "milestone" and t.get("due"):
            t["milestones"] = [{"due": draw(st.sampled_from(dates)), "title": "m"}, {"due": t["due"], "title": "n"}]
        elif key == "every":
            t["every"] = draw(st.sampled_from(["weekly", "monthly", "monthly:1", "monthly:31", "quarterly",
                                               "half-yearly", "yearly:02-29", "yearly:12-31", "yearly:01-01"]))
        elif key == "policy":
            t["reminders"] = {"before_days": draw(st.lists(st.integers(0, 3650), max_size=6)),
                              "at": draw(st.sampled_from(["00:00", "23:59", "9:00", 540, 0, 1439])),
                              "workdays_only": draw(st.booleans()),
                              "overdue_every": draw(st.integers(1, 365)), "escalate_after": draw(st.integers(0, 365)),
                              "ongoing": draw(st.sampled_from(["monthly", "quarterly", "none"]))}
        elif key == "settings":
            tree["settings"]["holidays"] = draw(st.lists(st.sampled_from(dates), max_size=4))
            tree["settings"]["workdays"] = draw(st.lists(st.sampled_from(dates), max_size=4))
            tree["settings"]["timezone"] = draw(st.sampled_from(["Asia/Shanghai", "UTC", "Pacific/Kiritimati",
                                                                 "America/Adak", "Etc/GMT+12"]))
        else:
            tree["documents"][0]["issued"] = draw(st.sampled_from(dates))
    return tree


@st.composite
def example(draw):
    """(tasks bytes, units bytes or None, how it was made)."""
    how = draw(st.sampled_from(["tree", "tree", "plausible", "plausible", "text", "text", "units", "raw", "bytes"]))
    units = None
    if how == "plausible":
        tasks = _dump(draw(plausible())).encode()
    elif how == "tree":
        tasks = _dump(draw(mutated_tree(BASE))).encode()
    elif how == "text":
        tasks = draw(edited_text(BASE_TEXT)).encode("utf-8", "surrogatepass")
    elif how == "units":
        tasks = BASE_TEXT.encode()
        units = (_dump(draw(mutated_tree(UNITS))) if draw(st.booleans()) else draw(edited_text(UNITS_TEXT)))
        units = units.encode("utf-8", "surrogatepass")
    elif how == "raw":
        tasks = draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    else:
        enc = draw(st.sampled_from(["gb18030", "utf-16", "latin-1", "bytes"]))
        if enc == "bytes":
            tasks = draw(st.binary(max_size=300))
        else:
            tasks = BASE_TEXT.encode(enc, "replace") if enc != "latin-1" else draw(st.binary(max_size=100)) + BASE_TEXT.encode()
    return tasks, units, how


class Harness:
    """A running Service on a valid registry; each example is written over its files."""

    def __init__(self, work: str):
        self.work = work
        self.reg, self.units = os.path.join(work, "tasks.yaml"), os.path.join(work, "units.yaml")
        self.write(BASE_TEXT.encode(), UNITS_TEXT.encode())
        self.cfg = Config(registry=self.reg, units=self.units, db=os.path.join(work, "state.sqlite3"))
        self.clock = Clock(datetime(2018, 9, 3, 8, 0, tzinfo=TZ), frozen=True)
        self.store = Store.open(self.cfg.db)
        registry, diags = check_files(self.reg, self.units)
        assert registry is not None, [str(d) for d in diags]
        self.service = Service(self.cfg, self.clock, self.store, registry)
        self.stats: Counter = Counter()
        self.failures: list[tuple[str, str, bytes, bytes | None]] = []

    def write(self, tasks: bytes, units: bytes | None) -> None:
        with open(self.reg, "wb") as fh:
            fh.write(tasks)
        with open(self.units, "wb") as fh:
            fh.write(units if units is not None else UNITS_TEXT.encode())

    def one(self, tasks: bytes, units: bytes | None, how: str) -> None:
        self.stats["examples"] += 1
        self.stats["how:" + how] += 1
        stage = "check_files"
        try:
            self.write(tasks, units)
            registry, diagnostics = check_files(self.reg, self.units)
            stage = "format diagnostics"
            for d in diagnostics:
                str(d)
            if registry is None:
                assert any(d.severity == "error" for d in diagnostics), "rejected without an error diagnostic"
                self.stats["invalid"] += 1
            else:
                self.stats["valid"] += 1
                stage = "plan (Agenda)"
                now = self.clock.now()
                agenda = Agenda(registry, {}, now)
                for day in range(0, 90, 7):
                    agenda.pop_due(now + timedelta(days=day), {})
                stage = "simulate"
                simulate(registry, date(2018, 9, 1), date(2018, 9, 30))
            stage = "reload"
            before = self.service.registry
            result = self.service.reload()
            if registry is None:
                assert not result.ok, "an invalid registry was accepted on reload"
                assert self.service.registry is before, "an invalid registry replaced the serving one"
                self.stats["reload rejected, previous kept"] += 1
            else:
                assert result.ok, "a valid registry was rejected on reload"
                self.stats["reload applied"] += 1
                stage = "tick after reload"
                asyncio.run(self.service.tick())
        except Exception as exc:  # noqa: BLE001 - the point is to count them all
            tb = traceback.format_exc(limit=-3)
            self.stats["FAILED"] += 1
            sig = f"{stage}: {type(exc).__name__}: {str(exc)[:160]}"
            self.failures.append((sig, tb, tasks, units))

    def close(self):
        self.store.close()


def run(n: int, seed_value: int = 0, work: str | None = None) -> Harness:
    own = work is None
    work = work or tempfile.mkdtemp(prefix="taskbot-fuzz-")
    h = Harness(work)

    @seed(seed_value)
    @settings(max_examples=n, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(example())
    def body(ex):
        h.one(*ex)

    try:
        body()
    finally:
        h.close()
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return h


def cli_sample(k: int, seed_value: int) -> tuple[int, int]:
    """`taskbot check` in subprocesses on k fuzzed registries: (runs, runs whose stderr shows a traceback)."""
    import random

    rnd = random.Random(seed_value)
    work = tempfile.mkdtemp(prefix="taskbot-fuzz-cli-")
    bad = 0
    try:
        for i in range(k):
            text = BASE_TEXT
            for _ in range(rnd.randint(1, 5)):
                j = rnd.randint(0, len(text))
                text = text[:j] + rnd.choice(PUNCT) + text[j:]
            reg = os.path.join(work, f"t{i}.yaml")
            with open(reg, "w", encoding="utf-8", errors="surrogatepass") as fh:
                fh.write(text)
            units = os.path.join(work, "units.yaml")
            with open(units, "w", encoding="utf-8") as fh:
                fh.write(UNITS_TEXT)
            p = subprocess.run([sys.executable, "-m", "taskbot", "check", "--registry", reg, "--units", units],
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
            if "Traceback" in p.stderr or p.returncode not in (0, 1):
                bad += 1
                print(f"  CLI traceback (exit {p.returncode}) on {reg}:\n{p.stderr[-800:]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return k, bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=int(os.environ.get("TASKBOT_FUZZ_EXAMPLES", 10_000)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli", type=int, default=30, help="also run `taskbot check` as a process on this many")
    a = ap.parse_args(argv)
    import logging

    logging.getLogger("taskbot").setLevel(logging.CRITICAL)  # "reload rejected" 10,000 times
    t0 = time.perf_counter()
    h = run(a.examples, a.seed)
    dt = time.perf_counter() - t0
    s = h.stats
    print(f"fuzzed registries: {s['examples']} examples in {dt:.1f} s ({s['examples'] / dt:.0f}/s), seed {a.seed}")
    print("  made by: " + ", ".join(f"{k[4:]} {v}" for k, v in sorted(s.items()) if k.startswith("how:")))
    print(f"  valid {s['valid']}, invalid {s['invalid']}; reload: rejected with the previous registry kept "
          f"{s['reload rejected, previous kept']}, applied {s['reload applied']}")
    by_sig = Counter(sig for sig, *_ in h.failures)
    print(f"  failures (tracebacks or wrong reload): {s['FAILED']} of {s['examples']} "
          f"({s['FAILED'] / max(1, s['examples']):.4f}); target 0: {'met' if not s['FAILED'] else 'NOT met'}")
    for sig, count in by_sig.most_common(10):
        first = next(f for f in h.failures if f[0] == sig)
        print(f"  - {count} x {sig}\n    example tasks.yaml: {first[2][:300]!r}"
              + (f"\n    units.yaml: {first[3][:200]!r}" if first[3] is not None else "")
              + "\n    " + first[1].strip().replace("\n", "\n    "))
    if a.cli:
        runs, bad = cli_sample(a.cli, a.seed)
        print(f"  `taskbot check` subprocesses: {runs} runs, {bad} with a traceback")
        if bad:
            return 1
    return 1 if s["FAILED"] else 0


if __name__ == "__main__":
    sys.exit(main())

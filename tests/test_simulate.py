"""`taskbot simulate` over the real gazette registry, and `taskbot check` on the repository's files."""

import json
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_repository_registry_passes_check():
    result = run("check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("26 documents, ") and result.stdout.endswith(" units\n")
    assert " error: " not in result.stderr


def test_simulate_august_to_december_2018_respects_the_chinese_calendar():
    result = run("simulate", "--from", "2018-08-01", "--to", "2018-12-31", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all({"at", "unit", "task", "kind", "due"} <= row.keys() for row in rows)
    days = Counter(date.fromisoformat(r["at"][:10]) for r in rows)
    # 1-7 October 2018 are holidays: nothing is sent; Saturday 29 September is a working day
    assert not [d for d in days if date(2018, 10, 1) <= d <= date(2018, 10, 7)]
    assert days[date(2018, 9, 29)] > 0
    # no reminder on an ordinary weekend day either
    assert days[date(2018, 9, 22)] == days[date(2018, 9, 23)] == 0
    assert all(r["at"].endswith("+08:00") and r["at"][11:16] == "09:00" for r in rows)
    kinds = Counter(r["kind"] for r in rows)
    assert {"before:30", "before:7", "due", "overdue", "escalation", "checkin", "recurring"} <= kinds.keys()


def test_simulate_one_unit_in_text_format():
    result = run("simulate", "--from", "2018-12-28", "--to", "2018-12-29", "--unit", "城管局")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all("  市城管局  " in line for line in lines)
    assert result.stderr.endswith(f"{len(lines)} deliveries from 2018-12-28 to 2018-12-29\n")


def test_simulate_rejects_bad_arguments_with_clear_messages():
    bad = run("simulate", "--from", "2018-02-30", "--to", "2018-03-01")
    assert (bad.returncode, bad.stderr) == (1, "simulate: --from must be a date YYYY-MM-DD, got '2018-02-30'\n")
    unknown = run("simulate", "--from", "2018-09-01", "--to", "2018-09-02", "--unit", "市城管")
    assert unknown.returncode == 1
    assert unknown.stderr.splitlines()[-1] == "simulate: unknown unit '市城管'; did you mean 市城管局?"

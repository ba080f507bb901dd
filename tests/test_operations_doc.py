"""The operator's guide is linked from the README, names only real commands and settings, and its example
timeline is what the planner does."""

import re
from pathlib import Path

from taskbot.cli import COMMANDS
from taskbot.config import ENV, FILE_KEYS
from taskbot.planning import simulate
from taskbot.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def test_the_readme_links_the_guide():
    assert "(docs/operations.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_named_is_real_and_every_setting_is_documented():
    named = set(re.findall(r"`taskbot ([a-z-]+)", GUIDE)) | set(re.findall(r"^taskbot ([a-z-]+)", GUIDE, re.M))
    assert named and named <= set(COMMANDS), named - set(COMMANDS)
    for key in FILE_KEYS:
        assert f"`{key}`" in GUIDE or f"{key} =" in GUIDE, key
    for var in ENV.values():
        assert var in GUIDE, var


def test_the_example_timeline_is_the_planners():
    from datetime import date

    registry = load_registry(str(ROOT / "tasks.yaml"), str(ROOT / "data" / "units.yaml"))
    rows = [r for r in simulate(registry, date(2018, 9, 1), date(2018, 11, 15)) if r["task"] == "wf-01"]
    section = GUIDE[GUIDE.index("Task `wf-01`"):]
    table = section[:section.index("All reminders of a day")]
    for r in rows:
        day = r["at"][:10]
        short = day[5:]
        assert day in table or f" {short} " in table or f" {short}," in table or f", {short}" in table, (day, r["kind"])
    kinds = {r["at"][:10]: r["kind"] for r in rows if r["role"] == "coordinator"}
    assert kinds == {"2018-10-26": "escalation", "2018-11-02": "escalation", "2018-11-09": "escalation"}

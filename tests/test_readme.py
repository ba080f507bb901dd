"""The README's test command is what CI runs, and the system-deps script it calls is idempotent."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text, flags=re.S)[:2]


def test_ci_runs_exactly_the_readme_test_command():
    run, test = _readme_commands()
    assert run == "python3 -m pip install -e . && python3 bot.py"
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci_lines[-1] == test


def test_system_deps_finds_everything_installed():
    """After the suite's own setup the script has nothing left to do and says nothing."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "system-deps")], capture_output=True, text=True, timeout=600)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")

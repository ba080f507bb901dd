"""How well the importer reads documents whose assigned items are known: an evaluation set of
fixture texts and, per text, the items a reader finds in it (`tests/fixtures/import/expected.yaml`).

    python -m taskbot.importer.evaluate [EXPECTED.yaml] [--only PREFIX] [--from NAME]

(`--only heldout_`: the texts written after the importer was tuned; `--from headerless_prov.txt`:
that text and the ones after it in the file, the texts of other governments added for issue 13.)

prints, per text and in all: the share of the expected items found (an imported task or target
starting on the item's line), of those with the right lead units, and with the right set of units
(lead, responsible and cooperating together). Pure but for reading the files.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..diagnostics import normalize_name
from . import import_text, read_text

DEFAULT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "import" / "expected.yaml"


@dataclass
class Score:
    items: int = 0
    found: int = 0
    lead: int = 0
    units: int = 0
    misses: list = None

    def add(self, other: "Score"):
        self.items += other.items
        self.found += other.found
        self.lead += other.lead
        self.units += other.units

    def pct(self, k: int) -> float:
        return 100.0 * k / self.items if self.items else 100.0

    def line(self) -> str:
        return (f"{self.items:3d} items, found {self.found:3d} ({self.pct(self.found):5.1f}%), right lead {self.lead:3d} "
                f"({self.pct(self.lead):5.1f}%), right units {self.units:3d} ({self.pct(self.units):5.1f}%)")


def _names(names) -> frozenset:
    return frozenset(normalize_name(n) for n in names or [])


def score(tasks: list[dict], expected: list[dict]) -> Score:
    """Each expected item ({line, lead, units}) is matched with at most one imported task or target
    that starts on its line, the best-agreeing one first."""
    s = Score(items=len(expected), misses=[])
    used: set = set()
    # items that some task on their line agrees with wholly take it first; then the others
    exact = [any(True for t in tasks if t["source_line"] == w["line"] and t["kind"] != "goal"
                 and _names(t["lead"]) == _names(w.get("lead"))
                 and _names(t["lead"] + t["responsible"] + t["cooperating"]) == _names(w.get("units") or w.get("lead")))
             for w in expected]
    for want in [w for w, x in zip(expected, exact) if x] + [w for w, x in zip(expected, exact) if not x]:
        lead, units = _names(want.get("lead")), _names(want.get("units") or want.get("lead"))
        cands = [k for k, t in enumerate(tasks) if k not in used and t["kind"] != "goal"
                 and t["source_line"] == want["line"]]
        if not cands:
            s.misses.append((want["line"], "not found"))
            continue

        def agree(k):
            t = tasks[k]
            got = _names(t["lead"] + t["responsible"] + t["cooperating"])
            return (_names(t["lead"]) == lead) + (got == units)
        k = max(cands, key=agree)
        used.add(k)
        t = tasks[k]
        s.found += 1
        ok_lead = _names(t["lead"]) == lead
        ok_units = _names(t["lead"] + t["responsible"] + t["cooperating"]) == units
        s.lead += ok_lead
        s.units += ok_units
        if not (ok_lead and ok_units):
            s.misses.append((want["line"], f"lead {t['lead']} responsible {t['responsible']} "
                                           f"cooperating {t['cooperating']}"))
    return s


def load_fixture(path: Path, units=None):
    """Import a fixture the way `taskbot import` reads a file."""
    text, _, problem = read_text(path.read_bytes())
    if problem:
        raise ValueError(f"{path}: {problem}")
    return import_text(text, units, name=path.stem)


def evaluate(expected_path: Path = DEFAULT, only: str = "", since: str = "") -> tuple[Score, dict]:
    """Scores of the texts of the evaluation set (those whose names start with `only`, from the
    text named `since` on)."""
    spec = yaml.safe_load(expected_path.read_text(encoding="utf-8"))
    total, per = Score(misses=[]), {}
    names = list(spec)
    first = names.index(since) if since in names else 0
    for name, items in list(spec.items())[first:]:
        if not name.startswith(only):
            continue
        s = score(load_fixture(expected_path.parent / name).tasks, items)
        per[name] = s
        total.add(s)
    return total, per


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = {}
    for flag in ("--only", "--from"):
        if flag in argv:
            k = argv.index(flag)
            opts[flag] = argv[k + 1] if k + 1 < len(argv) else ""
            del argv[k:k + 2]
    path = Path(argv[0]) if argv else DEFAULT
    total, per = evaluate(path, opts.get("--only", ""), opts.get("--from", ""))
    for name, s in per.items():
        print(f"{name:28s} {s.line()}")
        for line, why in s.misses:
            print(f"    line {line}: {why}")
    print(f"{'all':28s} {total.line()}")
    return 0 if min(total.pct(total.found), total.pct(total.lead), total.pct(total.units)) >= 90 else 1


if __name__ == "__main__":
    sys.exit(main())

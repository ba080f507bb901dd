"""Property tests: random mutations of a valid registry give located diagnostics, never a traceback.

The example count defaults to 300 so the suite stays quick; the reliability run sets
TASKBOT_FUZZ_EXAMPLES=10000.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskbot.cli import main
from taskbot.registry import check_files
from taskbot.yamlsrc import decode

FIXTURES = Path(__file__).parent / "fixtures" / "check"
TASKS = (FIXTURES / "tasks.yaml").read_text(encoding="utf-8")
UNITS = (FIXTURES / "units.yaml").read_text(encoding="utf-8")
EXAMPLES = int(os.environ.get("TASKBOT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

UNIT_NAMES = ["市城管局", "市规划局", "市卫计委", "巩义市", "荥阳市", "各县(市、区)政府", "市政府有关部门", "城管局"]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_VALUE = re.compile(r"^(\s*(?:- )?[\w-]+: )(.*)$")

scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-10**6, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["null", "~", "true", "no", "[]", "{}", "[a, b]", "{a: 1}", "- x", "'", '"', "&a x", "*a", "*zz",
                     "!!python/object:os.system x", "!!int x", "|", ">", "2018-02-30", "2018-13-01", "9" * 5000,
                     "monthly:99", "yearly:02-30", "[市城管]", "[市政府有关部门]", "09:00", "25:61", "\t", "? x"]),
    st.lists(st.text(max_size=5), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
)


@st.composite
def mutation(draw, lines: list[str]):
    """One random edit of the list of lines, in place."""
    if not lines:
        lines.append(draw(st.text(max_size=20)))
        return
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["delete", "duplicate", "value", "indent", "insert", "date", "unit", "swap"]))
    line = lines[i]
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, line)
    elif kind == "value":
        m = _VALUE.match(line)
        lines[i] = (m.group(1) if m else line + ": ") + draw(scalars)
    elif kind == "indent":
        delta = draw(st.integers(-4, 4))
        lead = len(line) - len(line.lstrip(" "))
        lines[i] = " " * delta + line if delta >= 0 else line[min(-delta, lead):]
    elif kind == "insert":
        at = draw(st.integers(0, len(line)))
        junk = draw(st.one_of(st.text(min_size=1, max_size=8),
                              st.binary(min_size=1, max_size=8).map(lambda b: b.decode("latin-1")),
                              st.sampled_from(["\x00", "\x07", "\ufeff", "\u2028", "\r", "\ud7ff", "：", "（", "〕"])))
        lines[i] = line[:at] + junk + line[at:]
    elif kind == "date":
        bad = draw(st.sampled_from(["2018-02-30", "2018-13-01", "2019-02-29", "0000-01-01", "2018-00-10",
                                    "2018-04-31", "2100-02-29", "2020-02-29", "2019-01-31", "1999-12-31"]))
        lines[i] = _DATE.sub(bad, line, count=1) if _DATE.search(line) else line + " " + bad
    elif kind == "unit":
        name = draw(st.sampled_from(UNIT_NAMES))
        new = draw(st.one_of(st.sampled_from(UNIT_NAMES), st.text(min_size=1, max_size=6),
                             st.just(name[:-1]), st.just(name + "局"), st.just(name.replace("(", "（"))))
        lines[i] = line.replace(name, new)
    else:  # swap with another line
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], line


@st.composite
def mutated(draw, text: str):
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        draw(mutation(lines))
    joined = "\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "gb18030"]))
    raw = joined.encode(encoding, errors="surrogatepass") if encoding == "utf-8" else \
        joined.encode(encoding, errors="replace")
    return raw


def _line_bound(raw: bytes) -> int:
    try:
        return len(decode(raw).splitlines()) + 1
    except UnicodeError:
        return 1


@given(registry=mutated(TASKS), units=st.one_of(st.none(), mutated(UNITS)))
@FUZZ
def test_mutated_registry_gives_located_diagnostics(tmp_path_factory, registry, units):
    folder = tmp_path_factory.getbasetemp() / "fuzz"
    folder.mkdir(exist_ok=True)
    reg, uni = folder / "tasks.yaml", folder / "units.yaml"
    reg.write_bytes(registry)
    uni.write_bytes(units if units is not None else UNITS.encode("utf-8"))
    bounds = {str(reg): _line_bound(registry), str(uni): _line_bound(units or b"")}

    result, diagnostics = check_files(str(reg), str(uni))  # must not raise

    allowed = {str(reg)} if units is None else {str(reg), str(uni)}
    for d in diagnostics:
        assert d.file in allowed, d
        assert d.severity in ("error", "warning"), d
        assert d.line >= 1 and d.col >= 1, d
        assert d.line <= max(bounds[d.file], 1) + 1, d
        assert d.message and "\n" not in d.message and "Traceback" not in d.message, d
        assert re.fullmatch(r".+:\d+:\d+: (error|warning): .+", str(d), re.S), d
    errors = [d for d in diagnostics if d.severity == "error"]
    if result is None:
        assert errors, "no registry but no error either"
    else:
        assert not errors
        assert result.summary().endswith(f"{len(result.units)} units")


@given(registry=mutated(TASKS))
@settings(FUZZ, max_examples=max(1, EXAMPLES // 3))
def test_mutated_registry_through_the_cli(tmp_path_factory, registry):
    folder = tmp_path_factory.getbasetemp() / "fuzz-cli"
    folder.mkdir(exist_ok=True)
    reg = folder / "tasks.yaml"
    reg.write_bytes(registry)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["check", "--registry", str(reg), "--units", str(FIXTURES / "units.yaml")])
    lines = err.getvalue().splitlines()
    for line in lines:
        assert re.fullmatch(re.escape(str(reg)) + r":\d+:\d+: (error|warning): .+", line), line
    has_error = any(": error: " in line for line in lines)
    assert rc == (1 if has_error else 0)
    if has_error:
        assert out.getvalue() == ""
    else:
        assert re.fullmatch(r"\d+ documents, \d+ tasks, 5 units\n", out.getvalue())

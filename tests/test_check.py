"""`taskbot check`: one test per kind of problem, through the real command line.

Every test asserts the full diagnostic lines (PATH:LINE:COL: severity: MESSAGE) and the exit code.
The fixture registry and unit directory live in tests/fixtures/check/; line numbers below refer to them.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from taskbot.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "check"
REPO = Path(__file__).resolve().parent.parent
TASKS = (FIXTURES / "tasks.yaml").read_text(encoding="utf-8")
UNITS = (FIXTURES / "units.yaml").read_text(encoding="utf-8")
SUMMARY = "1 documents, 3 tasks, 5 units\n"


def edit(text: str, old: str, new: str) -> str:
    """Replace exactly one occurrence, so a fixture change cannot silently void a test."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the fixture"
    return text.replace(old, new)


@pytest.fixture
def check(tmp_path, capsys):
    """Write the two files (text, or bytes as is) and run `taskbot check` in-process."""

    def run(tasks: str | bytes = TASKS, units: str | bytes = UNITS):
        paths = []
        for name, content in (("tasks.yaml", tasks), ("units.yaml", units)):
            path = tmp_path / name
            if isinstance(content, str):
                content = content.encode("utf-8")
            path.write_bytes(content)
            paths.append(str(path))
        rc = main(["check", "--registry", paths[0], "--units", paths[1]])
        out, err = capsys.readouterr()
        return rc, out, err, paths[0], paths[1]

    return run


def lines(err: str) -> list[str]:
    return err.splitlines()


# --- the valid fixture ----------------------------------------------------------------------------

def test_valid_registry_prints_summary_and_exits_0(check):
    rc, out, err, _, _ = check()
    assert (rc, out) == (0, SUMMARY)
    assert err == ""


def test_gb18030_files_are_read(check):
    rc, out, err, _, _ = check(TASKS.encode("gb18030"), UNITS.encode("gb18030"))
    assert (rc, out, err) == (0, SUMMARY, "")


def test_gb18030_file_with_error_reports_chinese_text(check):
    bad = edit(TASKS, "    lead: [市城管局]", "    lead: [市城管]").encode("gb18030")
    rc, out, err, reg, _ = check(bad)
    assert rc == 1 and out == ""
    assert lines(err) == [f"{reg}:44:12: error: unknown unit '市城管'; did you mean 市城管局?"]


def test_utf8_bom_is_accepted(check):
    rc, out, err, _, _ = check(b"\xef\xbb\xbf" + TASKS.encode("utf-8"))
    assert (rc, out, err) == (0, SUMMARY, "")


# --- YAML syntax ----------------------------------------------------------------------------------

def test_yaml_syntax_error_has_parser_position(check):
    rc, out, err, reg, _ = check(edit(TASKS, "    title: 编制完成建筑垃圾专项规划", "    title: [编制完成"))
    assert rc == 1 and out == ""
    assert lines(err) == [f"{reg}:28:9: error: YAML syntax error: did not find expected ',' or ']' "
                          "(while parsing a flow sequence at line 27, column 12)"]


def test_tab_indentation_is_a_located_syntax_error(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    ref: 二(一)2", "\tref: x"))
    assert rc == 1
    assert lines(err) == [f"{reg}:42:1: error: YAML syntax error: found a tab character that violates indentation "
                          "(while scanning a plain scalar at line 41, column 10)"]


def test_duplicate_mapping_key(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    ref: 二(一)2\n", "    ref: 二(一)2\n    ref: x\n"))
    assert rc == 1
    assert lines(err) == [f"{reg}:43:5: error: duplicate key 'ref'"]


def test_control_character_is_located_where_it_is(check):
    rc, _, err, reg, _ = check(edit(TASKS, "ref: 二(一)2", "ref: 二\x07(一)2"))
    assert rc == 1
    assert lines(err) == [f"{reg}:42:11: error: YAML error: character #x0007 is not allowed in YAML text; remove it"]


def test_second_document_is_rejected(check):
    rc, _, err, reg, _ = check(TASKS + "---\na: 1\n")
    assert rc == 1
    assert lines(err) == [f"{reg}:55:1: error: expected one YAML document, found another"]


def test_python_tag_is_refused(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    lead: [市城管局]", "    lead: !!python/object:os.system [市城管局]"))
    assert rc == 1
    assert lines(err) == [f"{reg}:44:11: error: unsupported tag !!python/object:os.system; "
                          "write plain values without tags"]


# --- structure: keys and types --------------------------------------------------------------------

def test_unknown_key(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    ref: 二(一)1", "    reff: 二(一)1"))
    assert rc == 1
    assert lines(err) == [f"{reg}:26:5: error: unknown key 'reff' in task; did you mean ref?; valid keys: id, doc, "
                          "ref, title, detail, lead, responsible, cooperating, due, due_text, milestones, every, kind, "
                          "source_line, reminders"]


def test_unknown_top_level_key(check):
    rc, _, err, reg, _ = check(TASKS + "extra: 1\n")
    assert rc == 1
    assert lines(err) == [f"{reg}:55:1: error: unknown key 'extra' in the registry; valid keys: settings, documents, tasks"]


def test_missing_key_points_at_the_task(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    title: 每月报送建筑垃圾治理进展\n", ""))
    assert rc == 1
    assert lines(err) == [f"{reg}:40:5: error: task is missing required key 'title'"]


def test_missing_top_level_key(check):
    rc, _, err, reg, _ = check(TASKS.split("tasks:\n")[0])
    assert rc == 1
    assert lines(err) == [f"{reg}:1:1: error: the registry is missing required key 'tasks'"]


def test_wrong_type_number(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    source_line: 5243", "    source_line: abc"))
    assert rc == 1
    assert lines(err) == [f"{reg}:38:18: error: source_line must be a whole number, got 'abc'"]


def test_wrong_type_string_instead_of_list(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    lead: [市城管局]", "    lead: 市城管局"))
    assert rc == 1
    assert lines(err) == [f"{reg}:44:11: error: lead must be a list of unit names, got str '市城管局'; write [市城管局]"]


def test_wrong_type_mapping_instead_of_list(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    milestones:\n      - {due: 2018-10-31, title: 完成规划初稿}\n"
                                    "      - {due: 2018-12-31, title: 完成招标和建设任务}\n", "    milestones: {a: 1}\n"))
    assert rc == 1
    assert lines(err) == [f"{reg}:33:17: error: milestones must be a list of {{due, title}}, got {{'a': 1}}"]


def test_huge_number_is_reported_not_crashed(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    source_line: 5243", "    source_line: " + "9" * 5000))
    assert rc == 1
    assert lines(err) == [f"{reg}:38:18: error: source_line must be a whole number, got "
                          f"'{'9' * 27}...{'9' * 28}'"]


def test_unknown_time_zone(check):
    rc, _, err, reg, _ = check(edit(TASKS, "timezone: Asia/Shanghai", "timezone: Mars/Base"))
    assert rc == 1
    assert lines(err) == [f"{reg}:2:13: error: unknown time zone 'Mars/Base'; use an IANA name such as Asia/Shanghai"]


def test_bad_reminder_time(check):
    rc, _, err, reg, _ = check(edit(TASKS, 'at: "09:00"', 'at: "25:00"'))
    assert rc == 1
    assert lines(err) == [f"{reg}:8:9: error: at must be a time HH:MM, got '25:00'"]


def test_bad_task_id(check):
    rc, _, err, reg, _ = check(edit(TASKS, "  - id: cw-02", "  - id: CW 02"))
    assert rc == 1
    assert lines(err) == [f"{reg}:40:9: error: task id must be 1-32 characters of a-z, 0-9 and '-', starting with a "
                          "letter or digit, got 'CW 02'"]


# --- references and semantics ---------------------------------------------------------------------

def test_duplicate_task_id(check):
    rc, _, err, reg, _ = check(edit(TASKS, "  - id: cw-02", "  - id: cw-01"))
    assert rc == 1
    assert lines(err) == [f"{reg}:40:9: error: duplicate task id 'cw-01' (first at {reg}:24:9)"]


def test_unknown_document(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    doc: 郑政文〔2018〕143号\n    ref: 二(一)2",
                                    "    doc: 郑政文〔2018〕144号\n    ref: 二(一)2"))
    assert rc == 1
    assert lines(err) == [f"{reg}:41:10: error: unknown document '郑政文〔2018〕144号'; did you mean 郑政文〔2018〕143号?"]


def test_invalid_document_does_not_cascade_into_unknown_document(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    issued: 2018-08-07", "    issued: 2018-13-07"))
    assert rc == 1
    assert lines(err) == [f"{reg}:20:13: error: impossible date '2018-13-07': there is no month 13"]


def test_unknown_unit_did_you_mean(check):
    rc, out, err, reg, _ = check(edit(TASKS, "    lead: [市城管局]", "    lead: [市城管]"))
    assert (rc, out) == (1, "")
    assert lines(err) == [f"{reg}:44:12: error: unknown unit '市城管'; did you mean 市城管局?"]


def test_unknown_unit_without_suggestion(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    cooperating: [各县(市、区)政府]", "    cooperating: [各县(市、区)政府, 外星办]"))
    assert rc == 1
    assert lines(err) == [f"{reg}:30:30: error: unknown unit '外星办'"]


def test_unit_spellings_are_normalised(check):
    text = edit(TASKS, "    cooperating: [各县(市、区)政府]", "    cooperating: [各县〔市、区〕政府, 城管局]")
    rc, out, err, _, _ = check(text)
    assert (rc, out, err) == (0, SUMMARY, "")


def test_impossible_date(check):
    rc, _, err, reg, _ = check(edit(TASKS, "due: 2018-10-31", "due: 2018-02-30"))
    assert rc == 1
    assert lines(err) == [f"{reg}:34:15: error: impossible date '2018-02-30': 2018-02 has 28 days"]


def test_not_a_date(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    due: 2018-12-31\n    due_text", "    due: 2018年12月\n    due_text"))
    assert rc == 1
    assert lines(err) == [f"{reg}:31:10: error: due must be a date YYYY-MM-DD or null, got '2018年12月'"]


def test_milestone_after_due(check):
    rc, _, err, reg, _ = check(edit(TASKS, "due: 2018-10-31", "due: 2019-01-31"))
    assert rc == 1
    assert lines(err) == [f"{reg}:34:15: error: milestone due 2019-01-31 is after the task's due 2018-12-31"]


def test_unparsable_every(check):
    rc, _, err, reg, _ = check(edit(TASKS, "every: monthly:25", "every: fortnightly"))
    assert rc == 1
    assert lines(err) == [f"{reg}:47:12: error: cannot parse every 'fortnightly'; valid forms: weekly, monthly, "
                          "monthly:DD, quarterly, half-yearly, yearly:MM-DD"]


def test_impossible_yearly_every(check):
    rc, _, err, reg, _ = check(edit(TASKS, "every: monthly:25", "every: yearly:02-30"))
    assert rc == 1
    assert lines(err) == [f"{reg}:47:12: error: impossible month-day in every 'yearly:02-30'"]


def test_open_group_is_a_warning_and_check_passes(check):
    rc, out, err, reg, _ = check(edit(TASKS, "    lead: [市城管局]", "    lead: [市政府有关部门]"))
    assert (rc, out) == (0, SUMMARY)
    assert lines(err) == [f"{reg}:44:11: warning: group '市政府有关部门' has no members yet: nobody receives its "
                          "reminders until coordinators list its members in the unit directory"]


def test_every_problem_is_collected(check):
    text = edit(TASKS, "    ref: 二(一)1", "    reff: 二(一)1")
    text = edit(text, "    lead: [市城管局]", "    lead: [市城管]")
    text = edit(text, "every: monthly:25", "every: fortnightly")
    rc, _, err, reg, _ = check(text)
    assert rc == 1
    assert [line.split(": error: ")[0] for line in lines(err)] == [f"{reg}:26:5", f"{reg}:44:12", f"{reg}:47:12"]


# --- the unit directory ---------------------------------------------------------------------------

def test_alias_collision_in_directory(check):
    rc, out, err, _, units = check(units=edit(UNITS, "aliases: [规划局]", "aliases: [规划局, 城管局]"))
    assert (rc, out) == (1, "")
    assert lines(err) == [f"{units}:8:20: error: name '城管局' of 市规划局 collides with 市城管局 (at {units}:4:15); "
                          "give each spelling to one unit only"]


def test_collision_after_normalisation(check):
    rc, _, err, _, units = check(units=edit(UNITS, "aliases: [卫计委, 市卫生计生委]", "aliases: [卫计委, 各县 （市、区） 政府]"))
    assert rc == 1
    assert lines(err) == [f"{units}:19:11: error: name '各县(市、区)政府' of 各县(市、区)政府 collides with 市卫计委 "
                          f"(at {units}:12:20); give each spelling to one unit only"]


def test_alias_equal_to_own_name_is_harmless(check):
    rc, out, err, _, _ = check(units=edit(UNITS, "aliases: [各县(市、区)人民政府]", "aliases: [各县（市、区）政府]"))
    assert (rc, out, err) == (0, SUMMARY, "")


def test_duplicate_unit_name(check):
    rc, _, err, _, units = check(units=edit(UNITS, "  - name: 荥阳市\n", "  - name: 巩义市\n"))
    assert rc == 1
    assert lines(err) == [f"{units}:16:11: error: duplicate name '巩义市' (first at {units}:14:11); "
                          "list each unit or group once",
                          f"{units}:21:20: error: unknown unit '荥阳市' in group 各县(市、区)政府"]


def test_unknown_unit_kind(check):
    rc, _, err, _, units = check(units=edit(UNITS, "kind: department\n  - name: 市规划局", "kind: dept\n  - name: 市规划局"))
    assert rc == 1
    assert lines(err) == [f"{units}:5:11: error: unknown unit kind 'dept'; valid kinds: department, district, zone, other"]


def test_unknown_group_member(check):
    rc, _, err, _, units = check(units=edit(UNITS, "members: [巩义市, 荥阳市]", "members: [巩义, 荥阳市]"))
    assert rc == 1
    assert lines(err) == [f"{units}:21:15: error: unknown unit '巩义' in group 各县(市、区)政府; did you mean 巩义市?"]


def test_unit_missing_key(check):
    rc, _, err, _, units = check(units=edit(UNITS, "  - name: 荥阳市\n    kind: district\n", "  - name: 荥阳市\n"))
    assert rc == 1
    assert lines(err) == [f"{units}:16:5: error: unit is missing required key 'kind'"]


def test_units_as_list(check):
    rc, _, err, _, units = check(units="- 市城管局\n")
    assert rc == 1
    assert lines(err) == [f"{units}:1:1: error: the unit directory must be a mapping with 'units' and 'groups', got list"]


# --- files that are not registries ----------------------------------------------------------------

def test_empty_file(check):
    rc, out, err, reg, _ = check("")
    assert (rc, out) == (1, "")
    assert lines(err) == [f"{reg}:1:1: error: the registry must be a mapping with keys settings, documents, tasks, "
                          "got an empty file"]


def test_list_at_top_level(check):
    rc, _, err, reg, _ = check("- id: cw-01\n- id: cw-02\n")
    assert rc == 1
    assert lines(err) == [f"{reg}:1:1: error: the registry must be a mapping with keys settings, documents, tasks, got list"]


def test_scalar_at_top_level(check):
    rc, _, err, reg, _ = check("just words\n")
    assert rc == 1
    assert lines(err) == [f"{reg}:1:1: error: the registry must be a mapping with keys settings, documents, tasks, got str"]


def test_binary_garbage_with_nul_bytes(check):
    rc, _, err, reg, _ = check(bytes(random.Random(1).randrange(256) for _ in range(4096)) + b"\x00")
    assert rc == 1
    assert lines(err) == [f"{reg}:1:1: error: cannot read file: the file looks binary (it holds NUL bytes); "
                          "expected YAML text in UTF-8 or GB18030"]


def test_binary_garbage_without_nul_bytes(check):
    rc, _, err, reg, _ = check(bytes(range(1, 256)) * 16)
    assert rc == 1
    assert lines(err) == [f"{reg}:1:1: error: cannot read file: the file is neither UTF-8 nor GB18030 text"]


def test_utf16_file(check):
    rc, _, err, reg, _ = check(TASKS.encode("utf-16"))
    assert rc == 1
    assert lines(err) == [f"{reg}:1:1: error: cannot read file: the file is UTF-16 text; save it as UTF-8"]


def test_missing_files(tmp_path, capsys):
    reg, units = str(tmp_path / "nope.yaml"), str(tmp_path / "nounits.yaml")
    rc = main(["check", "--registry", reg, "--units", units])
    out, err = capsys.readouterr()
    assert (rc, out) == (1, "")
    assert lines(err) == [f"{units}:1:1: error: file not found; pass the right path or create it",
                          f"{reg}:1:1: error: file not found; pass the right path or create it"]


def test_directory_instead_of_file(tmp_path, capsys):
    rc = main(["check", "--registry", str(tmp_path), "--units", str(FIXTURES / "units.yaml")])
    _, err = capsys.readouterr()
    assert rc == 1
    assert lines(err) == [f"{tmp_path}:1:1: error: is a directory, not a YAML file"]


def test_50_megabyte_random_text(check):
    rng = random.Random(7)
    words = ["任务", "tasks:", "- id", "lead", "市城管局", "2018-02-30", "{", "]", "'", "#", "&a", "*a", "abc"]
    line = " ".join(rng.choice(words) for _ in range(40)) + "\n"
    blob = "".join(" ".join(rng.sample(words, 6)) + " x\n" for _ in range(2000))
    text = (blob * (50_000_000 // len(blob.encode()) + 1))
    rc, out, err, reg, _ = check(line + text)
    assert rc == 1 and out == ""
    assert "Traceback" not in err
    assert all(x.startswith(f"{reg}:") and (": error: " in x or ": warning: " in x) for x in lines(err))


def test_50_megabyte_registry_of_repeated_tasks(check):
    """A big, valid-looking file: every third task id repeats. Finishes, reports at most 1001 lines."""
    head = TASKS.split("tasks:\n")[0] + "tasks:\n"
    block = "".join(f"  - id: t-{i}\n    doc: 郑政文〔2018〕143号\n    title: 第{i}项\n    lead: [市规划局, 市城管局]\n"
                    "    due: 2018-12-31\n" for i in range(3))
    text = head + block * (50_000_000 // len(block.encode()) + 1)
    assert len(text.encode()) > 50_000_000
    rc, out, err, reg, _ = check(text)
    assert rc == 1 and out == ""
    got = lines(err)
    assert len(got) == 1001
    assert got[0] == f"{reg}:39:9: error: duplicate task id 't-0' (first at {reg}:24:9)"
    assert got[-1].startswith(f"{reg}:") and "error: too many problems: " in got[-1]
    assert got[-1].endswith(" more not shown after the first 1000")


def test_file_over_the_size_limit(check, monkeypatch):
    from taskbot import yamlsrc

    monkeypatch.setattr(yamlsrc, "MAX_BYTES", 1024 * 1024)
    rc, _, err, reg, _ = check(TASKS + "#" * (1024 * 1024) + "\n")
    assert rc == 1
    assert lines(err) == [f"{reg}:1:1: error: file is larger than the limit of 1 MiB"]


def test_milestones_without_due(check):
    rc, _, err, reg, _ = check(edit(TASKS, "    due: 2018-12-31\n    due_text", "    due: null\n    due_text"))
    assert rc == 1
    assert lines(err) == [f"{reg}:33:5: error: a task with milestones needs a due date (the last milestone's)"]


# --- through a real process -----------------------------------------------------------------------

def _subprocess(*args: str):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=REPO, timeout=120)


def test_subprocess_valid():
    proc = _subprocess("check", "--registry", str(FIXTURES / "tasks.yaml"), "--units", str(FIXTURES / "units.yaml"))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, SUMMARY, "")


def test_subprocess_unknown_unit(tmp_path):
    reg = tmp_path / "tasks.yaml"
    reg.write_text(edit(TASKS, "    lead: [市城管局]", "    lead: [市城管]"), encoding="utf-8")
    proc = _subprocess("check", "--registry", str(reg), "--units", str(FIXTURES / "units.yaml"))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == f"{reg}:44:12: error: unknown unit '市城管'; did you mean 市城管局?\n"


def test_subprocess_binary_garbage(tmp_path):
    reg = tmp_path / "tasks.yaml"
    reg.write_bytes(bytes(random.Random(3).randrange(1, 256) for _ in range(100_000)))
    proc = _subprocess("check", "--registry", str(reg), "--units", str(FIXTURES / "units.yaml"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{reg}:1:1: error: ")


def test_unit_names_resolve_through_full_names_and_the_city_prefix():
    from taskbot.units import Unit, UnitDirectory

    units = UnitDirectory([Unit("市卫计委", "郑州市卫生和计划生育委员会", ("卫计委",), "department"),
                           Unit("市政府", "郑州市人民政府", ("市人民政府",), "other"),
                           Unit("新密市", "郑州市新密市", (), "district")], [])
    assert [units.resolve(n) for n in ("卫计委", "市卫计委", "郑州市卫生和计划生育委员会", "郑州市卫计委", "郑州市人民政府",
                                       "新密市人民政府", "新密市卫计委", "巩义市人民政府")] == [
        "市卫计委", "市卫计委", "市卫计委", "市卫计委", "市政府", "新密市", None, None]

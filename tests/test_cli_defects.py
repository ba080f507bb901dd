"""Small defects of the command line, each through a real `taskbot` process as a user types it."""

import json
from pathlib import Path

import pytest

from taskbot.registry import load_registry
from taskbot.store import Store
from tests.helpers import taskbot

ROOT = Path(__file__).resolve().parent.parent




@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "s.sqlite3"
    Store.open(str(path)).close()
    return str(path)


def test_inviting_a_group_names_its_members(db):
    result = taskbot("invite", "各县(市、区)政府", "--db", db)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "invite: 各县(市、区)政府 is a group of 12 units; invite one of them: 巩义市、登封市、新密市、荥阳市、新郑市、"
        "中牟县、中原区、二七区、金水区、管城回族区、惠济区、上街区")


def test_inviting_a_group_without_members_says_so(db):
    result = taskbot("invite", "各级政府", "--db", db)
    assert result.stderr.splitlines()[-1] == (
        "invite: 各级政府 is a group with no members yet; list its members in the unit directory, or invite one unit")


def test_simulate_a_group_expands_it_to_its_members():
    result = taskbot("simulate", "--from", "2018-08-01", "--to", "2018-12-31", "--unit", "各县(市、区)政府",
                     "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    members = set(load_registry(str(ROOT / "tasks.yaml"), str(ROOT / "data" / "units.yaml")).units.expand(
        "各县(市、区)政府"))
    assert rows and {r["unit"] for r in rows} == members
    one = taskbot("simulate", "--from", "2018-08-01", "--to", "2018-12-31", "--unit", "巩义市", "--format", "jsonl")
    assert [json.loads(line) for line in one.stdout.splitlines()] == [r for r in rows if r["unit"] == "巩义市"]


def test_simulate_text_says_no_due_date_instead_of_none():
    result = taskbot("simulate", "--from", "2018-08-01", "--to", "2018-08-01")
    assert result.returncode == 0
    assert "due None" not in result.stdout
    assert "2018-08-01T09:00:00+08:00  市综治办  hc-63      checkin     no due date     lead" in result.stdout.splitlines()


def test_simulate_with_an_empty_unit_is_an_error_not_every_unit():
    result = taskbot("simulate", "--from", "2018-08-01", "--to", "2018-08-31", "--unit", "")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == (
        "simulate: --unit is empty; name a unit or a group (any spelling), or leave --unit out for all")


@pytest.mark.parametrize("args,message", [
    (["--expires", "-1d"], "invite: expires must be a positive number with d, h or m, got: '-1d'"),
    (["--uses", "-3"], "invite: --uses must be positive, got: -3"),
])
def test_negative_values_get_the_values_message(db, args, message):
    result = taskbot("invite", "市城管局", *args, "--db", db)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == message


def test_an_unknown_option_prints_the_commands_usage():
    result = taskbot("check", "--frobnicate")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["usage: taskbot check [-h] [--registry REGISTRY] [--units UNITS]",
                                          "taskbot check: error: unrecognized arguments: --frobnicate"]


def test_check_units_on_an_empty_or_binary_file(tmp_path):
    empty, binary = tmp_path / "empty.yaml", tmp_path / "bin.yaml"
    empty.write_bytes(b"")
    binary.write_bytes(b"\x00\x01binary\x00" * 10)
    result = taskbot("check", "--units", str(empty))
    assert f"{empty}:1:1: error: the unit directory must be a mapping with 'units' and 'groups', got an empty file" \
        in result.stderr.splitlines()
    result = taskbot("check", "--units", str(binary))
    assert f"{binary}:1:1: error: cannot read file: the file looks binary (it holds NUL bytes); expected YAML text " \
           "in UTF-8 or GB18030" in result.stderr.splitlines()
    assert result.returncode == 1


def test_invite_expiry_is_local_time_of_the_registry_to_the_minute(db):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    before = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0) + timedelta(days=2)
    result = taskbot("invite", "市城管局", "--expires", "2d", "--db", db)
    after = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)
    first = result.stdout.splitlines()[0]
    prefix = "invite for 市城管局: 1 use(s), expires "
    assert first.startswith(prefix) and first.endswith(" (Asia/Shanghai)")
    shown = datetime.strptime(first[len(prefix):-len(" (Asia/Shanghai)")], "%Y-%m-%d %H:%M").replace(
        tzinfo=ZoneInfo("Asia/Shanghai"))
    assert before <= shown <= after

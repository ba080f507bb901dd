"""Every `taskbot` command and every one of its arguments has help text."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskbot import commands
from taskbot.board import commands as board_commands
from taskbot.cli import COMMANDS, build_parser, main

REPO = Path(__file__).resolve().parent.parent


def flat(text: str) -> str:
    """Help text with argparse's line wrapping undone."""
    return " ".join(text.split())


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_command_in_commands_has_a_subparser_and_a_function():
    assert set(_subparsers()) == set(COMMANDS)
    for name in COMMANDS:
        fn = "cmd_" + name.replace("-", "_")
        assert callable(getattr(commands, fn, None) or getattr(board_commands, fn)), name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_help_exits_0_and_prints_its_description(name, capsys):
    short, description = COMMANDS[name]
    assert short.strip() and description.strip()
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = flat(capsys.readouterr().out)
    assert out.startswith(f"usage: taskbot {name}")
    assert flat(description) in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_argument_has_help(name):
    parser = _subparsers()[name]
    for action in parser._actions:
        label = "/".join(action.option_strings) or action.dest
        assert action.help and action.help is not argparse.SUPPRESS and action.help.strip(), f"{name} {label}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_argument_appears_in_the_help_output(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    out = flat(capsys.readouterr().out)
    for action in _subparsers()[name]._actions:
        assert flat(action.help % {"default": action.default, "prog": "taskbot"}) in out, (name, action.help)


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = flat(capsys.readouterr().out)
    for name, (short, _) in COMMANDS.items():
        assert f"{name} {flat(short)}" in out, name


def test_top_level_options_have_help():
    # the COMMAND positional itself is described by the per-command lines tested above
    for action in build_parser()._actions:
        if not isinstance(action, argparse._SubParsersAction):
            assert action.help and action.help.strip(), action.dest


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_check_help_in_a_real_process():
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="200")
    proc = subprocess.run([sys.executable, "-m", "taskbot", "check", "--help"], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert flat(COMMANDS["check"][1]) in flat(proc.stdout)
    assert "--registry" in proc.stdout and "--units" in proc.stdout

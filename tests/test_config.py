"""One configuration for every command: taskbot.toml at the project root < environment < flags."""

import shutil
from pathlib import Path

import pytest

from taskbot import config
from taskbot.store import Store
from tests.helpers import taskbot

ROOT = Path(__file__).resolve().parent.parent




@pytest.fixture()
def project(tmp_path):
    """A copy of the project's registry and unit directory, with a docs/ subdirectory."""
    work = tmp_path / "office"
    (work / "data").mkdir(parents=True)
    (work / "docs" / "deep").mkdir(parents=True)
    shutil.copy(ROOT / "tasks.yaml", work)
    shutil.copy(ROOT / "data" / "units.yaml", work / "data")
    return work


def test_commands_in_a_subdirectory_use_the_database_and_url_of_taskbot_toml(project):
    (project / "taskbot.toml").write_text('db = "data/demo.sqlite3"\nhttp = "127.0.0.1:9111"\n', encoding="utf-8")
    Store.open(str(project / "data" / "demo.sqlite3")).close()
    result = taskbot("feed-url", "--all", cwd=project / "docs" / "deep")
    assert result.returncode == 0, result.stderr
    url = result.stdout.splitlines()[-1]
    assert url.startswith("http://127.0.0.1:9111/feeds/")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert Store.open(str(project / "data" / "demo.sqlite3")).feed_token(token).scope == "all"
    assert not (project / "data" / "taskbot.sqlite3").exists()
    assert not (project / "docs" / "deep" / "data").exists()


def test_file_then_environment_then_flags_each_shown_with_its_origin_and_the_token_masked(project):
    (project / "taskbot.toml").write_text(
        'db = "data/a.sqlite3"\nhttp = "127.0.0.1:9001"\ncoordinators = [111, 222]\n'
        'token_env = "OFFICE_BOT_TOKEN"\npublic_url = "https://duban.example.cn"\n', encoding="utf-8")
    env = {"TASKBOT_HTTP": "127.0.0.1:9002", "OFFICE_BOT_TOKEN": "987654:AAsecretsecretsecretsecret"}
    result = taskbot("config", "--http", "127.0.0.1:9003", cwd=project / "docs", env=env)
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert result.stdout.splitlines()[0] == f"project root: {project}"
    assert lines["config"] == f"config file: {project / 'taskbot.toml'}"
    assert lines["db"].split() == ["db", str(project / "data" / "a.sqlite3"), "[taskbot.toml]"]
    assert lines["http"].split() == ["http", "127.0.0.1:9003", "[--http]"]
    assert lines["token"].split() == ["token", "987654:***", "[env", "OFFICE_BOT_TOKEN]"]
    assert lines["coordinators"].split() == ["coordinators", "111,222", "[taskbot.toml]"]
    assert "secret" not in result.stdout
    env_only = taskbot("config", cwd=project, env=env)
    assert "127.0.0.1:9002  [env TASKBOT_HTTP]" in env_only.stdout


@pytest.mark.parametrize("text,message", [
    ('dbb = "x.sqlite3"\n', "unknown setting 'dbb'; did you mean db?; settings: registry, units, db, http, "
                            "public_url, api_url, token_env, coordinators, clock, outbox, webhook_url"),
    ('token = "123:abc"\n', 'do not write the Telegram token in the file; put it in an environment variable and '
                            'name it: token_env = "TASKBOT_TELEGRAM_TOKEN"'),
    ('coordinators = "12,x"\n', "TASKBOT_COORDINATORS must be comma-separated Telegram user ids, got 'x' "
                                "(from taskbot.toml: coordinators)"),
    ('http = 8080\n', "http must be a string in quotes, got 8080"),
])
def test_a_bad_taskbot_toml_is_one_clear_line(project, text, message):
    (project / "taskbot.toml").write_text(text, encoding="utf-8")
    result = taskbot("config", cwd=project)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.strip().endswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_toml_syntax_error_names_the_file_and_line(project):
    (project / "taskbot.toml").write_text('db = "x\n', encoding="utf-8")
    result = taskbot("check", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith(f"check: {project / 'taskbot.toml'}: ") and "line 1" in result.stderr


def test_outside_any_project_the_missing_registry_message_says_where_it_looked(tmp_path):
    result = taskbot("check", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"check: no tasks.yaml in {tmp_path} or any parent directory (the project root is the "
                             "nearest one with taskbot.toml or tasks.yaml); run taskbot inside the project, or pass "
                             "--registry PATH\n")


def test_find_root_walks_up_like_git(project):
    assert config.find_root(str(project / "docs" / "deep")) == str(project)
    assert config.find_root(str(project)) == str(project)


def test_env_paths_are_relative_to_the_root_and_flag_paths_to_the_current_directory(project):
    cfg = config.load({"units": "u.yaml"}, env={"TASKBOT_DB": "data/e.sqlite3"}, cwd=str(project / "docs"))
    assert cfg.db == str(project / "data" / "e.sqlite3")
    assert cfg.units == "u.yaml" and cfg.registry == str(project / "tasks.yaml")
    assert cfg.origins == {"db": "env TASKBOT_DB", "units": "--units"}


def test_mask_token_keeps_only_the_bot_id():
    assert config.mask_token("123456:AAHsecret") == "123456:***"
    assert config.mask_token("garbage") == "***" and config.mask_token(None) == "not set"


@pytest.mark.parametrize("command", [["feed-url", "--all"], ["run"]])
@pytest.mark.parametrize("value", ["notaurl", "ftp://example.cn", "http://", "http://h:99999"])
def test_a_public_url_that_is_not_an_http_url_is_refused(project, command, value):
    Store.open(str(project / "data" / "taskbot.sqlite3")).close()
    result = taskbot(*command, "--public-url", value, cwd=project)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"{command[0]}: --public-url (TASKBOT_PUBLIC_URL) must be an http:// or https:// URL "
                             f"such as https://duban.example.cn, got {value!r}\n")


def test_reload_from_a_subdirectory_finds_the_pid_file_beside_the_configured_database(project):
    (project / "taskbot.toml").write_text('db = "state/office.sqlite3"\n', encoding="utf-8")
    result = taskbot("reload", cwd=project / "docs" / "deep")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (f"reload: no running bot found through {project / 'state' / 'office.pid'}"
                                              " (FileNotFoundError); start it with `python bot.py`")


def test_a_password_holding_an_at_sign_is_never_shown():
    from taskbot.dburl import redact_url

    assert redact_url("postgresql://u:p@ss@db.example/taskbot") == "postgresql://***@db.example/taskbot"
    assert redact_url("data/taskbot.sqlite3") == "data/taskbot.sqlite3"

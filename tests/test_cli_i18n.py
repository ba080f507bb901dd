"""The command line speaks the catalogue's Chinese under a zh_* locale and English otherwise; the
`PATH:LINE:COL: error:` prefix of diagnostics stays the same for tools."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskbot.i18n import locale_lang
from taskbot.store import Store

ROOT = Path(__file__).resolve().parent.parent


def taskbot(*args, lang):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKBOT_", "LC_", "LANG"))}
    env.update({"PYTHONPATH": str(ROOT), "LANG": lang})
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def test_errors_and_counts_in_chinese_under_a_chinese_locale(tmp_path):
    db = tmp_path / "s.sqlite3"
    Store.open(str(db)).close()
    zh = taskbot("invite", "市城管局", "--uses", "0", "--db", str(db), lang="zh_CN.UTF-8")
    en = taskbot("invite", "市城管局", "--uses", "0", "--db", str(db), lang="C.UTF-8")
    n = en.stderr.split()[0]
    assert en.stderr == f"{n} warnings: run taskbot check\ninvite: --uses must be positive, got: 0\n"
    assert zh.stderr == f"{n} 条警告:运行 taskbot check 查看\ninvite: --uses 须为正数,收到:0\n"
    missing = taskbot("feed-url", "--all", "--db", str(tmp_path), lang="zh_CN.UTF-8")
    assert missing.stderr.splitlines()[-1] == (
        f"feed-url: 数据库 {tmp_path} 是目录而不是文件;请给出文件路径,例如 {tmp_path / 'taskbot.sqlite3'}")


def test_invite_output_in_chinese(tmp_path):
    db = tmp_path / "s.sqlite3"
    Store.open(str(db)).close()
    out = taskbot("invite", "市城管局", "--db", str(db), lang="zh_CN.UTF-8").stdout.splitlines()
    assert out[0].startswith("市城管局 的邀请码:可用 1 次,") and out[0].endswith("(Asia/Shanghai)失效")
    assert out[1] == f"联络员发送:/join {out[2]}"


def test_the_diagnostic_prefix_is_the_same_in_every_language(tmp_path):
    bad = tmp_path / "tasks.yaml"
    bad.write_text((ROOT / "tasks.yaml").read_text(encoding="utf-8").replace("lead: [市城管局", "lead: [市城管", 1),
                   encoding="utf-8")
    zh = taskbot("check", "--registry", str(bad), lang="zh_CN.UTF-8")
    en = taskbot("check", "--registry", str(bad), lang="en_US.UTF-8")
    assert zh.returncode == en.returncode == 1
    errors = [line for line in zh.stderr.splitlines() if ": error: " in line]
    assert errors and errors == [line for line in en.stderr.splitlines() if ": error: " in line]
    assert errors[0].startswith(f"{bad}:")


@pytest.mark.parametrize("env,lang", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "zh_TW.UTF-8"}, "zh"), ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"), ({}, "en"), ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LANGUAGE": "en", "LC_ALL": "zh_CN.UTF-8"}, "en"),
])
def test_locale_lang_reads_the_locale_as_gettext_does(env, lang):
    assert locale_lang(env) == lang


def test_a_bad_setting_in_chinese():
    zh = taskbot("feed-url", "--all", "--public-url", "notaurl", lang="zh_CN.UTF-8")
    assert (zh.returncode, zh.stderr) == (
        1, "feed-url: --public-url(TASKBOT_PUBLIC_URL)须为 http:// 或 https:// 地址,例如 https://duban.example.cn,"
           "收到 'notaurl'\n")

"""Hostile input to the bot and the CLI: typed numbers out of range, forged buttons, group bystanders.

The real PTB application against the Bot API emulator (tests/tgemu.py), as in tests/test_bot.py.
"""

from __future__ import annotations

import pytest

from taskbot.bot.flood import BURST
from tests.test_bot import BOT, COORD, GROUP, LIAISON, REFUSAL, STRANGER, cfg, nine, run, running  # noqa: F401
from tests.helpers import taskbot

STALE = "此按钮不在这条消息上(或已失效),未作任何更改。请发送 /tasks 获取最新列表。"


def test_typed_numbers_out_of_range_get_the_range_not_an_error(cfg):
    async def body():
        async with running(cfg, burst=BURST) as env:
            env.join(LIAISON, "市城管局")
            for days in ("²", "٣", "99999999999999999999", "-1", "3661"):
                assert await env.say(LIAISON, LIAISON, f"/due {days}") == "用法:/due [DAYS] (0–3660)"
            usage = "用法:/invite UNIT [USES 1-1000] [7d|12h|30m, at most 365d]"
            for args in ("99999999d", "366d", "8761h", "525601m", "99999999999999999999", "1001", "0"):
                assert await env.say(COORD, COORD, f"/invite 城管局 {args}") == usage
            # digits that are not ASCII are no number: they are read as part of the unit's name
            assert await env.say(COORD, COORD, "/invite 城管局 ²d") == "未知单位 城管局 ²d。"
            assert (await env.say(COORD, COORD, "/invite 城管局 1000 365d")).startswith("市城管局的邀请码:可用1000次,有效期至2019-09-03 08:00。")
            assert not any("出错了" in s["text"] for s in env.emu.sent)
    run(body())


@pytest.mark.parametrize("args, message", [
    (["--expires", "99999999d"], "invite: expires must be at most 365d (8760h, 525600m), got: '99999999d'"),
    (["--expires", "²d"], "invite: expires must be a positive number with d, h or m, got: '²d'"),
    (["--uses", "99999999999999999999"], "invite: --uses must be at most 1000, got: 99999999999999999999"),
])
def test_cli_invite_bounds_every_number(tmp_path, args, message):
    result = taskbot("invite", "市城管局", *args, "--db", str(tmp_path / "state.sqlite3"))
    assert (result.returncode, result.stdout, result.stderr.splitlines()[-1]) == (1, "", message)
    assert "Traceback" not in result.stderr


def test_a_forged_confirmation_from_a_coordinator_is_refused(cfg):
    async def body():
        async with running(cfg, burst=BURST) as env:
            env.join(COORD, "市城管局")
            await env.at(nine())
            (digest,) = env.to(COORD)
            audit = env.store.audit_log()
            # the digest offers 标记完成 (x:) but never asked to confirm (y:): a client forges the confirmation
            answer = await env.press(COORD, COORD, digest["message_id"], "y:cw-01")
            assert (answer["text"], answer["show_alert"]) == (STALE, True)
            # a button for an item the message does not list, and a detail the message does not offer
            assert (await env.press(COORD, COORD, digest["message_id"], "x:cw-02"))["text"] == STALE
            assert (await env.press(COORD, COORD, digest["message_id"], "d:cw-02"))["text"] == STALE
            assert env.store.task_state("cw-01").status == "open" and env.store.audit_log() == audit
            assert env.emu.edits == []
            # the real two steps still work, in one go
            await env.press(COORD, COORD, digest["message_id"], "x:cw-01")
            await env.press(COORD, COORD, digest["message_id"], "y:cw-01")
            assert env.store.task_state("cw-01").status == "done"
    run(body())


FLOODER, OTHER = 700100, 700200
TOO_MANY = "请求过于频繁。请等待 {n} 秒后再发送;在此之前的消息将被忽略。"


def test_one_users_flood_does_not_stall_replies_to_others(cfg):
    """With the emulator's rate limits on: 500 /whoami from one user, then another user's /help."""
    async def body():
        async with running(cfg, limits=True, burst=BURST) as env:
            t = [1000.0]
            env.app.update_processor.seconds = lambda: t[0]  # the flood window's clock, driven here
            for _ in range(500):
                env.emu.inject_message(FLOODER, FLOODER, "/whoami")
            env.emu.inject_message(OTHER, OTHER, "/help")
            await env.emu.wait_for(lambda e: env.to(OTHER), timeout=60)
            assert env.to(OTHER)[0]["text"].startswith("命令:\n/start")
            # the flooder gets the first ten answers and one warning; the other 489 are dropped
            await env.emu.wait_for(lambda e: len(env.to(FLOODER)) == 11 and not e.updates, timeout=60)
            texts = [s["text"] for s in env.to(FLOODER)]
            assert all(text.startswith(f"用户ID:{FLOODER}") for text in texts[:10])
            assert texts[10] == TOO_MANY.format(n=10)
            # ...and the other user's reply did not wait for the flooder's backlog (sent at about 1/s)
            order = [s["chat_id"] for s in env.emu.sent]
            assert order.index(OTHER) < len(order) - 1 - order[::-1].index(FLOODER)
            assert env.app.bot_data["flood"].dropped == 489
            # until the window passes, the flooder is ignored; then answered again
            t[0] += 9.5
            env.emu.inject_message(FLOODER, FLOODER, "/whoami")
            env.emu.inject_message(OTHER, OTHER, "/whoami")
            await env.emu.wait_for(lambda e: len(env.to(OTHER)) == 2 and not e.updates, timeout=30)
            assert len(env.to(FLOODER)) == 11
            t[0] += 0.5
            env.emu.inject_message(FLOODER, FLOODER, "/whoami")
            await env.emu.wait_for(lambda e: len(env.to(FLOODER)) == 12, timeout=30)
            assert env.to(FLOODER)[11]["text"].startswith(f"用户ID:{FLOODER}")
    run(body(), timeout=120)


def test_a_flood_of_button_presses_gets_one_alert(cfg):
    async def body():
        async with running(cfg, burst=BURST) as env:
            env.app.update_processor.seconds = lambda: 0.0
            env.join(COORD, "市城管局")
            await env.at(nine())
            (digest,) = env.to(COORD)
            for _ in range(30):
                env.emu.inject_callback(COORD, COORD, digest["message_id"], "d:cw-01")
            await env.emu.wait_for(lambda e: len(e.callback_answers) == 11 and not e.updates, timeout=30)
            warning = env.emu.callback_answers[10]
            assert (warning["text"], warning["show_alert"]) == (TOO_MANY.format(n=10), True)
            assert len(env.to(COORD)) == 11  # the digest and ten details
    run(body())


ADMIN, OWNER = 700300, 700301
BYSTANDER_REFUSAL = "在群组中,只有将本群加入单位的成员、群管理员和督查室可以执行此操作。未作任何更改。"


def test_in_a_group_only_the_joiner_admins_and_coordinators_leave_or_change_the_language(cfg):
    async def body():
        async with running(cfg, burst=BURST) as env:
            env.store.upsert_chat(GROUP, "group", "联络群", env.clock.now())
            env.store.join(GROUP, "市城管局", LIAISON, env.clock.now())  # LIAISON joined the group to the unit
            env.emu.set_member(GROUP, ADMIN, "administrator")
            env.emu.set_member(GROUP, OWNER, "creator")
            # a bystander (a plain member of the group) can neither leave for it nor switch its language
            assert await env.say(GROUP, STRANGER, f"/leave@{BOT}", "group") == BYSTANDER_REFUSAL
            assert await env.say(GROUP, STRANGER, f"/leave@{BOT} 市城管局", "group") == BYSTANDER_REFUSAL
            assert await env.say(GROUP, STRANGER, f"/lang@{BOT} en", "group") == BYSTANDER_REFUSAL
            assert env.store.chat_units(GROUP) == ["市城管局"] and env.store.chat(GROUP).lang == "zh"
            assert not [a for a in env.store.audit_log() if a.action == "leave"]
            # administrators, the owner, coordinators and the joiner can
            assert await env.say(GROUP, ADMIN, f"/lang@{BOT} en", "group") == "Language set to English."
            assert await env.say(GROUP, OWNER, f"/lang@{BOT} zh", "group") == "语言已设为中文。"
            assert await env.say(GROUP, COORD, f"/lang@{BOT} en", "group") == "Language set to English."
            assert await env.say(GROUP, LIAISON, f"/lang@{BOT} zh", "group") == "语言已设为中文。"
            assert await env.say(GROUP, LIAISON, f"/leave@{BOT}", "group") == "已退出市城管局,本会话不再接收其提醒。"
            assert env.emu.requests["getChatMember"] >= 3
            # in a private chat its user decides
            env.join(STRANGER, "市城管局")
            assert await env.say(STRANGER, STRANGER, "/lang en") == "Language set to English."
            assert await env.say(STRANGER, STRANGER, "/leave") == "Left 市城管局. No more reminders for them here."
    run(body())


def test_a_group_admin_check_that_fails_refuses(cfg):
    async def body():
        async with running(cfg, burst=BURST) as env:
            env.store.upsert_chat(GROUP, "group", "联络群", env.clock.now())
            env.store.join(GROUP, "市城管局", LIAISON, env.clock.now())
            env.emu.set_member(GROUP, ADMIN, "administrator")
            env.emu.fail_next("getChatMember", 500, count=10)
            assert await env.say(GROUP, ADMIN, f"/leave@{BOT}", "group") == BYSTANDER_REFUSAL
            assert env.store.chat_units(GROUP) == ["市城管局"]
    run(body())


def test_flood_gate_answers_a_burst_warns_once_then_drops_until_the_window_passes():
    from taskbot.bot.flood import ADMIT, DROP, WARN, FloodGate

    gate = FloodGate(burst=3, window=10.0)
    assert [gate.verdict(1, 100.0 + i / 10) for i in range(6)] == [ADMIT, ADMIT, ADMIT, WARN, DROP, DROP]
    assert gate.wait(1, 100.5) == 10 and gate.wait(1, 109.2) == 1
    assert gate.verdict(2, 105.0) == ADMIT  # others are counted apart
    assert gate.verdict(1, 109.9) == DROP
    assert gate.verdict(1, 110.0) == ADMIT  # the window passed
    assert gate.dropped == 3
    gate.verdict(3, 200.0)  # a later call forgets the windows that passed
    assert set(gate._users) == {3}

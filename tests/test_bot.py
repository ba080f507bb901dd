"""The Telegram bot: the real PTB Application (taskbot.bot) against the Bot API emulator on 127.0.0.1.

Time is driven by a frozen Clock (advance + service.tick()); waits are on emulator events under timeouts.
"""

import asyncio
import contextlib
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from taskbot.bot import TelegramTransport, build_application
from taskbot.bot.flood import FloodGate
from taskbot.clock import Clock
from taskbot.config import Config
from taskbot.registry import load_registry
from taskbot.service import Service
from taskbot.store import Store
from tests.tgemu import BotApiEmulator

TOKEN = "123456:TEST"
BOT = "taskbot_test_bot"
CST = timezone(timedelta(hours=8))
START = datetime(2018, 9, 3, 8, 0, tzinfo=CST)  # a Monday; cw-01 (due 09-10) is reminded at 09:00
COORD, LIAISON, PLANNER, STRANGER = 900001, 700001, 700002, 700009
GROUP = -4001

TASKS = """\
settings:
  timezone: Asia/Shanghai
  coordinators: [900001]
  reminders: {before_days: [7, 0], at: "09:00", escalate_after: 10, overdue_every: 7, ongoing: none}
documents:
  - number: 郑政文〔2018〕143号
    title: 郑州市人民政府关于印发郑州市建筑垃圾治理试点工作实施方案的通知
    issued: 2018-08-07
    issuer: 郑州市人民政府
tasks:
  - id: cw-01
    doc: 郑政文〔2018〕143号
    ref: 二(一)1
    title: 编制完成建筑垃圾专项规划
    lead: [市城管局]
    cooperating: [各县(市、区)政府]
    due: 2018-09-10
    due_text: 2018年9月10日前
    milestones:
      - {due: 2018-09-05, title: 完成规划初稿}
      - {due: 2018-09-10, title: 规划通过审查}
  - id: cw-02
    doc: 郑政文〔2018〕143号
    ref: 二(一)2
    title: 建成建筑垃圾资源化处置厂
    lead: [市规划局]
    due: 2018-12-31
  - id: cw-03
    doc: 郑政文〔2018〕143号
    title: 开展建筑垃圾运输专项整治
    lead: [市城管局]
    due: 2018-08-31
"""
UNITS = """\
units:
  - {name: 市城管局, full_name: 郑州市城市管理局, aliases: [城管局], kind: department}
  - {name: 市规划局, full_name: 郑州市城乡规划局, aliases: [规划局], kind: department}
  - {name: 巩义市, kind: district}
  - {name: 荥阳市, kind: district}
groups:
  - {name: 各县(市、区)政府, aliases: [], members: [巩义市, 荥阳市]}
"""
REFUSAL = "只有督查室(协调员)可以更改事项状态。未作任何更改。"


def run(coro, timeout=45):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture
def cfg(tmp_path):
    (tmp_path / "tasks.yaml").write_text(TASKS, encoding="utf-8")
    (tmp_path / "units.yaml").write_text(UNITS, encoding="utf-8")
    return Config(registry=str(tmp_path / "tasks.yaml"), units=str(tmp_path / "units.yaml"),
                  db=str(tmp_path / "taskbot.sqlite3"), token=TOKEN, http="127.0.0.1:0",
                  outbox=str(tmp_path / "outbox.jsonl"))


@dataclass
class Env:
    emu: BotApiEmulator
    svc: Service
    clock: Clock
    app: object = None

    @property
    def store(self):
        return self.svc.store

    def to(self, chat_id):
        return [s for s in self.emu.sent if s["chat_id"] == chat_id]

    async def say(self, chat_id, user_id, text, chat_type="private"):
        """Send a message as a user and return the bot's (first) reply text."""
        before = len(self.to(chat_id))
        self.emu.inject_message(chat_id, user_id, text, chat_type=chat_type)
        await self.emu.wait_for(lambda e: len(self.to(chat_id)) > before, timeout=10)
        return self.to(chat_id)[before]["text"]

    async def press(self, chat_id, user_id, message_id, data):
        """Press an inline button; returns the callback answer."""
        before = len(self.emu.callback_answers)
        self.emu.inject_callback(chat_id, user_id, message_id, data)
        await self.emu.wait_for(lambda e: len(e.callback_answers) > before, timeout=10)
        return self.emu.callback_answers[before]

    def join(self, chat_id, unit, chat_type="private"):
        self.store.upsert_chat(chat_id, chat_type, None, self.clock.now())
        self.store.join(chat_id, unit, chat_id if chat_id > 0 else None, self.clock.now())

    async def at(self, when):
        """Move the frozen clock to `when`, ticking every 5 minutes as the scheduler's sweep would."""
        report = None
        while report is None or self.clock.now() < when:
            self.clock.advance(min(when - self.clock.now(), timedelta(minutes=5)))
            report = await self.svc.tick()
        return report


@contextlib.asynccontextmanager
async def running(cfg, *, limits=False, attempts=3, burst=100):  # flood.BURST is 10
    """The bot against the emulator; `burst` commands per user in 10 s before flood control (its own tests
    in test_bot_hostile use the real default)."""
    async with BotApiEmulator(TOKEN, limits=limits, bot_username=BOT) as emu:
        cfg.api_url = emu.base_url
        clock = Clock(START, frozen=True)
        store = Store.open(cfg.db)
        app = build_application(cfg, gate=FloodGate(burst=burst))
        transport = TelegramTransport(app.bot, attempts=attempts, backoff=0.01)
        svc = Service(cfg, clock, store, load_registry(cfg.registry, cfg.units), transport)
        app.bot_data["service"] = svc
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await svc.tick()  # a fresh install starts counting from now
        try:
            yield Env(emu, svc, clock, app)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            store.close()


def nine(day=3):
    return datetime(2018, 9, day, 9, 0, tzinfo=CST)


# --- menu, help, language ------------------------------------------------------------------------------

def test_menu_help_and_language(cfg):
    async def body():
        async with running(cfg) as env:
            cmds = {key[1]: [c["command"] for c in v] for key, v in env.emu.commands.items()}
            names = ["start", "help", "join", "leave", "tasks", "due", "overdue", "task", "progress", "done",
                     "undo", "invite", "feed", "board", "lang", "checkins", "whoami"]
            assert cmds == {"": names, "zh": names, "en": names}
            en = {c["command"]: c["description"] for key, v in env.emu.commands.items() if key[1] == "en" for c in v}
            zh = {c["command"]: c["description"] for key, v in env.emu.commands.items() if key[1] == "zh" for c in v}
            assert zh["done"] == "标记事项完成(仅督查室)"
            assert en["done"] == "Mark an item done (coordinators only)"
            assert await env.say(LIAISON, LIAISON, "/help") == textwrap.dedent(f"""\
                命令:
                /start — 开始;附邀请码则加入单位
                /help — 命令列表
                /join 邀请码 — 用邀请码加入单位,成为联络员
                /leave — 退出本会话所属单位,不再接收提醒
                /tasks — 本单位未完成事项
                /due [天数] — 指定天数内到期的事项(默认14天)
                /overdue — 本单位逾期事项
                /task 编号 — 事项详情:文件、单位、时限、节点、状态、进展
                /progress 编号 内容 — 报送本单位事项进展
                /feed — 我的日历订阅地址(webcal:// 与 http(s)://)
                /board — 我的督查看板地址(网页与Excel导出)
                /lang zh|en — 语言:中文 (zh) 或 English (en)
                /checkins list|brief — 提醒中的进展填报事项:逐项列出(list)或合并为一行(brief)
                /whoami — 我的信息:用户ID、会话、单位、身份

                在群里请带上机器人名称:/tasks@{BOT}
                中文: /lang zh · English: /lang en""")
            assert await env.say(LIAISON, LIAISON, "/lang en") == "Language set to English."
            help_en = await env.say(LIAISON, LIAISON, "/help")
            assert help_en.startswith("Commands:\n/start — Start; with an invite code, join a unit\n")
            assert "/done" not in help_en  # coordinator commands are listed to coordinators only
            assert "\n/done 编号 [备注] — 标记事项完成(仅督查室)\n" in await env.say(COORD, COORD, "/help")
            assert await env.say(LIAISON, LIAISON, "/lang fr") == "Usage: /lang zh or /lang en"
            assert await env.say(LIAISON, LIAISON, "/lang zh") == "语言已设为中文。"
            assert await env.say(LIAISON, LIAISON, "/nosuch") == "未知命令。发送 /help 查看命令列表。"
            assert await env.say(LIAISON, LIAISON, "/checkins") == "用法:/checkins list 或 /checkins brief(当前:brief)"
            assert await env.say(LIAISON, LIAISON, "/checkins list") == "提醒中将逐项列出进展填报事项。"
            assert env.store.get_meta(f"checkins:{LIAISON}") == "list"
            assert await env.say(LIAISON, LIAISON, "/checkins brief") == "提醒中的进展填报事项将合并为一行。"
            assert env.store.get_meta(f"checkins:{LIAISON}") is None
            assert (await env.say(GROUP, LIAISON, f"/help@{BOT}", "group")).startswith("命令:\n/start")
            assert (await env.say(LIAISON, LIAISON, "/whoami")).splitlines() == [
                f"用户ID:{LIAISON}", f"会话:{LIAISON}(private)", "身份:未登记", "所属单位:—", "语言:zh"]
    run(body())


# --- joining -------------------------------------------------------------------------------------------

def test_invite_and_join(cfg, capsys):
    from taskbot.cli import main

    async def body():
        async with running(cfg) as env:
            assert await env.say(LIAISON, LIAISON, "/invite 城管局") == "只有督查室(协调员)可以生成邀请码。"
            assert await env.say(GROUP, COORD, f"/invite@{BOT} 城管局", "group") == \
                "请在与我的私聊中发送 /invite,不要在群里发送。"
            assert await env.say(COORD, COORD, "/invite 城管局 0d") == "用法:/invite UNIT [USES 1-1000] [7d|12h|30m, at most 365d]"
            assert await env.say(COORD, COORD, "/invite 各县(市、区)政府") == "各县(市、区)政府是单位组,请分别邀请其中的单位。"
            reply = await env.say(COORD, COORD, "/invite 城管局 2")
            head, link, join_line = reply.splitlines()
            code = join_line.rsplit(" ", 1)[1]
            assert head == "市城管局的邀请码:可用2次,有效期至2018-09-10 08:00。"
            assert link == f"https://t.me/{BOT}?start={code}"
            assert await env.say(LIAISON, LIAISON, f"/join {code}") == \
                "已加入市城管局。本会话将接收该单位的提醒。查看事项:/tasks"
            assert await env.say(GROUP, STRANGER, f"/start@{BOT} {code}", "group") == \
                "已加入市城管局。本会话将接收该单位的提醒。查看事项:/tasks"  # a group chat joins via deep link
            assert await env.say(PLANNER, PLANNER, f"/join {code}") == "邀请码已用完,请向督查室索取新的邀请码。"
            assert await env.say(PLANNER, PLANNER, "/join NOPE234") == "邀请码无效,请核对后重新发送。"
            assert await env.say(PLANNER, PLANNER, "/join") == "用法:/join CODE"
            assert env.store.members() == {"市城管局": [GROUP, LIAISON]}
            # the CLI prints the code as its last line; it expires
            assert main(["invite", "规划局", "--uses", "1", "--expires", "1d", "--db", cfg.db,
                         "--registry", cfg.registry, "--units", cfg.units]) == 0
            cli_code = capsys.readouterr().out.strip().splitlines()[-1]
            env.clock.advance(datetime.now(timezone.utc) + timedelta(days=2) - env.clock.now())  # CLI: real time
            assert await env.say(PLANNER, PLANNER, f"/join {cli_code}") == "邀请码已过期,请向督查室索取新的邀请码。"
            assert (await env.say(GROUP, STRANGER, f"/leave@{BOT}", "group")) == "已退出市城管局,本会话不再接收其提醒。"
            assert await env.say(GROUP, STRANGER, f"/leave@{BOT}", "group") == "本会话尚未加入任何单位。"
            actions = [a.action for a in env.store.audit_log()]
            assert actions.count("join") == 2 and "invite" in actions and "leave" in actions

    run(body())


def test_cli_invite_code_joins(cfg, capsys):
    from taskbot.cli import main

    Store.open(cfg.db).close()  # only `taskbot run` and `taskbot init` create a database
    assert main(["invite", "规划局", "--db", cfg.db, "--registry", cfg.registry, "--units", cfg.units]) == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]

    async def body():
        async with running(cfg) as env:
            env.clock.advance(datetime.now(timezone.utc) - env.clock.now())  # the code was made in real time
            assert await env.say(PLANNER, PLANNER, f"/start {code}") == \
                "已加入市规划局。本会话将接收该单位的提醒。查看事项:/tasks"
            assert env.store.chat_units(PLANNER) == ["市规划局"]
    run(body())


# --- digests -------------------------------------------------------------------------------------------

def test_digest_arrives_at_nine_with_buttons(cfg):
    async def body():
        async with running(cfg) as env:
            env.join(LIAISON, "市城管局")
            env.join(COORD, "市城管局")
            await env.at(nine() - timedelta(minutes=1))
            assert env.emu.sent == []
            report = await env.at(nine())
            assert report.recorded == 4 and report.messages == 2
            (liaison,), (coord,) = env.to(LIAISON), env.to(COORD)
            assert liaison["text"].startswith("📋 督办事项提醒 · 2018-09-03")
            assert "cw-01 编制完成建筑垃圾专项规划 · 2018-09-10 · 剩余7天 · 牵头" in liaison["text"] and "cw-03 开展建筑垃圾运输专项整治" in liaison["text"]
            buttons = [[b["callback_data"] for b in row] for row in liaison["reply_markup"]["inline_keyboard"]]
            assert buttons == [["d:cw-03"], ["d:cw-01"]]
            buttons = [[b["text"] for b in row] for row in coord["reply_markup"]["inline_keyboard"]]
            assert buttons[0] == ["ℹ️ cw-03 详情", "✅ 标记完成 cw-03"]
            await env.at(nine() + timedelta(minutes=5))
            assert len(env.emu.sent) == 2  # nothing is sent twice
            answer = await env.press(LIAISON, LIAISON, liaison["message_id"], "d:cw-01")
            assert "show_alert" not in answer
            await env.emu.wait_for(lambda e: len(env.to(LIAISON)) == 2)
            assert env.to(LIAISON)[1]["text"].startswith("📄 cw-01 编制完成建筑垃圾专项规划\n文件:郑政文〔2018〕143号")
    run(body())


def test_serve_sends_digest_at_the_right_moment_under_clock(cfg, tmp_path):
    from taskbot.app import serve

    store = Store.open(cfg.db)
    store.upsert_chat(LIAISON, "private", None, START)
    store.join(LIAISON, "市城管局", LIAISON, START)
    store.close()

    async def body():
        async with BotApiEmulator(TOKEN, bot_username=BOT) as emu:
            cfg.api_url = emu.base_url
            cfg.clock = nine() - timedelta(seconds=1.5)
            stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
            server = asyncio.create_task(serve(cfg, load_registry(cfg.registry, cfg.units), stop,
                                               ready=ready.set_result))
            svc = await asyncio.wait_for(ready, 15)
            try:
                assert svc.clock.now() < nine() and emu.sent == []
                await emu.wait_for(lambda e: any(s["chat_id"] == LIAISON for s in e.sent), timeout=10)
                assert svc.clock.now() >= nine()
                assert [s for s in emu.sent if s["chat_id"] == LIAISON][0]["text"].startswith("📋 督办事项提醒 · 2018-09-03")
                assert (await _reply(emu, LIAISON, "/overdue")).startswith("逾期事项(1)\n🔴 cw-03")
            finally:
                stop.set()
                assert await asyncio.wait_for(server, 20) == 0
    run(body())


async def _reply(emu, chat_id, text):
    mine = lambda: [s for s in emu.sent if s["chat_id"] == chat_id]  # noqa: E731
    before = len(mine())
    emu.inject_message(chat_id, chat_id, text)
    await emu.wait_for(lambda e: len(mine()) > before, timeout=10)
    return mine()[before]["text"]


# --- status changes ------------------------------------------------------------------------------------

def test_coordinator_done_and_undo_by_command(cfg):
    async def body():
        async with running(cfg) as env:
            env.join(LIAISON, "市城管局")
            env.join(PLANNER, "市规划局")
            assert await env.say(COORD, COORD, "/done cw-01 规划已印发") == "✅ cw-01 编制完成建筑垃圾专项规划 已标记为完成。"
            await env.emu.wait_for(lambda e: len(env.to(LIAISON)) == 1)
            assert env.to(LIAISON)[0]["text"] == "✅ 督查室已将 cw-01 编制完成建筑垃圾专项规划 标记为完成。\n备注:规划已印发"
            state = env.store.task_state("cw-01")
            assert (state.status, state.done_by, state.note) == ("done", str(COORD), "规划已印发")
            assert await env.say(COORD, COORD, "/done cw-01") == "cw-01 已是完成状态。"
            detail = await env.say(COORD, COORD, "/task cw-01")
            assert "状态:已于2018-09-03完成 · 操作人 900001\n备注:规划已印发" in detail and "操作记录:" in detail
            group_detail = await env.say(GROUP, COORD, f"/task@{BOT} cw-01", "group")
            assert "操作记录" not in group_detail and "900001" not in group_detail  # nothing leaks into groups
            assert await env.say(COORD, COORD, "/undo cw-01") == "↩️ cw-01 编制完成建筑垃圾专项规划 已重新打开。"
            await env.emu.wait_for(lambda e: len(env.to(LIAISON)) == 2, timeout=5)
            assert env.to(LIAISON)[1]["text"] == "↩️ 督查室已将 cw-01 编制完成建筑垃圾专项规划 重新打开。"
            assert env.store.task_state("cw-01").status == "open"
            assert [(a.action, a.before, a.after) for a in env.store.audit_log("cw-01") if a.action == "status"] == [
                ("status", "done", "open"), ("status", "open", "done")]
            assert env.to(PLANNER) == []  # only the lead unit's liaisons are told
            assert await env.say(COORD, COORD, "/done cw-1") == "未找到事项 cw-1。您是不是要找 cw-01?"
            long_note = "很" * 501
            assert await env.say(COORD, COORD, f"/done cw-02 {long_note}") == \
                "内容过长(501字,上限500字),未保存。请精简后重新发送。"
            assert env.store.task_state("cw-02").status == "open"
    run(body())


def test_coordinator_marks_done_by_button(cfg):
    async def body():
        async with running(cfg) as env:
            env.join(COORD, "市城管局")
            env.join(LIAISON, "市城管局")
            await env.at(nine())
            (digest,) = env.to(COORD)
            mid = digest["message_id"]
            answer = await env.press(COORD, COORD, mid, "x:cw-01")
            assert answer["text"] == "将 cw-01 标记为完成?请在下方确认。"
            await env.emu.wait_for(lambda e: len(e.edits) == 1)
            rows = [[b["callback_data"] for b in r] for r in env.emu.edits[0]["reply_markup"]["inline_keyboard"]]
            assert rows == [["d:cw-03", "x:cw-03"], ["y:cw-01", "n:cw-01"]]
            assert env.store.task_state("cw-01").status == "open"  # asking changes nothing
            assert (await env.press(COORD, COORD, mid, "n:cw-01"))["text"] == "已取消,未作任何更改。"
            await env.emu.wait_for(lambda e: len(e.edits) == 2)
            assert env.store.task_state("cw-01").status == "open"
            await env.press(COORD, COORD, mid, "x:cw-01")
            await env.press(COORD, COORD, mid, "y:cw-01")
            await env.emu.wait_for(lambda e: len(e.edits) == 4)
            last = env.emu.edits[-1]
            assert last["text"] == digest["text"] + "\n\n✅ cw-01 编制完成建筑垃圾专项规划 已标记为完成。"
            rows = [[b["callback_data"] for b in r] for r in last["reply_markup"]["inline_keyboard"]]
            assert rows == [["d:cw-03", "x:cw-03"], ["d:cw-01"]]
            assert env.store.task_state("cw-01").status == "done"
            await env.emu.wait_for(lambda e: any("标记为完成" in s["text"] for s in env.to(LIAISON)))
    run(body())


def test_liaison_cannot_change_status(cfg):
    async def body():
        async with running(cfg) as env:
            env.join(LIAISON, "市城管局")
            audit_before = env.store.audit_log()
            assert await env.say(LIAISON, LIAISON, "/done cw-01 已完成") == REFUSAL
            assert await env.say(LIAISON, LIAISON, "/undo cw-01") == REFUSAL
            assert await env.say(GROUP, LIAISON, f"/done@{BOT} cw-01", "group") == REFUSAL
            msg = env.to(LIAISON)[0]["message_id"]
            answer = await env.press(LIAISON, LIAISON, msg, "y:cw-01")  # a forged confirmation
            assert answer["text"] == REFUSAL and answer["show_alert"] is True
            assert env.store.task_state("cw-01").status == "open" and env.store.audit_log() == audit_before
            assert env.emu.edits == []
    run(body())


# --- progress ------------------------------------------------------------------------------------------

def test_progress_is_recorded_and_coordinators_told(cfg):
    async def body():
        async with running(cfg) as env:
            env.join(LIAISON, "市城管局")
            env.join(-4002, "巩义市", "group")  # a cooperating unit, through its group
            env.join(PLANNER, "市规划局")
            env.store.upsert_chat(COORD, "private", None, env.clock.now())
            assert await env.say(LIAISON, LIAISON, "/progress cw-01 初稿已完成,正在征求意见") == \
                "已记录市城管局关于 cw-01 的进展,并已告知督查室。"
            await env.emu.wait_for(lambda e: len(env.to(COORD)) == 1)
            assert env.to(COORD)[0]["text"] == "📝 市城管局报送 cw-01 编制完成建筑垃圾专项规划 进展:\n初稿已完成,正在征求意见"
            assert await env.say(-4002, STRANGER, f"/progress@{BOT} cw-01 巩义市已配合", "group") == \
                "已记录巩义市关于 cw-01 的进展,并已告知督查室。"
            assert await env.say(PLANNER, PLANNER, "/progress cw-01 不是我们的事项") == \
                "只有 cw-01 所列单位的联络员可以报送其进展。"
            too_long = "进" * 501
            assert await env.say(LIAISON, LIAISON, f"/progress cw-01 {too_long}") == \
                "内容过长(501字,上限500字),未保存。请精简后重新发送。"
            assert await env.say(LIAISON, LIAISON, "/progress cw-01") == "用法:/progress ID TEXT"
            assert [(p.unit, p.text) for p in env.store.progress("cw-01")] == [
                ("市城管局", "初稿已完成,正在征求意见"), ("巩义市", "巩义市已配合")]
            assert [a.action for a in env.store.audit_log("cw-01")][:2] == ["progress", "progress"]
            detail = await env.say(LIAISON, LIAISON, "/task cw-01")
            assert "进展(2):\n  · 2018-09-03 市城管局: 初稿已完成,正在征求意见" in detail
            assert "操作记录" not in detail
    run(body())


def test_lists_and_feed(cfg):
    async def body():
        async with running(cfg) as env:
            assert await env.say(LIAISON, LIAISON, "/tasks") == "本会话尚未加入任何单位。请用 /join 邀请码 加入。"
            env.join(LIAISON, "市城管局")
            tasks = await env.say(LIAISON, LIAISON, "/tasks")
            assert tasks.splitlines()[0] == "未完成事项(2)" and "cw-02" not in tasks
            assert (await env.say(LIAISON, LIAISON, "/due 3")).splitlines() == [
                "3天内到期(1)", "🟡 cw-01 编制完成建筑垃圾专项规划 · 完成规划初稿 · 2018-09-05 · 剩余2天"]
            assert await env.say(LIAISON, LIAISON, "/due x") == "用法:/due [DAYS] (0–3660)"
            assert (await env.say(LIAISON, LIAISON, "/overdue")).splitlines() == [
                "逾期事项(1)", "🔴 cw-03 开展建筑垃圾运输专项整治 · 2018-08-31 · 逾期3天"]
            all_open = await env.say(COORD, COORD, "/tasks")  # a coordinator without units sees everything
            assert all_open.splitlines()[0] == "未完成事项(3)"
            feed = (await env.say(LIAISON, LIAISON, "/feed")).splitlines()
            token = env.store.chat_feed_token(LIAISON, env.clock.now())
            assert feed[1:3] == [f"webcal://127.0.0.1:0/feeds/{token}.ics", f"http://127.0.0.1:0/feeds/{token}.ics"]
            assert await env.say(LIAISON, LIAISON, "/task " + "x" * 100) == f"未找到事项 {'x' * 64}…。事项编号见 /tasks。"
            board = (await env.say(LIAISON, LIAISON, "/board")).splitlines()
            token = env.store.chat_feed_token(LIAISON, env.clock.now(), scope="b.chat")
            assert board == ["本单位督办事项的看板:", f"http://127.0.0.1:0/board/{token}/",
                             "请妥善保管此地址:任何持有者都能查看该看板。"]
            assert (await env.say(LIAISON, LIAISON, "/board")).splitlines()[1] == board[1]  # reused
            coord = (await env.say(COORD, COORD, "/board")).splitlines()
            assert coord[0] == "全部督办事项的看板:" and coord[1] != board[1]
            assert env.store.feed_token(coord[1].split("/")[-2]).scope == "b.all"
            assert await env.say(STRANGER, STRANGER, "/board") == "本会话尚未加入任何单位。请用 /join 邀请码 加入。"
    run(body())


# --- delivery failures ---------------------------------------------------------------------------------

def test_blocked_chat_is_deactivated(cfg, caplog):
    async def body():
        async with running(cfg) as env:
            env.join(LIAISON, "市城管局")
            env.join(PLANNER, "市城管局")
            env.emu.block_chat(LIAISON)
            report = await env.at(nine())
            assert report.deactivated == [LIAISON]
            assert env.store.chat(LIAISON).active is False and env.store.chat(PLANNER).active is True
            assert env.store.sent_keys([f"cw-01|before:7|{LIAISON}|2018-09-03"]) == set()
            assert env.store.members() == {"市城管局": [PLANNER]}
            assert any(a.action == "chat_deactivated" for a in env.store.audit_log())
            assert len(env.to(PLANNER)) == 1 and env.emu.count_403 == 1
    run(body())
    assert "deactivated" in caplog.text


def test_migrated_group_is_followed_and_5xx_retried(cfg):
    async def body():
        async with running(cfg) as env:
            env.join(GROUP, "市城管局", "group")
            env.emu.fail_next("sendMessage", 400, migrate_to_chat_id=-1009999, chat_id=GROUP)
            report = await env.at(nine())
            assert report.recorded == 0 and env.store.chat_units(-1009999) == ["市城管局"]
            env.emu.fail_next("sendMessage", 502, count=2)  # retried with backoff inside one tick
            report = await env.at(nine() + timedelta(minutes=1))
            assert report.recorded == 2 and [s["chat_id"] for s in env.emu.sent] == [-1009999]
            env.emu.fail_next("sendMessage", 503, count=3)  # more than the transport's attempts
            env.join(LIAISON, "市城管局")
            env.svc.agenda.reopen("cw-01", nine() - timedelta(seconds=1))
            report = await env.at(nine() + timedelta(minutes=2))
            assert report.recorded == 0 and report.failed_chats == [LIAISON]  # kept pending, not recorded
            report = await env.at(nine() + timedelta(minutes=3))
            assert report.recorded >= 1 and len(env.to(LIAISON)) == 1
    run(body())


def test_429_storm_is_survived_with_nothing_lost(cfg):
    chats = list(range(800001, 800046))

    async def body():
        async with running(cfg, limits=True) as env:
            for chat in chats:
                env.join(chat, "市城管局")
            env.emu.fail_next("sendMessage", 429, count=3, retry_after=1)
            report = await env.at(nine())
            assert report.recorded == 2 * len(chats) and report.failed_chats == []
            assert sorted(s["chat_id"] for s in env.emu.sent) == chats  # each exactly once
            assert env.emu.count_429 >= 3
            keys = [f"{item}|{kind}|{c}|2018-09-03" for c in chats for item, kind in
                    (("cw-01", "before:7"), ("cw-03", "overdue"))]
            assert env.store.sent_keys(keys) == set(keys)
            # one chat, several messages: paced 1 s apart by the transport, so no 429 from the per-chat limit
            transport = env.svc.dispatcher.transport
            n429 = env.emu.count_429
            for i in range(3):
                await transport.send_text(chats[0], f"part {i}")
            times = [s["t"] for s in env.to(chats[0])[1:]]
            assert env.emu.count_429 == n429 and all(b - a >= 0.99 for a, b in zip(times, times[1:]))
    run(body(), timeout=50)

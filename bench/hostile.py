"""Hostile input, for bench/security.py: alias bombs, floods, forged buttons, group bystanders, wild numbers.

Everything goes through real boundaries: `taskbot check` and `taskbot run` are other processes; the bot
talks to the Bot API emulator (with Telegram's rate limits on) over HTTP on 127.0.0.1.

- a 1.4 KB YAML alias bomb (10^10 values) in `every`: `taskbot check` (time and peak memory against the
  valid registry's), and SIGHUP to the running bot (it must keep answering);
- one user sends 500 /whoami, then another sends /help: the other's reply time against its time with no
  flood (target: at most FLOOD_TARGET s), and how many of the flood got answers (target: the burst and one
  warning);
- forged `y:ID` confirmations by coordinators on messages that never asked to confirm;
- /leave and /lang by bystanders in groups joined by someone else;
- numbers out of range (/due ², /invite UNIT 99999999d): answered with the range, never "出错了".

    python3 bench/hostile.py      (also part of python3 bench/security.py)
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import shutil
import signal
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, TOKEN, UNITS, free_port, write  # noqa: E402

from tests.tgemu import BotApiEmulator  # noqa: E402

BOT = "taskbot_test_bot"
COORDS = list(range(900, 910))
FLOODER, OTHER, JOINER = 5_000_001, 5_000_002, 5_000_003
FLOOD = 500
FLOOD_TARGET = 15.0  # seconds for the other user's reply during the flood (it was > 240 s)
TASKS = f"""\
settings:
  coordinators: {COORDS}
documents:
  - {{number: 郑政文〔2018〕143号, title: 方案, issued: 2018-08-07, issuer: 郑州市人民政府}}
tasks:
  - {{id: cw-01, doc: 郑政文〔2018〕143号, title: 编制规划, lead: [市城管局], due: 2030-09-28}}
  - id: cw-02
    doc: 郑政文〔2018〕143号
    title: 每月报送
    lead: [市城管局]
    every: monthly:25
"""


def bomb(levels: int = 10) -> str:
    lines = ["x0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n" + TASKS.replace("every: monthly:25", "every: *a9")


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("TASKBOT_TELEGRAM_TOKEN", None)
    return env


def timed_check(reg: str, units: str) -> tuple[int, str, float, float]:
    """`taskbot check` in a child process: (exit code, stderr, seconds, the child's peak RSS in MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "taskbot", "check", "--registry", reg, "--units", units],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    dt = time.perf_counter() - t0
    return proc.returncode, err, dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class Bot:
    """`taskbot run` in a child process; its output is collected as it comes."""

    def __init__(self, work: str, emu: BotApiEmulator):
        self.work, self.emu, self.lines, self.proc = work, emu, [], None
        self.db = os.path.join(work, "state.sqlite3")

    async def start(self):
        env = _env()
        env.update(TASKBOT_TELEGRAM_TOKEN=TOKEN, TASKBOT_TELEGRAM_API_URL=self.emu.base_url,
                   TASKBOT_DB=self.db, TASKBOT_HTTP=f"127.0.0.1:{free_port()}")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "taskbot", "run", "--registry", os.path.join(self.work, "tasks.yaml"),
            "--units", os.path.join(self.work, "units.yaml"), cwd=self.work, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self.reader = asyncio.create_task(self._read())
        await self.seen("next reminders at")

    async def _read(self):
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode("utf-8", "replace"))

    async def seen(self, needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(needle in ln for ln in self.lines):
            if time.monotonic() > deadline or self.proc.returncode is not None:
                raise RuntimeError(f"{needle!r} not seen; output:\n{''.join(self.lines[-20:])}")
            await asyncio.sleep(0.05)

    async def stop(self):
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 30)
        await self.reader


def _to(emu, chat):
    return [s for s in emu.sent if s["chat_id"] == chat]


async def _ask(emu, chat, user, text, timeout=60.0, chat_type="private") -> float:
    """Seconds until the bot's next message to `chat` after `user` sends `text`."""
    before = len(_to(emu, chat))
    t0 = time.perf_counter()
    emu.inject_message(chat, user, text, chat_type=chat_type)
    await emu.wait_for(lambda e: len(_to(e, chat)) > before, timeout)
    return time.perf_counter() - t0


async def run(tally, quiet: bool = False) -> dict:
    """Add the rows to `tally` (security.Tally); returns the figures (and prints them unless quiet)."""
    work = tempfile.mkdtemp(prefix="taskbot-hostile-")
    fig: dict = {}
    controls = fig["controls"] = {}
    try:
        units = write(os.path.join(work, "units.yaml"), UNITS)
        good = write(os.path.join(work, "good.yaml"), TASKS)
        bad = write(os.path.join(work, "bomb.yaml"), bomb())
        fig["bomb_bytes"] = len(bomb().split("tasks:")[0].encode())
        rc0, _, fig["check_good_s"], _ = timed_check(good, units)
        rc1, err, fig["check_bomb_s"], fig["check_rss_mb"] = timed_check(bad, units)
        many = ", ".join(f"单位{i}" for i in range(200_000))
        wide = write(os.path.join(work, "wide.yaml"), TASKS.replace("lead: [市城管局], due", f"lead: [{many}], due"))
        fig["wide_mb"] = os.path.getsize(wide) / 1e6
        _, err_wide, fig["check_wide_s"], _ = timed_check(wide, units)
        fig["wide_lines"] = len(err_wide.splitlines())
        tally.add("YAML alias bomb in `every`: `taskbot check` accepts it or crashes", 1,
                  int(rc1 != 1 or "Traceback" in err or "aliases repeat more than" not in err))
        from taskbot.clock import Clock
        from taskbot.store import Store

        write(os.path.join(work, "tasks.yaml"), TASKS)
        async with BotApiEmulator(TOKEN, limits=True, bot_username=BOT) as emu:
            bot = Bot(work, emu)
            store = Store.open(bot.db)
            now = Clock(None).now()
            for i in range(20):  # groups joined to a unit by JOINER
                store.upsert_chat(-200 - i, "group", f"群{i}", now)
                store.join(-200 - i, "市城管局", JOINER, now)
            await bot.start()
            try:
                fig["help_alone_s"] = await _ask(emu, OTHER, OTHER, "/help")
                for _ in range(FLOOD):
                    emu.inject_message(FLOODER, FLOODER, "/whoami")
                fig["help_flood_s"] = await _ask(emu, OTHER, OTHER, "/help")
                await emu.wait_for(lambda e: not e.updates and len(_to(e, FLOODER)) >= 11, 60)
                await asyncio.sleep(2.0)  # grace: anything past the burst and the warning would come now
                flood_answers = len(_to(emu, FLOODER))
                # 11 = the burst of 10 and one warning; more would be the flood getting through
                tally.add(f"flood: /whoami x{FLOOD} answered beyond the burst and one warning", FLOOD,
                          max(0, flood_answers - 11))
                tally.add(f"flood: another user's /help not answered within {FLOOD_TARGET:.0f} s", 1,
                          int(fig["help_flood_s"] > FLOOD_TARGET))
                # the alias bomb through SIGHUP: the bot rejects it and keeps answering
                write(os.path.join(work, "tasks.yaml"), bomb())
                t0 = time.perf_counter()
                bot.proc.send_signal(signal.SIGHUP)
                await bot.seen("taskbot: reload rejected")
                fig["reload_bomb_s"] = time.perf_counter() - t0
                fig["help_after_bomb_s"] = await _ask(emu, OTHER + 1, OTHER + 1, "/help")
                rejected = any("aliases repeat more than" in ln for ln in bot.lines)
                tally.add("YAML alias bomb via SIGHUP: reload accepts it or the bot stops answering", 1,
                          int(not rejected or fig["help_after_bomb_s"] > FLOOD_TARGET))
                # forged confirmations: coordinators press y:ID on a message that never asked to confirm
                n_answers = len(emu.callback_answers)
                for coord in COORDS:
                    await _ask(emu, coord, coord, "/help")
                    mid = _to(emu, coord)[-1]["message_id"]
                    for task in ("cw-01", "cw-02"):
                        emu.inject_callback(coord, coord, mid, f"y:{task}")
                await emu.wait_for(lambda e: len(e.callback_answers) >= n_answers + 2 * len(COORDS), 60)
                done = sum(store.task_state(t).status == "done" for t in ("cw-01", "cw-02"))
                tally.add("forged y:ID confirmation by a coordinator (no confirm step)", 2 * len(COORDS), done)
                # bystanders in groups joined by someone else
                for i in range(20):
                    await _ask(emu, -200 - i, 6000 + i, f"/leave@{BOT}", chat_type="group")
                    await _ask(emu, -200 - i, 6100 + i, f"/lang@{BOT} en", chat_type="group")
                changed = sum(store.chat_units(-200 - i) != ["市城管局"] or store.chat(-200 - i).lang != "zh"
                              for i in range(20))
                tally.add("/leave or /lang by a group bystander", 40, changed)
                await _ask(emu, -200, JOINER, f"/leave@{BOT}", chat_type="group")
                controls["the joiner's /leave in the group"] = store.chat_units(-200) == []
                # numbers out of range
                n_sent = len(emu.sent)
                for i, text in enumerate(["/due ²", "/due ٣", "/due 99999999999999999999"] * 3):
                    await _ask(emu, 7000 + i, 7000 + i, text)
                for coord, text in zip(COORDS, ["/invite 城管局 99999999d", "/invite 城管局 99999999999999999999",
                                                "/invite 城管局 2 8761h"] * 3):
                    await _ask(emu, coord, coord, text)
                generic = sum("出错了" in s["text"] for s in emu.sent[n_sent:])
                tally.add("number out of range answered with an error instead of the range", 18, generic)
                before = len(_to(emu, 7100))
                await _ask(emu, 7100, 7100, "/due 7")
                controls["/due 7 answered"] = _to(emu, 7100)[before]["text"].startswith("本会话尚未加入")
                controls["flood: the burst answered"] = flood_answers == 11
                fig["tracebacks"] = sum("Traceback" in ln for ln in bot.lines)
            finally:
                await bot.stop()
                store.close()
        controls["valid registry passes `taskbot check`"] = rc0 == 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not quiet:
        report(fig)
    return fig


def report(fig: dict) -> None:
    print("hostile input (bot in another process, emulator with Telegram's rate limits):")
    print(f"  alias bomb of {fig['bomb_bytes']} bytes: `taskbot check` {fig['check_bomb_s']:.2f} s "
          f"(valid registry {fig['check_good_s']:.2f} s, ratio {fig['check_bomb_s'] / fig['check_good_s']:.2f}); "
          f"peak RSS of the checks {fig['check_rss_mb']:.0f} MB; SIGHUP reload rejected in {fig['reload_bomb_s']:.2f} s, "
          f"then /help answered in {fig['help_after_bomb_s']:.2f} s")
    print(f"  200,000 unknown unit names ({fig['wide_mb']:.1f} MB): `taskbot check` {fig['check_wide_s']:.2f} s "
          f"(ratio {fig['check_wide_s'] / fig['check_good_s']:.1f} to the valid registry), {fig['wide_lines']} lines")
    print(f"  another user's /help: {fig['help_alone_s']:.2f} s alone, {fig['help_flood_s']:.2f} s during a flood of "
          f"{FLOOD} /whoami (ratio {fig['help_flood_s'] / fig['help_alone_s']:.1f}; target <= {FLOOD_TARGET:.0f} s) "
          f"-> {'met' if fig['help_flood_s'] <= FLOOD_TARGET else 'NOT met'}")
    print(f"  tracebacks in the bot's output: {fig['tracebacks']}; controls: "
          + "; ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in fig["controls"].items()))


if __name__ == "__main__":
    import security

    tally = security.Tally()
    fig = asyncio.run(run(tally))
    tally.print()
    sys.exit(0 if all(r[2] == r[3] for r in tally.rows) and all(fig["controls"].values()) else 1)

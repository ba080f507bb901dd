"""Tests of the Bot API emulator, driven by the real python-telegram-bot client."""

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler
from telegram.request import HTTPXRequest

from tests.tgemu import BotApiEmulator

TOKEN = "123456:TEST"
ROOT = Path(__file__).resolve().parent.parent


def run(coro_fn, **emu_kwargs):
    """Run ``coro_fn(emu, bot)`` against a fresh emulator and an initialized PTB Bot."""
    async def main():
        async with BotApiEmulator(TOKEN, **emu_kwargs) as emu:
            async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
                return await asyncio.wait_for(coro_fn(emu, bot), 20)
    return asyncio.run(main())


def test_get_me():
    async def body(emu, bot):
        me = await bot.get_me()
        assert me.is_bot and me.username == "taskbot_test_bot" and me.id == 123456
        assert bot.username == "taskbot_test_bot"
    run(body)


def test_send_and_edit_roundtrip():
    async def body(emu, bot):
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done:1")]])
        m1 = await bot.send_message(42, "hello", reply_markup=kb)
        m2 = await bot.send_message(42, "second")
        assert (m1.message_id, m2.message_id) == (1, 2)
        assert m1.chat.id == 42 and m1.chat.type == "private" and m1.from_user.is_bot
        assert m1.text == "hello" and m1.reply_markup == kb
        assert emu.sent[0]["reply_markup"] == kb.to_dict() and emu.sent[1]["text"] == "second"
        edited = await bot.edit_message_text("hello!", chat_id=42, message_id=1)
        assert edited.text == "hello!" and edited.edit_date is not None
        assert emu.edits[-1]["text"] == "hello!"
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("hello!", chat_id=42, message_id=1)
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=42, message_id=99)
        g = await bot.send_message(-1001, "group text")
        assert g.chat.type == "group" and g.message_id == 1
    run(body)


def test_commands_and_misc_methods():
    async def body(emu, bot):
        from telegram import BotCommand, BotCommandScopeAllPrivateChats
        await bot.set_my_commands([BotCommand("ping", "Ping")])
        await bot.set_my_commands([BotCommand("list", "List")], language_code="de",
                                  scope=BotCommandScopeAllPrivateChats())
        assert [c.command for c in await bot.get_my_commands()] == ["ping"]
        got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="de")
        assert [c.command for c in got] == ["list"]
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.send_chat_action(42, "typing")
        assert await bot.set_chat_menu_button()
        assert emu.requests["setMyCommands"] == 2
    run(body)


def test_long_polling_returns_injected_message_promptly():
    async def body(emu, bot):
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await emu.wait_for(lambda e: e.requests["getUpdates"] >= 1)
        emu.inject_message(7, 7, "/start@taskbot_test_bot arg", username="alice")
        updates = await asyncio.wait_for(poll, 3)  # well before the poll's own 10 s timeout
        (u,) = updates
        assert u.message.text == "/start@taskbot_test_bot arg" and u.message.from_user.id == 7
        assert u.message.entities[0].type == "bot_command"
        assert u.message.entities[0].length == len("/start@taskbot_test_bot")
    run(body)


def test_get_updates_offset_confirmation_and_callback():
    async def body(emu, bot):
        sent = await bot.send_message(5, "pick", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("A", callback_data="a")]]))
        emu.inject_message(5, 5, "one")
        emu.inject_callback(5, 5, sent.message_id, "a")
        ups = await bot.get_updates(timeout=0)
        assert [u.update_id for u in ups] == [1, 2]
        assert ups[1].callback_query.data == "a"
        assert ups[1].callback_query.message.text == "pick"
        assert len(await bot.get_updates(timeout=0)) == 2  # not confirmed yet
        assert await bot.get_updates(offset=3, timeout=0) == ()
        assert emu.updates == []
        assert await bot.answer_callback_query(ups[1].callback_query.id, text="ok")
        assert emu.callback_answers[0]["text"] == "ok"
        assert emu.inject_message(5, 5, "later")["update_id"] == 3
    run(body)


def test_retry_after():
    async def body(emu, bot):
        emu.fail_next("sendMessage", 429, retry_after=7)
        with pytest.raises(RetryAfter) as ei:
            await bot.send_message(1, "x")
        assert "7" in str(ei.value)
        await bot.send_message(1, "x")
        assert emu.count_429 == 1 and len(emu.sent) == 1
    run(body)


def test_forbidden_and_block_chat():
    async def body(emu, bot):
        emu.fail_next("sendMessage", 403, chat_id=2)
        await bot.send_message(1, "other chat unaffected")
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(2, "x")
        emu.block_chat(3)
        for _ in range(2):
            with pytest.raises(Forbidden):
                await bot.send_message(3, "x")
        assert emu.count_403 == 3 and len(emu.sent) == 1
    run(body)


def test_chat_migrated():
    async def body(emu, bot):
        emu.fail_next("sendMessage", 400, migrate_to_chat_id=-1009999)
        with pytest.raises(ChatMigrated) as ei:
            await bot.send_message(-55, "x")
        assert ei.value.new_chat_id == -1009999
    run(body)


def test_wrong_token_is_invalid_token():
    async def main():
        async with BotApiEmulator(TOKEN) as emu:
            reqs = (HTTPXRequest(), HTTPXRequest())
            bot = Bot("999:WRONG", base_url=emu.base_url, request=reqs[0],
                      get_updates_request=reqs[1])
            try:
                with pytest.raises(InvalidToken):
                    await bot.get_me()
            finally:
                await asyncio.gather(*(r.shutdown() for r in reqs))
            async with aiohttp.ClientSession() as s:
                async with s.post(f"{emu.base_url}999:WRONG/getMe") as r:
                    assert r.status == 401 and (await r.json())["description"] == "Unauthorized"
                async with s.post(f"{emu.base_url}{TOKEN}/noSuchMethod") as r:
                    assert r.status == 404
                    assert await r.json() == {"ok": False, "error_code": 404,
                                              "description": "Not Found: method not found"}
    asyncio.run(main())


def test_limits_mode_429_on_second_message_to_chat():
    async def body(emu, bot):
        await bot.send_message(10, "first")
        with pytest.raises(RetryAfter):
            await bot.send_message(10, "second")
        await bot.send_message(11, "other chat is fine")
        assert emu.count_429 == 1 and [s["chat_id"] for s in emu.sent] == [10, 11]
    run(body, limits=True)


def test_error_rate_and_wait_for_timeout():
    async def body(emu, bot):
        from telegram.error import NetworkError
        errors = 0
        for i in range(20):
            try:
                await bot.send_message(100 + i, "x")
            except NetworkError:
                errors += 1
        assert 0 < errors < 20 and emu.count_5xx == errors
        with pytest.raises(TimeoutError, match="predicate still false"):
            await emu.wait_for(lambda e: False, timeout=0.05)
    run(body, error_rate=0.5, seed=1)


def test_http_inject_state_and_log(tmp_path):
    log = tmp_path / "deliveries.jsonl"

    async def body(emu, bot):
        async with aiohttp.ClientSession() as s:
            base = emu.base_url[:-len("/bot")]
            async with s.post(f"{base}/_emu/inject", json={"chat_id": 3, "user_id": 3,
                                                           "text": "/ping"}) as r:
                assert (await r.json())["result"]["update_id"] == 1
            (u,) = await bot.get_updates(timeout=1)
            m = await bot.send_message(3, "pong")
            await bot.edit_message_text("pong!", chat_id=3, message_id=m.message_id)
            async with s.get(f"{base}/_emu/state") as r:
                state = await r.json()
        assert u.message.text == "/ping"
        assert state["sent"][0]["text"] == "pong" and state["requests"]["sendMessage"] == 1
    run(body, log_path=str(log))
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(x["method"], x["text"]) for x in lines] == [("sendMessage", "pong"),
                                                        ("editMessageText", "pong!")]


def test_application_answers_ping():
    async def main():
        async with BotApiEmulator(TOKEN) as emu:
            app = Application.builder().token(TOKEN).base_url(emu.base_url).build()

            async def ping(update: Update, context) -> None:
                await update.effective_message.reply_text("pong")

            async def on_cb(update: Update, context) -> None:
                await update.callback_query.answer("noted")

            app.add_handler(CommandHandler("ping", ping))
            app.add_handler(CallbackQueryHandler(on_cb))
            await app.initialize()
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                emu.inject_message(77, 77, "/ping")
                emu.inject_message(-500, 77, "/ping@taskbot_test_bot", chat_type="group")
                sent = await emu.wait_sent(2, timeout=10)
                assert {(s["chat_id"], s["text"]) for s in sent} == {(77, "pong"), (-500, "pong")}
                emu.inject_callback(77, 77, sent[0]["message_id"], "x")
                await emu.wait_for(lambda e: len(e.callback_answers) == 1, timeout=10)
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
            assert emu.updates == []  # all updates confirmed on shutdown
    asyncio.run(main())


def test_standalone_process():
    with subprocess.Popen([sys.executable, "-m", "tests.tgemu", "--port", "0"], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:") and url.endswith("/bot")

            async def main():
                async with Bot(TOKEN, base_url=url) as bot:
                    assert (await bot.send_message(1, "hi")).text == "hi"
            asyncio.run(main())
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_webhook_pushes_updates_with_the_secret_retries_until_200_and_redelivers():
    """setWebhook: updates are POSTed to the URL with the secret header; a non-200 answer is retried; getUpdates
    answers 409 meanwhile; redeliver() sends a delivered update again; deleteWebhook stops it all."""
    from aiohttp import web

    async def body(emu, bot):
        got, answers = [], [500]  # the receiver fails the first delivery

        async def hook(request):
            got.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
            return web.Response(status=answers.pop(0) if answers else 200)

        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        try:
            emu.webhook_retry_delay = 0.01
            assert await bot.set_webhook(url, secret_token="s3cret")
            assert (await bot.get_webhook_info()).url == url
            with pytest.raises(Exception, match="Conflict"):
                await bot.get_updates()
            update = emu.inject_message(42, 42, "/start")
            await emu.wait_for(lambda e: len([a for a in e.webhook_attempts if a["status"] == 200]) == 1)
            assert [a["status"] for a in emu.webhook_attempts] == [500, 200]
            assert [(secret, u["update_id"]) for secret, u in got] == [("s3cret", update["update_id"])] * 2
            emu.redeliver(update["update_id"])
            await emu.wait_for(lambda e: len(got) == 3)
            assert got[2][1] == update and emu.updates == []
            assert await bot.delete_webhook()
            emu.inject_message(42, 42, "/help")
            assert [u.message.text for u in await bot.get_updates()] == ["/help"]  # polled again, not pushed
            assert len(got) == 3
        finally:
            await runner.cleanup()
    run(body)

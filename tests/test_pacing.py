"""The pacer (taskbot.bot.pacing) in PTB's ExtBot against the Bot API emulator with Telegram's limits on.

No timing assertions: the emulator judges the limits (429 when a sliding window is exceeded), the tests
count its 429s and read the order in which sends arrived.
"""

import asyncio

from telegram.error import RetryAfter
from telegram.ext import ExtBot

from taskbot.bot.pacing import Pacer
from tests.tgemu import BotApiEmulator

TOKEN = "123456:TEST"


def run(body, timeout=60, **emu_kwargs):
    async def main():
        async with BotApiEmulator(TOKEN, limits=True, **emu_kwargs) as emu:
            pacer = Pacer()
            async with ExtBot(TOKEN, base_url=emu.base_url, rate_limiter=pacer) as bot:
                return await asyncio.wait_for(body(emu, bot, pacer), timeout)
    return asyncio.run(main())


def test_no_429_under_jitter_for_many_chats_and_a_digest_split_into_parts():
    chats = list(range(500001, 500071))

    async def body(emu, bot, pacer):
        sends = [bot.send_message(c, f"digest {c}", rate_limit_args={"kind": "digest"}) for c in chats]
        sends += [bot.send_message(-4001, f"part {i}", rate_limit_args={"kind": "digest"}) for i in range(3)]
        await asyncio.gather(*sends)
        assert emu.count_429 == 0 and pacer.count_429 == 0
        assert sorted(s["chat_id"] for s in emu.sent if s["chat_id"] > 0) == chats
        assert [s["text"] for s in emu.sent if s["chat_id"] == -4001] == ["part 0", "part 1", "part 2"]
    run(body, jitter_ms=20)


def test_a_429_delays_only_its_chat():
    async def body(emu, bot, pacer):
        emu.fail_next("sendMessage", 429, chat_id=1, retry_after=1)
        first = asyncio.create_task(bot.send_message(1, "to one"))
        await emu.wait_for(lambda e: e.count_429 == 1)
        await asyncio.gather(bot.send_message(2, "to two"), bot.send_message(3, "to three"))
        assert [s["chat_id"] for s in emu.sent] == [2, 3]  # not held back by chat 1's pause
        assert (await first).text == "to one"  # the pause was waited out, then the send retried
        assert [s["chat_id"] for s in emu.sent] == [2, 3, 1] and pacer.count_429 == 1
    run(body)


def test_429s_from_two_chats_pause_everything_and_retries_are_bounded():
    async def body(emu, bot, pacer):
        emu.fail_next("sendMessage", 429, chat_id=1, retry_after=1, count=10)
        emu.fail_next("sendMessage", 429, chat_id=2, retry_after=1)
        one = asyncio.create_task(bot.send_message(1, "to one"))
        await emu.wait_for(lambda e: e.count_429 == 1)
        two = asyncio.create_task(bot.send_message(2, "to two"))
        await emu.wait_for(lambda e: e.count_429 == 2)
        assert pacer._paused_until > 0  # Telegram's overall limit: every chat waits
        await bot.send_message(3, "to three")
        assert (await two).text == "to two"
        try:
            await one
        except RetryAfter:
            pass
        else:
            raise AssertionError("chat 1 kept answering 429: the pacer must give up after its retries")
        assert emu.count_429 == 2 + pacer.max_retries  # chat 1: the first try and max_retries retries
    run(body)


def test_command_replies_are_not_queued_behind_a_digest_storm_nor_digests_behind_replies():
    async def body(emu, bot, pacer):
        digests = [asyncio.create_task(bot.send_message(600000 + i, "digest", rate_limit_args={"kind": "digest"}))
                   for i in range(60)]
        await asyncio.sleep(0)  # the digests queue first
        replies = [asyncio.create_task(bot.send_message(700000 + i, "reply")) for i in range(10)]
        await asyncio.gather(*digests, *replies)
        order = [s["text"] for s in emu.sent]
        assert emu.count_429 == 0
        assert order.index("reply") < 8 and len(order) - order[::-1].index("reply") <= 45  # replies get a share
        assert order[:40].count("digest") >= 28  # digests keep three of every four slots
    run(body)


def test_a_group_chat_waits_a_minute_after_its_20th_message_and_a_private_chat_a_second():
    from taskbot.bot.pacing import CHAT_HOLD, GROUP_HOLD, _Chat

    group, private = _Chat(group=True), _Chat(group=False)
    group.next_at = private.next_at = 19.0 + CHAT_HOLD
    group.group.extend(float(t) for t in range(20))  # responses of 20 sends at t = 0..19 s
    assert private.ready_at() == 20.0 and group.ready_at() == 0.0 + GROUP_HOLD
    group.group.popleft()
    assert group.ready_at() == 20.0  # 19 in the last minute: only the per-chat second

"""A crash duplicates at most one digest: the real PTB client and TelegramTransport against the Bot API
emulator answering slowly (slower than the rate limiter's spacing), checking the ledger as each send arrives."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.test_bot import cfg, nine, run, running  # noqa: F401  (cfg is a fixture)

SLOW_REPLY_S = 0.08  # a slow Telegram: more than twice the 1/29.5 s between two sends


def test_every_accepted_digest_is_in_the_ledger_before_the_next_send_arrives(cfg):  # noqa: F811
    async def body():
        async with running(cfg) as env:
            chats = [710000 + i for i in range(8)]
            for chat in chats:
                env.join(chat, "市城管局")
            await env.at(nine() - timedelta(minutes=1))
            D = env.svc.store.m.Delivery
            accepted: list[int] = []
            unrecorded_at_arrival: list[int] = []  # per send: accepted messages not yet in the ledger
            send = env.emu._methods["sendmessage"]

            async def slow_telegram(params):
                ledger = {c for (c,) in D.select(D.chat_id).distinct().tuples()}
                unrecorded_at_arrival.append(len(set(accepted) - ledger))
                message = send(params)  # accepted here: a crash from now on would re-send it
                accepted.append(int(params["chat_id"]))
                await asyncio.sleep(SLOW_REPLY_S)  # the reply takes its time
                return message

            env.emu._methods["sendmessage"] = slow_telegram
            report = await env.at(nine())
            assert set(chats) <= set(accepted) and report.messages == len(accepted)
            assert len(unrecorded_at_arrival) == len(accepted)
            assert max(unrecorded_at_arrival) == 0, unrecorded_at_arrival

    run(body())

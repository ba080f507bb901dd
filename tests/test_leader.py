"""taskbot.leader in-process against a real PostgreSQL database: election, fencing by epoch, hand-over."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from taskbot import claims
from taskbot.leader import PgLeadership
from taskbot.store import Store

NOW = datetime(2018, 8, 24, 1, 0, tzinfo=timezone.utc)


def test_one_leads_a_fenced_leader_steps_down_and_releases_the_lock_and_the_other_takes_over(pg_database):
    stores = [Store.open(pg_database) for _ in range(2)]

    async def body():
        got = {n: {"elected": asyncio.Event(), "demoted": asyncio.Event()} for n in "ab"}
        stop = asyncio.Event()
        group = {n: PgLeadership(pg_database, s, owner=f"test:{n}", retry=0.05, beat=0.05, grace=0.5)
                 for n, s in zip("ab", stores)}

        def hooks(n):
            async def elected():
                got[n]["elected"].set()

            async def demoted():
                got[n]["demoted"].set()
            return elected, demoted

        tasks = [asyncio.create_task(group["a"].run(*hooks("a"), stop))]
        await asyncio.wait_for(got["a"]["elected"].wait(), 10)
        tasks.append(asyncio.create_task(group["b"].run(*hooks("b"), stop)))
        a, b = group["a"], group["b"]
        assert (a.role, b.role) == ("leader", "follower")
        assert a.fence.claim(["k1"], NOW) == {"k1"}
        claims.bump_epoch(stores[1])  # as if another leader had taken over behind a's back
        assert a.fence.claim(["k2"], NOW) is None and a.role == "follower"  # fenced off at once
        await asyncio.wait_for(got["a"]["demoted"].wait(), 10)  # and it gives the lock up
        await asyncio.wait_for(got["b"]["elected"].wait(), 10)
        assert (a.role, b.role) == ("follower", "leader")
        assert b.fence.claim(["k1", "k2"], NOW) == {"k1", "k2"}  # a's open claim goes to the new leader
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        for leadership in group.values():
            await asyncio.to_thread(leadership.close)

    try:
        asyncio.run(body())
    finally:
        for s in stores:
            s.close()

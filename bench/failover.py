"""More than one instance: SIGKILL the leader 5 times during a reminder storm; fail-over time and duplicates.

Two `python bot.py` instances share one PostgreSQL database (TASKBOT_TEST_PG, a server on 127.0.0.1:5432, or a
throwaway cluster started here) and the Bot API emulator (`python -m tests.tgemu --limits`, its own process).
Every liaison chat (--chats, default 600) is due one digest at 09:00. During the storm the leader (as /healthz
says) is killed with SIGKILL at --kills random counts of sent digests; each time the killed instance is
restarted at once as a follower. For each kill: the seconds until a survivor's /healthz says "leader" and until
the next digest is accepted. At the end: digests per chat (lost = chats without one; duplicates = messages beyond
one per chat). Baseline of the same run: the storm's ideal length at Telegram's 30 msg/s.

Targets: median fail-over <= 15 s, 0 lost, duplicates <= 1 per fail-over. Exit 1 when one is missed.

    python3 bench/failover.py [--chats 600] [--kills 5] [--instances 2] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402
from harness import ROOT  # noqa: E402

from taskbot.store import Store  # noqa: E402
from tests.cluster import (Emulator, Instance, Unavailable, carried_clock, fresh_database, leaders,  # noqa: E402
                           postgres_server, stop_all, wait_until)

TARGET_FAILOVER = 15.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", type=int, default=600)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.randrange(10**6)
    rnd = random.Random(seed)
    try:
        with postgres_server() as server, fresh_database(server) as db:
            return run(a, rnd, seed, db)
    except Unavailable as exc:
        print(f"failover: {exc}", file=sys.stderr)
        return 1


def run(a, rnd, seed, db) -> int:
    work = Path(tempfile.mkdtemp(prefix="taskbot-failover-"))
    s = synth.make(a.chats, str(work / "reg"), n_units=a.chats, liaisons=a.chats, due_per_tick=a.chats, ticks=1)
    store = Store.open(db)
    s.join_all(store, synth.tick_at(0) - timedelta(days=1))
    store.close()
    wanted = {c for c, _ in s.liaisons}
    emu = Emulator(str(work), "--limits")
    clock0, real0 = synth.tick_at(0) - timedelta(seconds=15), time.time()
    made = [0]

    def start():
        made[0] += 1
        return Instance(str(work), f"i{made[0]}", db, s.registry, s.units, api=emu.api,
                        clock=carried_clock(clock0, real0))

    group = [start() for _ in range(a.instances)]
    sent_count = lambda: Counter(m["chat_id"] for m in emu.state()["sent"] if m["chat_id"] in wanted)  # noqa: E731
    kills: list[dict] = []
    try:
        for i in group:
            i.wait_ready(120)
        wait_until(lambda: len(leaders(group)) == 1, 30, "one leader")
        kill_at = sorted(rnd.sample(range(int(0.05 * a.chats), int(0.85 * a.chats)), a.kills))
        t_first = None
        for target in kill_at:
            wait_until(lambda: sum(sent_count().values()) >= target, 300, f"{target} digests")
            t_first = t_first or time.monotonic()
            (leader,) = wait_until(lambda: leaders(group) if len(leaders(group)) == 1 else None, 30, "one leader")
            before = len(emu.state()["sent"])
            t0 = time.monotonic()
            leader.kill()
            group.remove(leader)
            group.append(start())  # the killed instance comes back, as a follower
            wait_until(lambda: leaders(group), 60, "a new leader", interval=0.02)
            lead_s = time.monotonic() - t0
            resumed = wait_until(lambda: len(emu.state()["sent"]) > before and time.monotonic(), 120,
                                 "sending to resume", interval=0.02)
            kills.append({"at": target, "lead_s": lead_s, "resume_s": resumed - t0})
            print(f"kill at {target} digests: new leader after {lead_s:.2f} s, sending again after "
                  f"{resumed - t0:.2f} s", flush=True)
        wait_until(lambda: len(sent_count()) == a.chats, 600, "every chat's digest", interval=0.2)
        storm_s = time.monotonic() - (t_first or time.monotonic())
        time.sleep(2)  # anything still in flight arrives, to be counted
        counts = sent_count()
    finally:
        stop_all([i.proc for i in group])
        emu.stop()
    lost = len(wanted - set(counts))
    dups = sum(n - 1 for n in counts.values())
    med_lead = statistics.median(k["lead_s"] for k in kills)
    med_resume = statistics.median(k["resume_s"] for k in kills)
    ideal = a.chats / 30
    print(f"failover: {a.instances} instances, {a.chats} chats, {a.kills} SIGKILLs of the leader (seed {seed})")
    print(f"  fail-over (kill -> a follower leads): median {med_lead:.2f} s, max {max(k['lead_s'] for k in kills):.2f} s"
          f" ({med_lead / TARGET_FAILOVER:.2f} x the {TARGET_FAILOVER:.0f} s target)")
    print(f"  kill -> next digest accepted: median {med_resume:.2f} s")
    print(f"  storm from the first kill's count to the last digest: {storm_s:.1f} s "
          f"(baseline: {ideal:.1f} s for all {a.chats} at 30/s)")
    print(f"  lost {lost}, duplicates {dups} ({dups / a.kills:.2f} per fail-over)")
    ok = med_lead <= TARGET_FAILOVER and lost == 0 and dups <= a.kills
    print(f"target (median fail-over <= {TARGET_FAILOVER:.0f} s, 0 lost, <= 1 duplicate per fail-over): "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

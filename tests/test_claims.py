"""Claims under the leader epoch (taskbot.claims), on a real SQLite file and on a real PostgreSQL database."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from taskbot import claims
from taskbot.store import Store, ledger_key

NOW = datetime(2018, 8, 24, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = str(tmp_path / "state.sqlite3") if request.param == "sqlite" else request.getfixturevalue("pg_database")
    s = Store.open(url)
    yield s
    s.close()


def rows(*chats):
    return [(ledger_key("a|0", "due", c, date(2018, 8, 24)), "a|0", "due", c, date(2018, 8, 24)) for c in chats]


def test_an_old_leader_is_fenced_off_and_its_open_claims_go_to_the_new_one(store):
    first = claims.bump_epoch(store)
    keys = [r[0] for r in rows(1, 2, 3)]
    assert claims.claim_deliveries(store, keys, first, "a:1", NOW) == set(keys)
    claims.confirm_deliveries(store, rows(1), 11, NOW)  # chat 1 sent and confirmed; 2 and 3 in flight
    assert store.sent_keys(keys) == {keys[0]}
    assert [(k, e) for k, e, _ in claims.open_claims(store)] == [(keys[1], first), (keys[2], first)]
    second = claims.bump_epoch(store)  # another instance takes over
    assert second == first + 1 and claims.current_epoch(store) == second
    assert claims.claim_deliveries(store, keys, first, "a:1", NOW) is None  # the old leader may send nothing more
    assert claims.claim_deliveries(store, keys, second, "b:2", NOW) == set(keys[1:])  # retried; 1 is not resent
    assert {(k, e, o) for k, e, o in claims.open_claims(store)} == {(keys[1], second, "b:2"), (keys[2], second, "b:2")}
    claims.confirm_deliveries(store, rows(2, 3), 12, NOW)
    assert claims.open_claims(store) == [] and store.sent_keys(keys) == set(keys)


def test_an_update_is_claimed_once_and_a_stale_claim_is_taken_over(store):
    assert claims.claim_update(store, 7, "a:1", NOW) is True
    assert claims.claim_update(store, 7, "b:2", NOW) is False  # the same update again: being handled
    later = NOW + claims.STALE_UPDATE + timedelta(seconds=1)
    assert claims.claim_update(store, 7, "b:2", later) is True  # a:1 died while handling it
    claims.finish_update(store, 7, later)
    assert claims.claim_update(store, 7, "c:3", later + timedelta(days=1)) is False  # handled: never again

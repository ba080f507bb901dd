"""Claims in the database that keep instances from doing the same thing twice (schema 4).

- The leader epoch (`meta.leader_epoch`) is bumped by every instance that becomes leader. Each claim
  checks, in its transaction, that the epoch is still the claimer's: an old leader that lost its lock
  is fenced off the moment the new one has taken over.
- A delivery is claimed (`delivery_claims`) in a transaction before it is sent and confirmed after
  (the ledger row written and the claim dropped in one transaction). A claim left by a leader that died
  is simply taken over by the next one: that message may have gone out just before the death, the one
  duplicate a fail-over can cost.
- A Telegram update is claimed by id (`processed_updates`) before it is handled and marked done after,
  so an update Telegram delivers twice (or to two instances) is handled once; a claim of an instance
  that died while handling is taken over after `STALE_UPDATE`.

Plain SQL through the store's peewee database, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from peewee import PostgresqlDatabase, chunked

from .store_models import to_utc_text

STALE_UPDATE = timedelta(seconds=60)
_CHUNK = 400
_KEEP_UPDATES = timedelta(days=2)


def _pg(db) -> bool:
    return isinstance(db, PostgresqlDatabase)


def _epoch_for_share(db) -> int:
    p = db.param
    lock = " FOR SHARE" if _pg(db) else ""  # a take-over's UPDATE waits for claims under way, and vice versa
    row = db.execute_sql(f"SELECT value FROM meta WHERE key = {p}{lock}", ("leader_epoch",)).fetchone()
    return int(row[0]) if row and row[0] else 0


def bump_epoch(store) -> int:
    """Become the leader of record: the epoch + 1 (claims of every earlier leader fail from now on)."""
    db, p = store.db, store.db.param
    with db.atomic():
        lock = " FOR UPDATE" if _pg(db) else ""
        row = db.execute_sql(f"SELECT value FROM meta WHERE key = {p}{lock}", ("leader_epoch",)).fetchone()
        epoch = (int(row[0]) if row and row[0] else 0) + 1
        if row is None:
            db.execute_sql(f"INSERT INTO meta (key, value) VALUES ({p}, {p})", ("leader_epoch", str(epoch)))
        else:
            db.execute_sql(f"UPDATE meta SET value = {p} WHERE key = {p}", (str(epoch), "leader_epoch"))
    return epoch


def current_epoch(store) -> int:
    return _epoch_for_share(store.db)


def claim_deliveries(store, keys: Iterable[str], epoch: int, owner: str, now: datetime) -> set[str] | None:
    """Claim the deliveries `keys` for leader `epoch`: the keys not confirmed yet (now claimed), or None
    when `epoch` is no longer the current one (this instance is not the leader any more)."""
    db, p = store.db, store.db.param
    keys = list(dict.fromkeys(keys))
    at = to_utc_text(now)
    with db.atomic():
        if _epoch_for_share(db) != epoch:
            return None
        confirmed: set[str] = set()
        for batch in chunked(keys, _CHUNK):
            marks = ", ".join([p] * len(batch))
            confirmed.update(k for (k,) in db.execute_sql(f"SELECT key FROM deliveries WHERE key IN ({marks})",
                                                          batch).fetchall())
        mine = [k for k in keys if k not in confirmed]
        for key in mine:
            db.execute_sql(f"INSERT INTO delivery_claims (key, epoch, owner, claimed_at) VALUES ({p}, {p}, {p}, {p}) "
                           "ON CONFLICT (key) DO UPDATE SET epoch = excluded.epoch, owner = excluded.owner, "
                           "claimed_at = excluded.claimed_at", (key, epoch, owner, at))
    return set(mine)


def confirm_deliveries(store, rows: list[tuple], message_id, now: datetime) -> None:
    """Record sent deliveries in the ledger and drop their claims, in one transaction."""
    db, p = store.db, store.db.param
    with db.atomic():
        store.record_sent(rows, message_id, now)
        for batch in chunked([r[0] for r in rows], _CHUNK):
            db.execute_sql(f"DELETE FROM delivery_claims WHERE key IN ({', '.join([p] * len(batch))})", batch)


def open_claims(store) -> list[tuple[str, int, str]]:
    """Claims not confirmed: (key, epoch, owner); those of an earlier epoch were left by a leader that died."""
    return [tuple(r) for r in store.db.execute_sql("SELECT key, epoch, owner FROM delivery_claims ORDER BY key")]


def claim_update(store, update_id: int, owner: str, now: datetime) -> bool:
    """Claim a Telegram update for handling; False when it was handled (or is being handled) already."""
    db, p = store.db, store.db.param
    at, stale = to_utc_text(now), to_utc_text(now - STALE_UPDATE)
    with db.atomic():
        inserted = db.execute_sql(
            f"INSERT INTO processed_updates (update_id, owner, claimed_at, done) VALUES ({p}, {p}, {p}, 0) "
            "ON CONFLICT (update_id) DO NOTHING", (update_id, owner, at)).rowcount
        if inserted:
            return True
        taken = db.execute_sql(  # a claim of an instance that died while handling it
            f"UPDATE processed_updates SET owner = {p}, claimed_at = {p} "
            f"WHERE update_id = {p} AND done = 0 AND claimed_at < {p}", (owner, at, update_id, stale)).rowcount
        return bool(taken)


def finish_update(store, update_id: int, now: datetime) -> None:
    """Mark an update handled; forget handled updates older than two days (Telegram keeps them 24 h)."""
    db, p = store.db, store.db.param
    with db.atomic():
        db.execute_sql(f"UPDATE processed_updates SET done = 1 WHERE update_id = {p}", (update_id,))
        if update_id % 100 == 0:
            db.execute_sql(f"DELETE FROM processed_updates WHERE done = 1 AND claimed_at < {p}",
                           (to_utc_text(now - _KEEP_UPDATES),))


__all__ = ["STALE_UPDATE", "bump_epoch", "claim_deliveries", "claim_update", "confirm_deliveries",
           "current_epoch", "finish_update", "open_claims"]

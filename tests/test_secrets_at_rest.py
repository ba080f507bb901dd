"""Secrets at rest: the SQLite files are private to their owner and invite codes are kept only as hashes."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import _unavailable
from taskbot.store import SCHEMA_VERSION, InviteError, Store


NOW = datetime(2018, 10, 30, 1, 0, tzinfo=timezone.utc)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_and_its_wal_and_shm_are_created_0600_in_a_0700_directory(tmp_path):
    old = os.umask(0o022)  # the usual umask: without care, files would be 0644 and directories 0755
    try:
        path = tmp_path / "data" / "nested" / "state.sqlite3"
        with Store.open(str(path)) as s:
            s.create_feed_token("all", None, NOW)  # a write: the -wal and -shm files exist while it is open
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert all(f.exists() for f in files)
            assert [mode(f) for f in files] == [0o600] * 3
    finally:
        os.umask(old)
    assert mode(path.parent) == 0o700
    assert mode(tmp_path / "data") == 0o755  # made on the way, not taskbot's data directory: left default


def test_an_older_world_readable_database_is_narrowed_to_0600(tmp_path):
    path = tmp_path / "state.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE x (a)").connection.close()
    os.chmod(path, 0o644)
    with Store.open(str(path)) as s:
        s.create_feed_token("all", None, NOW)
    assert mode(path) == 0o600


def test_invite_codes_are_kept_only_as_hashes(tmp_path):
    path = tmp_path / "state.sqlite3"
    with Store.open(str(path)) as s:
        codes = [s.create_invite("u1", 2, NOW + timedelta(days=7), "cli", NOW).code for _ in range(20)]
        s.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        stored = [c for (c,) in s.db.execute_sql("SELECT code FROM invites")]
        assert sorted(stored) == sorted(hashlib.sha256(c.encode()).hexdigest() for c in codes)
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("state.sqlite3"))
        assert not [c for c in codes if c.encode() in raw]
        assert s.redeem_invite(codes[0].lower(), NOW) == "u1"  # redeemed by hash, however it is typed
        assert s.revoke_invite(codes[1]) and not s.revoke_invite(stored[2])  # the hash is not a code
        with pytest.raises(InviteError) as e:
            s.redeem_invite(codes[1], NOW)
        assert e.value.reason == "revoked"


def test_migration_4_hashes_the_codes_of_an_older_database_and_they_still_redeem(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    with Store.open(path) as s:
        s.set_meta("schema_version", "3")  # as schema 3 left it: codes in plain text
        for code, uses, revoked in (("ABCDE23456", 1, 0), ("FGHJK78923", 5, 1)):
            s.db.execute_sql("INSERT INTO invites (code, unit, uses_left, expires_at, created_by, created_at, "
                             "revoked) VALUES (?, 'u1', ?, NULL, 'cli', ?, ?)", (code, uses, NOW.isoformat(), revoked))
    with Store.open(path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        stored = {c for (c,) in s.db.execute_sql("SELECT code FROM invites")}
        assert stored == {hashlib.sha256(b"ABCDE23456").hexdigest(), hashlib.sha256(b"FGHJK78923").hexdigest()}
        assert s.redeem_invite("abcde-23456", NOW) == "u1"
        for code, reason in (("ABCDE23456", "used up"), ("FGHJK78923", "revoked")):
            with pytest.raises(InviteError) as e:
                s.redeem_invite(code, NOW)
            assert e.value.reason == reason


def test_migration_4_on_postgresql_widens_the_column_and_hashes_codes(postgres_url):
    import uuid

    from taskbot.store import connect_db

    schema = f"taskbot_m4_{uuid.uuid4().hex[:8]}"
    admin = connect_db(postgres_url)
    try:
        admin.connect()
    except Exception as exc:  # server there but not for us (auth, database)
        _unavailable(f"cannot connect to PostgreSQL: {exc}")
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    url = postgres_url + ("&" if "?" in postgres_url else "?") + f"options=-csearch_path%3D{schema}"
    try:
        with Store.open(url) as s:  # as schema 3 left it: VARCHAR(16) codes in plain text
            s.db.execute_sql('ALTER TABLE "invites" ALTER COLUMN "code" TYPE VARCHAR(16)')
            s.db.execute_sql("INSERT INTO invites (code, unit, uses_left, expires_at, created_by, created_at, revoked) "
                             "VALUES ('ABCDE23456', 'u1', 1, NULL, 'cli', %s, false)", (NOW.isoformat(),))
            s.set_meta("schema_version", "3")  # before migration 4: codes in plain text
        with Store.open(url) as s:
            assert s.schema_version() == SCHEMA_VERSION
            assert [c for (c,) in s.db.execute_sql("SELECT code FROM invites")] == [
                hashlib.sha256(b"ABCDE23456").hexdigest()]
            assert s.redeem_invite("ABCDE23456", NOW) == "u1"
            assert len(s.create_invite("u1", 1, None, "cli", NOW).code) == 10
    finally:
        admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()

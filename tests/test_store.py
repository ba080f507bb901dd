"""The state store against real SQLite files (and PostgreSQL when one is reachable)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from taskbot import config
from tests.conftest import _unavailable
from taskbot.dbcheck import DatabaseProblem
from taskbot.registry import Document, Milestone, Registry, Settings, Task
from taskbot.store import (INVITE_ALPHABET, SCHEMA_VERSION, InviteError, Store, connect_db, definition_hash,
                           ledger_key)
from taskbot.units import Unit, UnitDirectory

ROOT = Path(__file__).resolve().parents[1]
CST = timezone(timedelta(hours=8))
NOW = datetime(2018, 8, 24, 9, 0, tzinfo=CST)


def registry(*tasks: Task, fingerprint: str = "fp") -> Registry:
    doc = Document("郑政〔2018〕1号", "Plan", date(2018, 8, 1), "City")
    units = UnitDirectory([Unit("u1", "Unit one", (), "department"), Unit("u2", "Unit two", (), "district")], [])
    return Registry(settings=Settings(), documents={doc.number: doc}, tasks=tuple(tasks), units=units,
                    fingerprint=fingerprint)


def task(tid: str, **kw) -> Task:
    kw.setdefault("title", f"Task {tid}")
    kw.setdefault("lead", ("u1",))
    return Task(id=tid, doc="郑政〔2018〕1号", **kw)


@pytest.fixture
def store(tmp_path):
    s = Store.open(str(tmp_path / "state.sqlite3"))
    yield s
    s.close()


# --- opening, pragmas, migrations ---------------------------------------------------------------------

def test_sqlite_pragmas_are_set(store):
    q = lambda p: store.db.execute_sql(f"PRAGMA {p}").fetchone()[0]  # noqa: E731
    assert q("journal_mode") == "wal"
    assert q("synchronous") == 1  # NORMAL
    assert q("foreign_keys") == 1
    assert q("busy_timeout") == 10_000


def test_transactions_take_the_write_lock_at_begin(tmp_path):
    path = tmp_path / "lock.sqlite3"
    s = Store.open(str(path))
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with s.db.atomic():  # BEGIN IMMEDIATE: locked before any write
        s.get_meta("schema_version")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    s.close()


def test_open_forms_create_parent_dirs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Store.open("data/x.sqlite3").close()
    assert (tmp_path / "data" / "x.sqlite3").exists()
    Store.open("sqlite:///rel/y.sqlite3").close()
    assert (tmp_path / "rel" / "y.sqlite3").exists()
    absolute = tmp_path / "abs" / "deep" / "z.sqlite3"
    Store.open(f"sqlite:///{absolute}").close()
    assert absolute.exists()
    cfg = config.from_env({"TASKBOT_DB": str(tmp_path / "env" / "w.sqlite3")})
    Store.open(cfg.db).close()
    assert (tmp_path / "env" / "w.sqlite3").exists()
    with pytest.raises(ValueError, match="scheme"):
        connect_db("mongodb://x/y")


def test_migrations_are_idempotent_and_recorded(tmp_path):
    path = str(tmp_path / "m.sqlite3")
    s = Store.open(path)
    assert s.schema_version() == SCHEMA_VERSION and s.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert s.migrate() == []
    assert set(s.db.get_tables()) >= {"chats", "memberships", "task_state", "progress", "deliveries", "audit",
                                      "invites", "feed_tokens", "meta"}
    s.set_meta("k", "v")
    s.close()
    s = Store.open(path)  # reopening migrates nothing and loses nothing
    assert s.migrate() == [] and s.get_meta("k") == "v" and s.data_version() == 0
    s.set_meta("schema_version", str(SCHEMA_VERSION + 1))
    s.close()
    with pytest.raises(DatabaseProblem) as problem:  # one clear line for every command, not a traceback
        Store.open(path)
    assert str(problem.value) == (f"the database has schema version {SCHEMA_VERSION + 1}, newer than this "
                                  f"taskbot's {SCHEMA_VERSION}; upgrade taskbot")


# --- registry sync and task state ---------------------------------------------------------------------

def test_sync_adds_changes_withdraws_restores(store):
    r = store.sync_registry(registry(task("a"), task("b")), NOW)
    assert (r.added, r.changed, r.withdrawn, r.restored) == (["a", "b"], [], [], [])
    assert store.task_state("a").sequence == 0 and store.task_state("a").status == "open"
    v = store.data_version()
    assert v == 1

    assert not store.sync_registry(registry(task("a"), task("b")), NOW)  # nothing changed
    assert store.data_version() == v

    # moving a task within the file is no change; editing its due date is
    assert not store.sync_registry(registry(task("a", source_line=99), task("b")), NOW)
    r = store.sync_registry(registry(task("a", due=date(2018, 12, 31)), task("b")), NOW)
    assert r.changed == ["a"] and store.task_state("a").sequence == 1 and store.data_version() == v + 1

    later = NOW + timedelta(days=1)
    store.add_progress("b", "u1", 7, "half done", NOW)
    store.set_status("b", "done", "alice", None, NOW)
    r = store.sync_registry(registry(task("a", due=date(2018, 12, 31))), later)
    assert r.withdrawn == ["b"]
    b = store.task_state("b")
    assert b.withdrawn and b.sequence == 2 and b.status == "done" and b.updated_at == later
    assert [p.text for p in store.progress("b")] == ["half done"]  # history kept
    assert [a.action for a in store.audit_log("b")] == ["withdrawn", "status"]

    r = store.sync_registry(registry(task("a", due=date(2018, 12, 31)), task("b", title="B again")), later)
    assert r.restored == ["b"] and r.changed == ["b"]
    b = store.task_state("b")
    assert not b.withdrawn and b.sequence == 3 and b.status == "done"
    assert [(a.action, a.actor, a.after) for a in store.audit_log("b", limit=2)] == [
        ("changed", "registry", b.def_hash), ("restored", "registry", "active")]
    assert set(store.task_states()) == {"a", "b"}
    assert store.get_meta("registry_fingerprint") == "fp"


def test_definition_hash_covers_every_field():
    t = task("a", due=date(2018, 9, 1), milestones=(Milestone(date(2018, 8, 30), "m"),))
    h = definition_hash(t)
    assert h == definition_hash(task("a", due=date(2018, 9, 1), milestones=(Milestone(date(2018, 8, 30), "m"),)))
    for change in ({"title": "x"}, {"cooperating": ("u2",)}, {"milestones": ()}, {"kind": "goal"},
                   {"policy": replace(t.policy, overdue_every=3)}, {"detail": "d"}):
        assert definition_hash(replace(t, **change)) != h, change


def test_set_status_audits_before_and_after(store):
    store.sync_registry(registry(task("a")), NOW)
    v = store.data_version()
    st = store.set_status("a", "done", "alice", "finished early", NOW)
    assert (st.status, st.done_by, st.done_at, st.note, st.sequence) == ("done", "alice", NOW, "finished early", 1)
    assert store.data_version() == v + 1
    assert store.set_status("a", "done", "bob", None, NOW) == st  # same status: no-op
    st = store.set_status("a", "open", "bob", "reopened", NOW + timedelta(hours=1))
    assert (st.status, st.done_by, st.done_at, st.sequence) == ("open", None, None, 2)
    log = store.audit_log("a")
    assert [(r.actor, r.action, r.before, r.after, r.note) for r in log] == [
        ("bob", "status", "done", "open", "reopened"), ("alice", "status", "open", "done", "finished early")]
    with pytest.raises(ValueError, match="unknown task"):
        store.set_status("nope", "done", "alice", None, NOW)
    with pytest.raises(ValueError, match="status"):
        store.set_status("a", "finished", "alice", None, NOW)


def test_progress_newest_last(store):
    store.sync_registry(registry(task("a")), NOW)
    ids = [store.add_progress("a", "u1", 7, f"step {i}", NOW + timedelta(minutes=i)) for i in range(3)]
    rows = store.progress("a")
    assert [r.id for r in rows] == ids and rows[-1].text == "step 2" and rows[-1].user_id == 7
    with pytest.raises(ValueError, match="unknown task"):
        store.add_progress("zz", "u1", 7, "x", NOW)
    store.audit("carol", "note", None, {"x": 1}, None, "free-form", NOW)
    assert store.audit_log(limit=1)[0].before == '{"x": 1}'


# --- chats ---------------------------------------------------------------------------------------------

def test_chats_memberships_members(store):
    store.upsert_chat(1, "private", "Alice", NOW)
    store.upsert_chat(-2, "group", "Office", NOW)
    assert store.chat(1).lang == "zh" and store.chat(3) is None
    store.set_lang(1, "en")
    assert store.chat(1).lang == "en"
    with pytest.raises(ValueError):
        store.set_lang(1, "fr")
    assert store.join(1, "u1", 11, NOW) and not store.join(1, "u1", 11, NOW)
    assert store.join(-2, "u1", 12, NOW) and store.join(-2, "u2", 12, NOW)
    assert store.join(5, "u2", 5, NOW)  # a chat never upserted is created
    assert store.members() == {"u1": [-2, 1], "u2": [-2, 5]}
    assert store.chat_units(-2) == ["u1", "u2"]
    store.deactivate_chat(-2, "kicked", NOW)
    assert store.chat(-2).active is False and store.chat(-2).deactivated_reason == "kicked"
    assert store.members() == {"u1": [1], "u2": [5]}
    store.upsert_chat(-2, "group", "Office 2", NOW)  # heard from again: active again
    assert store.chat(-2).active and store.chat(-2).title == "Office 2"
    assert store.leave(-2, "u2") == ["u2"] and store.leave(-2, "u2") == []
    assert store.leave(1) == ["u1"] and store.members() == {"u1": [-2], "u2": [5]}


def test_migrate_chat_moves_memberships_ledger_tokens(store):
    store.upsert_chat(-100, "group", "Old", NOW)
    store.set_lang(-100, "en")
    store.join(-100, "u1", 1, NOW)
    store.join(-100, "u2", 1, NOW)
    day = date(2018, 8, 24)
    store.record_sent([(ledger_key("a", "due", -100, day), "a", "due", -100, day)], 42, NOW)
    token = store.chat_feed_token(-100, NOW)
    store.migrate_chat(-100, -1009, NOW)
    assert store.members() == {"u1": [-1009], "u2": [-1009]}
    assert store.chat(-100).active is False and store.chat(-1009).lang == "en"
    assert store.sent_keys([ledger_key("a", "due", -1009, day), ledger_key("a", "due", -100, day)]) == {
        ledger_key("a", "due", -1009, day)}
    row = store.feed_token(token)
    assert row.chat_id == -1009 and row.value == "-1009"
    assert store.chat_feed_token(-1009, NOW) == token


# --- invites -------------------------------------------------------------------------------------------

def test_invites(store):
    inv = store.create_invite("u1", 2, NOW + timedelta(days=7), 99, NOW)
    assert len(inv.code) == 10 and set(inv.code) <= set(INVITE_ALPHABET)
    assert not set("0O1lI") & set(INVITE_ALPHABET)
    assert inv.expires_at == NOW + timedelta(days=7) and inv.uses_left == 2
    assert store.redeem_invite(inv.code.lower(), NOW) == "u1"  # typed in lower case on a phone
    assert store.redeem_invite(f" {inv.code[:5]}-{inv.code[5:]} ", NOW) == "u1"

    def reason(code, now=NOW):
        with pytest.raises(InviteError) as e:
            store.redeem_invite(code, now)
        return e.value.reason

    assert reason(inv.code) == "used up"
    assert reason("ZZZZZZZZZZ") == "unknown"
    exp = store.create_invite("u2", 5, NOW + timedelta(hours=1), 99, NOW)
    assert store.redeem_invite(exp.code, NOW + timedelta(minutes=59)) == "u2"
    assert reason(exp.code, NOW + timedelta(hours=1)) == "expired"
    rev = store.create_invite("u2", 5, None, None, NOW)
    assert store.revoke_invite(rev.code) and not store.revoke_invite(rev.code)
    assert not store.revoke_invite("nope")
    assert reason(rev.code) == "revoked"
    assert str(InviteError("expired"))  # user-facing text
    with pytest.raises(ValueError):
        store.create_invite("u1", 0, None, 1, NOW)


# --- delivery ledger -----------------------------------------------------------------------------------

def entries(n, chat=7, day=date(2018, 8, 24)):
    return [(ledger_key(f"t{i}", "due", chat, day), f"t{i}", "due", chat, day) for i in range(n)]


def test_ledger_survives_reopen_and_is_idempotent(tmp_path):
    path = str(tmp_path / "ledger.sqlite3")
    s = Store.open(path)
    s.record_sent(entries(3), 1001, NOW)
    s.record_sent(entries(3), 1002, NOW)  # again: ignored
    s.close()
    s2 = Store.open(path)
    keys = [e[0] for e in entries(4)]
    assert s2.sent_keys(keys) == set(keys[:3])
    row = s2.m.Delivery.get(s2.m.Delivery.key == keys[0])
    assert row.message_id == 1001 and row.sent_at == NOW and row.day == "2018-08-24"
    with pytest.raises(ValueError, match="ledger key"):
        s2.record_sent([("bad", "t", "due", 7, "2018-08-24")], None, NOW)
    s2.close()


def test_ledger_written_by_another_process(tmp_path):
    path = str(tmp_path / "proc.sqlite3")
    reader = Store.open(path)  # open first: the writer works on a live, shared file
    code = ("import sys; from datetime import datetime, date; from taskbot.store import Store, ledger_key\n"
            "s = Store.open(sys.argv[1]); d = date(2018, 8, 24)\n"
            "s.record_sent([(ledger_key('x', 'due', -5, d), 'x', 'due', -5, d)], 7,"
            " datetime.fromisoformat('2018-08-24T09:00:00+08:00'))\n"
            "s.close()\n")
    subprocess.run([sys.executable, "-c", code, path], cwd=ROOT, check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert reader.sent_keys(["x|due|-5|2018-08-24", "y|due|-5|2018-08-24"]) == {"x|due|-5|2018-08-24"}
    reader.close()


def test_ledger_bulk_record_and_lookup_beyond_the_sqlite_variable_limit(store):
    store.record_sent(entries(3000), 5, NOW)  # many rows, chunked under SQLite's variable limit
    keys = [e[0] for e in entries(10_000)]
    assert store.sent_keys(keys) == set(keys[:3000])  # 10k keys in chunked IN queries


# --- feed tokens, meta, datetimes ----------------------------------------------------------------------

def test_feed_tokens(store):
    tok = store.create_feed_token("unit", "u1", NOW)
    assert len(tok) == 32
    row = store.feed_token(tok)
    assert (row.scope, row.value, row.chat_id, row.created_at, row.revoked_at) == ("unit", "u1", None, NOW, None)
    assert store.revoke_feed_token(tok, NOW) and not store.revoke_feed_token(tok, NOW)
    assert store.feed_token(tok) is None and store.feed_token("unknown") is None
    mine = store.chat_feed_token(9, NOW)
    assert store.chat_feed_token(9, NOW) == mine and store.feed_token(mine).scope == "chat"
    store.revoke_feed_token(mine, NOW)
    assert store.chat_feed_token(9, NOW) != mine
    with pytest.raises(ValueError):
        store.create_feed_token("everything", None, NOW)


def test_meta_and_aware_datetimes(store):
    assert store.get_meta("nope") is None and store.last_tick() is None
    store.set_meta("a", "1")
    store.set_meta("a", "2")
    assert store.get_meta("a") == "2"
    store.set_last_tick(NOW)
    tick = store.last_tick()
    assert tick == NOW and tick.tzinfo is not None
    store.sync_registry(registry(task("a")), NOW)
    st = store.set_status("a", "done", "alice", None, datetime(2018, 8, 24, 23, 30, tzinfo=CST))
    other = Store.open(str(store.db.database))
    again = other.task_state("a")
    other.close()
    assert again.done_at == datetime(2018, 8, 24, 15, 30, tzinfo=timezone.utc) == st.done_at
    assert again.done_at.tzinfo is not None and again.updated_at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="naive"):
        store.set_last_tick(datetime(2018, 8, 24, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        store.upsert_chat(1, "private", "x", datetime(2018, 8, 24, 9, 0))


# --- PostgreSQL (the server comes from the `postgres_url` fixture in conftest.py) ---------------------------

def test_postgresql_same_models(postgres_url):
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            _unavailable("no PostgreSQL driver (pip install psycopg2-binary)")
    url = postgres_url
    schema = f"taskbot_test_{uuid.uuid4().hex[:8]}"
    admin = connect_db(url)
    try:
        admin.connect()
    except Exception as exc:  # server there but not for us (auth, database)
        _unavailable(f"cannot connect to PostgreSQL: {exc}")
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    try:
        s = Store.open(url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}")
        assert s.schema_version() == SCHEMA_VERSION and s.migrate() == []
        r = s.sync_registry(registry(task("a"), task("b")), NOW)
        assert r.added == ["a", "b"]
        assert s.sync_registry(registry(task("a")), NOW).withdrawn == ["b"]
        assert s.set_status("a", "done", "alice", None, NOW).done_at == NOW
        inv = s.create_invite("u1", 1, NOW + timedelta(days=1), 1, NOW)
        assert s.redeem_invite(inv.code, NOW) == "u1"
        with pytest.raises(InviteError) as e:
            s.redeem_invite(inv.code, NOW)
        assert e.value.reason == "used up"
        s.upsert_chat(-1, "group", "G", NOW)
        s.join(-1, "u1", 1, NOW)
        s.record_sent(entries(250, chat=-1) * 2, 1, NOW)
        assert len(s.sent_keys([e[0] for e in entries(300, chat=-1)])) == 250
        s.migrate_chat(-1, -2, NOW)
        assert s.members() == {"u1": [-2]} and s.data_version() > 0
        s.close()
    finally:
        admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def test_withdrawn_tasks_keep_their_definition(store):
    from taskbot.recurrence import parse_every
    from taskbot.registry import Milestone, Policy
    from datetime import time as dtime

    full = task("a-1", due=date(2019, 12, 31), due_text="2019年底前", ref="二(一)1", detail="正文",
                responsible=("u2",), milestones=(Milestone(date(2018, 12, 31), "招标"), Milestone(date(2019, 12, 31), "完成")),
                every=parse_every("yearly:06-30"), kind="task", source_line=12,
                policy=Policy(before_days=(7, 0), at=dtime(8, 30), workdays_only=False))
    store.sync_registry(registry(full, task("a-2")), NOW)
    assert store.withdrawn_definitions() == {}
    store.sync_registry(registry(task("a-2")), NOW)
    assert store.withdrawn_definitions() == {"a-1": full}


def test_migration_2_adds_definitions_to_a_schema_1_database(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    s = Store.open(path)
    s.sync_registry(registry(task("a-1"), task("a-2")), NOW)
    s.db.execute_sql("ALTER TABLE task_state DROP COLUMN definition")  # as schema 1 left it
    s.set_meta("schema_version", "1")
    s.close()
    s = Store.open(path)
    assert s.schema_version() == SCHEMA_VERSION and "definition" in {c.name for c in s.db.get_columns("task_state")}
    s.sync_registry(registry(task("a-1"), task("a-2")), NOW)  # unchanged definitions are filled in
    s.sync_registry(registry(task("a-2")), NOW)
    assert s.withdrawn_definitions() == {"a-1": task("a-1")}
    s.close()


def test_feed_access_reads_token_and_data_version_in_one_query(store):
    token = store.create_feed_token("unit", "u1", NOW)
    row, version = store.feed_access(token)
    assert (row.token, row.scope, row.value, row.chat_id, row.created_at) == (token, "unit", "u1", None, NOW)
    assert version == store.data_version()
    store.sync_registry(registry(task("a-1")), NOW)
    assert store.feed_access(token)[1] == store.data_version() > version
    store.revoke_feed_token(token, NOW)
    assert store.feed_access(token) == (None, 0) and store.feed_access("nope") == (None, 0)


def test_chat_langs_in_one_call(store):
    for chat in (1, 2):
        store.upsert_chat(chat, "private", None, NOW)
    store.set_lang(2, "en")
    assert store.chat_langs([1, 2, 3]) == {1: "zh", 2: "en"}


def test_progress_of_all_tasks_in_time_order(store):
    store.sync_registry(registry(task("a"), task("b")), NOW)
    store.add_progress("b", "u1", 1, "first", NOW)
    store.add_progress("a", "u1", 1, "second", NOW + timedelta(hours=1))
    assert [(p.task_id, p.text) for p in store.progress()] == [("b", "first"), ("a", "second")]
    assert [p.text for p in store.progress("a")] == ["second"]


def test_deliveries_to_more_chats_than_one_query_holds_are_all_found(store):
    """A group's unit page asks for the ledger of many chats: past 500 of them, none may be dropped."""
    chats = list(range(1, 1201))
    store.record_sent([(f"t-1|due|{c}|2018-08-24", "t-1", "due", c, date(2018, 8, 24)) for c in chats], 7, NOW)
    store.record_sent([("t-1|due|1200|2018-08-25", "t-1", "due", 1200, date(2018, 8, 25))], 8, NOW + timedelta(hours=1))
    rows = store.deliveries(chat_ids=chats, limit=5000)
    assert sorted({r["chat_id"] for r in rows}) == chats and len(rows) == 1201
    assert rows[0]["day"] in ("2018-08-25", date(2018, 8, 25))  # newest first across the chunks
    assert len(store.deliveries(chat_ids=chats, limit=3)) == 3


def test_reopened_since_reports_each_reopening_once(store):
    mark = store.last_audit_id()
    store.audit("cli:op", "status", "t-1", "done", "open", None, NOW)
    store.audit("cli:op", "status", "t-2", "open", "done", None, NOW)
    reopened, mark = store.reopened_since(mark)
    assert reopened == [("t-1", NOW)] and mark == store.last_audit_id()
    assert store.reopened_since(mark) == ([], mark)

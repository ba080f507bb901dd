"""Tables of the state store, built per database, and the ordered list of schema migrations.

Models are made by `build_models(db)` so that several stores (a bot, a feed server, tests) can be open
in one process on different databases without rebinding shared classes.
Datetimes are stored as fixed-width ISO 8601 text in UTC ('2018-08-24T01:00:00.000000+00:00'):
the same on SQLite and PostgreSQL, sortable and comparable as text, aware on the way out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from types import SimpleNamespace
from urllib.parse import unquote

from peewee import (AutoField, BigIntegerField, BooleanField, CharField, Database, IntegerField, Model,
                    PostgresqlDatabase, SQL, SqliteDatabase, TextField)


def to_utc_text(value: datetime) -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware datetime")
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_utc_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# --- rows handed out by the store (re-exported by taskbot.store) ----------------------------------------

@dataclass(frozen=True)
class TaskState:
    task_id: str
    status: str
    done_by: str | None
    done_at: datetime | None
    note: str | None
    withdrawn: bool
    sequence: int
    updated_at: datetime
    doc: str = ""
    def_hash: str = ""


@dataclass(frozen=True)
class SyncResult:
    added: list[str]
    changed: list[str]
    withdrawn: list[str]
    restored: list[str]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.withdrawn or self.restored)


@dataclass(frozen=True)
class ProgressRow:
    id: int
    task_id: str
    unit: str | None
    user_id: int | None
    text: str
    at: datetime


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    task_id: str | None
    before: str | None
    after: str | None
    note: str | None


@dataclass(frozen=True)
class ChatRow:
    chat_id: int
    type: str
    title: str | None
    lang: str
    active: bool
    deactivated_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Invite:
    code: str
    unit: str
    uses_left: int
    expires_at: datetime | None


@dataclass(frozen=True)
class FeedTokenRow:
    token: str
    scope: str
    value: str | None
    chat_id: int | None
    created_at: datetime
    revoked_at: datetime | None


class InviteError(Exception):
    """An invite code cannot be redeemed; `.reason` is 'unknown', 'expired', 'used up' or 'revoked'."""

    MESSAGES = {"unknown": "this invite code is unknown; check it and type it again",
                "expired": "this invite code has expired; ask a coordinator for a new one",
                "used up": "this invite code has been used up; ask a coordinator for a new one",
                "revoked": "this invite code was revoked; ask a coordinator for a new one"}

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(self.MESSAGES.get(reason, reason))


HASH_EXCLUDE = ("source_line",)  # where a task sits in the YAML file is not part of its definition


def definition(task) -> tuple[str, str]:
    """(hash, JSON) of a task's definition from one walk over it.

    The hash covers every field except those in HASH_EXCLUDE; the JSON is everything (read back by
    `task_from_json`).
    """
    data = dataclasses.asdict(task)
    kept = {key: data.pop(key, None) for key in HASH_EXCLUDE}
    hashed = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable)
    data.update(kept)
    return (hashlib.sha256(hashed.encode()).hexdigest()[:32],
            json.dumps(data, ensure_ascii=False, sort_keys=True, default=_jsonable))


def definition_hash(task) -> str:
    """A stable hash of a task's definition: every field except those in HASH_EXCLUDE."""
    return definition(task)[0]


def task_from_json(text: str):
    """The Task that the JSON of `definition` describes."""
    from .model import Milestone, Policy, Task
    from .recurrence import parse_every

    d = json.loads(text)
    day = lambda v: date.fromisoformat(v) if v else None  # noqa: E731
    p = d.pop("policy")
    policy = Policy(tuple(p["before_days"]), time.fromisoformat(p["at"]), p["workdays_only"], p["overdue_every"],
                    p["escalate_after"], p["ongoing"])
    every = d.pop("every")
    return Task(**{**d, "lead": tuple(d["lead"]), "responsible": tuple(d["responsible"]),
                   "cooperating": tuple(d["cooperating"]), "due": day(d["due"]), "policy": policy,
                   "milestones": tuple(Milestone(day(m["due"]), m["title"]) for m in d["milestones"]),
                   "every": parse_every(_every_text(every)) if every else None})


def _every_text(value: dict) -> str:
    from .recurrence import Every

    return str(Every(value["freq"], value["month"], value["day"]))


def _jsonable(value):
    if isinstance(value, (date, time, datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def value_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_jsonable)


class AwareDateTimeField(TextField):
    """An aware datetime kept as UTC ISO 8601 text; naive datetimes are refused."""

    def db_value(self, value):
        return None if value is None else to_utc_text(value)

    def python_value(self, value):
        return from_utc_text(value)


class DayField(CharField):
    """A calendar day as 'YYYY-MM-DD'; accepts a date or that string."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        return value.isoformat() if isinstance(value, date) else value


def _fk(column: str, table: str, ref: str):
    """A foreign key kept as a table constraint, so that ids stay plain values in Python."""
    return SQL(f'FOREIGN KEY ("{column}") REFERENCES "{table}" ("{ref}")')


def build_models(db: Database) -> SimpleNamespace:
    """A fresh set of model classes bound to `db`."""

    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Chat(Base):
        chat_id = BigIntegerField(primary_key=True)
        type = CharField(max_length=32)
        title = TextField(null=True)
        lang = CharField(max_length=2, default="zh")
        active = BooleanField(default=True)
        deactivated_reason = TextField(null=True)
        created_at = AwareDateTimeField()

        class Meta:
            table_name = "chats"

    class Membership(Base):
        id = AutoField()
        chat_id = BigIntegerField()
        unit = TextField()
        user_id = BigIntegerField(null=True)
        joined_at = AwareDateTimeField()

        class Meta:
            table_name = "memberships"
            indexes = ((("chat_id", "unit"), True), (("unit",), False))
            constraints = [_fk("chat_id", "chats", "chat_id")]

    class TaskRow(Base):
        task_id = CharField(max_length=64, primary_key=True)
        doc = TextField()
        status = CharField(max_length=8, default="open")
        done_by = TextField(null=True)
        done_at = AwareDateTimeField(null=True)
        note = TextField(null=True)
        withdrawn = BooleanField(default=False)
        def_hash = CharField(max_length=64)
        sequence = IntegerField(default=0)
        updated_at = AwareDateTimeField()
        definition = TextField(null=True)  # JSON of the task as last synced (schema 2): withdrawn tasks keep it

        class Meta:
            table_name = "task_state"

    class Progress(Base):
        id = AutoField()
        task_id = CharField(max_length=64, index=True)
        unit = TextField(null=True)
        user_id = BigIntegerField(null=True)
        text = TextField()
        at = AwareDateTimeField()

        class Meta:
            table_name = "progress"
            constraints = [_fk("task_id", "task_state", "task_id")]

    class Delivery(Base):
        key = TextField(primary_key=True)
        item = TextField()
        kind = CharField(max_length=32)
        chat_id = BigIntegerField(index=True)
        day = DayField()
        sent_at = AwareDateTimeField()
        message_id = BigIntegerField(null=True)

        class Meta:
            table_name = "deliveries"

    class Audit(Base):
        id = AutoField()
        at = AwareDateTimeField()
        actor = TextField()
        action = CharField(max_length=32)
        task_id = CharField(max_length=64, null=True, index=True)
        before = TextField(null=True)
        after = TextField(null=True)
        note = TextField(null=True)

        class Meta:
            table_name = "audit"

    class Invite(Base):
        code_hash = CharField(max_length=64, primary_key=True, column_name="code")  # invite_hash(code) (schema 5)
        unit = TextField()
        uses_left = IntegerField()
        expires_at = AwareDateTimeField(null=True)
        created_by = TextField(null=True)
        created_at = AwareDateTimeField()
        revoked = BooleanField(default=False)

        class Meta:
            table_name = "invites"

    class FeedToken(Base):
        token = CharField(max_length=64, primary_key=True)
        scope = CharField(max_length=8)
        value = TextField(null=True)
        chat_id = BigIntegerField(null=True, index=True)
        created_at = AwareDateTimeField()
        revoked_at = AwareDateTimeField(null=True)

        class Meta:
            table_name = "feed_tokens"

    class Meta_(Base):
        key = CharField(max_length=64, primary_key=True)
        value = TextField(null=True)

        class Meta:
            table_name = "meta"

    return SimpleNamespace(Chat=Chat, Membership=Membership, TaskRow=TaskRow, Progress=Progress,
                           Delivery=Delivery, Audit=Audit, Invite=Invite, FeedToken=FeedToken, Meta=Meta_,
                           all=[Meta_, Chat, Membership, TaskRow, Progress, Delivery, Audit, Invite, FeedToken])


# --- migrations: append only; migration N brings the schema to version N -------------------------------

def _m1_create(m: SimpleNamespace) -> None:
    for model in m.all:  # in dependency order: referenced tables first
        model.create_table(safe=True)
    m.Meta.insert(key="data_version", value="0").on_conflict_ignore().execute()


def _m2_definition(m: SimpleNamespace) -> None:
    """Keep each task's last definition, so a withdrawn task can still be shown."""
    db = m.Meta._meta.database
    if "definition" not in {c.name for c in db.get_columns("task_state")}:
        from playhouse.migrate import SchemaMigrator, migrate as apply

        apply(SchemaMigrator.from_database(db).add_column("task_state", "definition", TextField(null=True)))


def _m3_claims(m: SimpleNamespace) -> None:
    """Claims that keep instances from sending or handling the same thing twice (see taskbot.claims)."""
    db = m.Meta._meta.database
    db.execute_sql("CREATE TABLE IF NOT EXISTS delivery_claims (key TEXT NOT NULL PRIMARY KEY, "
                   "epoch BIGINT NOT NULL, owner TEXT NOT NULL, claimed_at TEXT NOT NULL)")
    db.execute_sql("CREATE TABLE IF NOT EXISTS processed_updates (update_id BIGINT NOT NULL PRIMARY KEY, "
                   "owner TEXT NOT NULL, claimed_at TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0)")
    m.Meta.insert(key="leader_epoch", value="0").on_conflict_ignore().execute()



def invite_hash(code: str) -> str:
    """What the store keeps of an invite code: its SHA-256 (hex) of the normalized code, never the code."""
    return hashlib.sha256(code.encode()).hexdigest()


def _m4_hash_invites(m: SimpleNamespace) -> None:
    """Keep only hashes of invite codes: a copy of the database no longer lets anyone join a unit.

    Codes are random 10-character strings of a 31-letter alphabet (~50 bits): an unsalted SHA-256 is
    enough, and it keeps redemption a primary-key lookup. Existing codes are hashed in place, so
    codes already handed out still redeem. Feed tokens stay as they are: see docs/security.md.
    """
    db = m.Meta._meta.database
    if not isinstance(db, SqliteDatabase):  # SQLite does not enforce VARCHAR lengths; PostgreSQL does
        db.execute_sql('ALTER TABLE "invites" ALTER COLUMN "code" TYPE VARCHAR(64)')
    rows = db.execute_sql('SELECT "code" FROM "invites"').fetchall()
    for (code,) in rows:
        if len(code) != 64:  # not a hash yet
            db.execute_sql(f'UPDATE "invites" SET "code" = {db.param} WHERE "code" = {db.param}',
                           (invite_hash(code), code))


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer taskbot."""


MIGRATIONS = [_m1_create, _m2_definition, _m3_claims, _m4_hash_invites]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(m: SimpleNamespace) -> list[int]:
    """Apply pending migrations in one transaction; returns the versions applied."""
    db = m.Meta._meta.database
    with db.atomic():
        current = 0
        if db.table_exists("meta"):
            row = m.Meta.get_or_none(m.Meta.key == "schema_version")
            current = int(row.value) if row and row.value else 0
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(f"the database has schema version {current}, newer than this taskbot's "
                               f"{SCHEMA_VERSION}; upgrade taskbot")
        applied = []
        for version in range(current + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version - 1](m)
            applied.append(version)
        if applied:
            (m.Meta.insert(key="schema_version", value=str(SCHEMA_VERSION))
             .on_conflict(conflict_target=[m.Meta.key], update={m.Meta.value: str(SCHEMA_VERSION)}).execute())
    return applied


# --- connecting ----------------------------------------------------------------------------------------

BUSY_TIMEOUT_MS = 10_000
SQLITE_PRAGMAS = [("journal_mode", "wal"), ("synchronous", "NORMAL"), ("foreign_keys", 1),
                  ("busy_timeout", BUSY_TIMEOUT_MS)]


class _ReconnectingPostgresqlDatabase(PostgresqlDatabase):
    """Opens a new session (outside a transaction) once the server has closed the old one: a restart of
    PostgreSQL or a dropped connection costs the calls that hit it, not the rest of the process's life."""

    def connection(self):
        conn = self._state.conn
        if conn is not None and getattr(conn, "closed", 0) and not self.in_transaction():
            self._state.reset()
        return super().connection()

    def cursor(self, *args, **kwargs):
        self.connection()
        return super().cursor(*args, **kwargs)


def connect_db(url: str) -> Database:
    """A peewee database for a path, sqlite:///path or postgresql://user:pass@host/db."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme and not scheme.startswith("sqlite"):
        if not scheme.startswith(("postgres", "postgresql")):
            raise ValueError(f"unsupported database URL scheme {scheme!r}; use a file path, "
                             "sqlite:///path or postgresql://user:password@host/dbname")
        from playhouse.db_url import parse

        return _ReconnectingPostgresqlDatabase(**parse(url))
    path = unquote(url.split("://", 1)[1].split("?", 1)[0][1:]) if scheme else url
    if not path:
        raise ValueError(f"{url!r} has no file name; write sqlite:///data/taskbot.sqlite3")
    if path != ":memory:" and os.path.dirname(path):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)  # 0700 when taskbot creates it
    return PrivateSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_MS / 1000,
                                 lock_type="IMMEDIATE")


class PrivateSqliteDatabase(SqliteDatabase):
    """SQLite whose files (database, -wal, -shm) are readable by their owner only (0600).

    They hold feed tokens and chat ids. A new database file is created 0600 before SQLite opens it;
    SQLite gives the -wal and -shm files the database file's mode. Files from an older taskbot, made
    0644, are narrowed to 0600 when taskbot owns them.
    """

    def _connect(self):
        path = self.database
        if path != ":memory:" and not path.startswith("file:"):
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                pass
            for name in (path, path + "-wal", path + "-shm"):
                _narrow(name)
        return super()._connect()


def _narrow(path: str) -> None:
    try:
        st = os.stat(path)
        if st.st_mode & 0o077 and st.st_uid == os.geteuid():
            os.chmod(path, st.st_mode & 0o700)
    except OSError:  # gone, or not ours: nothing to narrow
        pass

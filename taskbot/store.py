"""The state store: what the registry cannot say (status, chats, liaisons, deliveries, audit, tokens).

The registry (`tasks.yaml`) is the truth for task definitions; this database holds state. SQLite under
data/ by default (WAL, synchronous=NORMAL, foreign keys, busy timeout, BEGIN IMMEDIATE transactions), or
PostgreSQL from a postgresql:// URL, with the same models. No clock is read here: every method that
records a time takes `now`, an aware datetime; every datetime returned is aware (UTC).
Calls are synchronous and short; peewee keeps one connection per thread.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Iterable

from peewee import Database, chunked, fn

from .invites import MAX_USES
from .store_models import (BUSY_TIMEOUT_MS, SCHEMA_VERSION, SQLITE_PRAGMAS,
                           AuditRow, ChatRow, FeedTokenRow, Invite, InviteError, ProgressRow, SchemaTooNew, connect_db,
                           SyncResult, TaskState, build_models, definition, definition_hash, from_utc_text,
                           invite_hash, migrate, task_from_json, to_utc_text, value_text)

INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/l/L: easy to read out and type
INVITE_LENGTH = 10
FEED_SCOPES = ("all", "unit", "doc", "chat")
BOARD_SCOPES = ("b.all", "b.unit", "b.doc", "b.chat")  # supervision-board tokens share the feed-token table
STATUSES = ("open", "done")
LANGS = ("zh", "en")
_IN_CHUNK = 500  # keys per IN (...) query: well under SQLite's oldest variable limit (999)
_ROW_CHUNK = 80  # rows per multi-row INSERT (11 columns: 880 variables, under SQLite's oldest limit of 999)


def ledger_key(item: str, kind: str, chat_id: int, day) -> str:
    """The delivery-ledger key of one reminder: item|kind|chat_id|day."""
    return f"{item}|{kind}|{chat_id}|{day.isoformat() if isinstance(day, date) else day}"


def normalize_invite_code(code: str) -> str:
    return "".join(ch for ch in str(code).upper() if ch not in " -_\t\n")


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.m = build_models(db)

    integrity: list[str] | None = None  # PRAGMA quick_check's findings when opened with check=True

    @classmethod
    def open(cls, url: str, *, create: bool = True, check: bool = False) -> "Store":
        """Open (and migrate) the database at `url`; DatabaseProblem says in one line what is wrong and the fix.

        `create=False` refuses a missing SQLite file (only `taskbot run` and `taskbot init` create one);
        `check=True` runs SQLite's quick_check first and keeps its result in `integrity`.
        """
        from .dbcheck import DRIVER_ERRORS, DatabaseProblem, damaged, explain, preflight, quick_check
        from .dburl import sqlite_path

        preflight(url, create)
        store = None
        try:
            store = cls(connect_db(url))
            if check and sqlite_path(url) is not None:
                store.integrity = quick_check(store.db)
                if store.integrity != ["ok"]:
                    raise DatabaseProblem(damaged(url, store.integrity))
            store.migrate()
        except (DatabaseProblem, *DRIVER_ERRORS, SchemaTooNew, ValueError) as exc:
            if store is not None:
                store.close()
            if isinstance(exc, DatabaseProblem):
                raise
            # a driver's error explained; a newer schema, an unsupported URL: their message says what to do
            raise DatabaseProblem(explain(exc, url) if isinstance(exc, DRIVER_ERRORS) else str(exc)) from None
        return store

    def migrate(self) -> list[int]:
        """Apply pending migrations (one transaction); returns the versions applied."""
        return migrate(self.m)

    def schema_version(self) -> int:
        return int(self.get_meta("schema_version") or 0)

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- registry sync and task state ------------------------------------------------------------------

    def sync_registry(self, registry, now: datetime) -> SyncResult:
        T = self.m.TaskRow
        added, changed, withdrawn, restored, audits = [], [], [], [], []

        def note(action, tid, before, after):
            audits.append({"at": now, "actor": "registry", "action": action, "task_id": tid,
                           "before": before, "after": after, "note": registry.fingerprint or None})

        with self.db.atomic():
            rows = {r["task_id"]: r for r in T.select(T.task_id, T.def_hash, T.withdrawn, T.sequence,
                                                       T.definition.is_null().alias("bare")).dicts()}
            fresh, seen = [], set()
            for task in registry.tasks:
                seen.add(task.id)
                (h, text), row = definition(task), rows.get(task.id)
                if row is None:
                    fresh.append({"task_id": task.id, "doc": task.doc, "status": "open", "withdrawn": False,
                                  "def_hash": h, "sequence": 0, "updated_at": now, "definition": text})
                    added.append(task.id)
                    if len(fresh) >= _ROW_CHUNK:  # insert as we go: a 100k-task registry never sits in memory twice
                        T.insert_many(fresh).execute()
                        fresh = []
                elif row["withdrawn"] or row["def_hash"] != h:
                    T.update(def_hash=h, doc=task.doc, withdrawn=False, sequence=row["sequence"] + 1,
                             updated_at=now, definition=text).where(T.task_id == task.id).execute()
                    if row["withdrawn"]:
                        restored.append(task.id)
                        note("restored", task.id, "withdrawn", "active")
                    if row["def_hash"] != h:
                        changed.append(task.id)
                        note("changed", task.id, row["def_hash"], h)
                elif row["bare"]:  # a database from schema 1: keep the definition from now on
                    T.update(definition=text).where(T.task_id == task.id).execute()
            for batch in chunked(fresh, _ROW_CHUNK):
                T.insert_many(batch).execute()
            for tid, row in rows.items():
                if tid not in seen and not row["withdrawn"]:
                    T.update(withdrawn=True, sequence=row["sequence"] + 1, updated_at=now).where(
                        T.task_id == tid).execute()
                    withdrawn.append(tid)
                    note("withdrawn", tid, "active", "withdrawn")
            for batch in chunked(audits, _ROW_CHUNK):
                self.m.Audit.insert_many(batch).execute()
            result = SyncResult(added, changed, withdrawn, restored)
            if result:
                self._bump()
            if registry.fingerprint:
                self.set_meta("registry_fingerprint", registry.fingerprint)
        return result

    @staticmethod
    def _state(r: dict) -> TaskState:
        return TaskState(r["task_id"], r["status"], r["done_by"], r["done_at"], r["note"], bool(r["withdrawn"]),
                         r["sequence"], r["updated_at"], r["doc"], r["def_hash"])

    def _state_query(self):
        T = self.m.TaskRow
        return T.select(*[f for f in T._meta.sorted_fields if f.name != "definition"])

    def withdrawn_definitions(self) -> dict:
        """Task id -> the last synced definition (a Task) of every withdrawn task."""
        T = self.m.TaskRow
        rows = T.select(T.task_id, T.definition).where(T.withdrawn & T.definition.is_null(False)).tuples()
        return {tid: task_from_json(text) for tid, text in rows}

    def task_states(self) -> dict[str, TaskState]:
        return {r["task_id"]: self._state(r) for r in self._state_query().dicts()}

    def task_state(self, task_id: str) -> TaskState | None:
        T = self.m.TaskRow
        row = self._state_query().where(T.task_id == task_id).dicts().first()
        return self._state(row) if row else None

    def set_status(self, task_id: str, status: str, actor: str, note: str | None, now: datetime) -> TaskState:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; valid: {', '.join(STATUSES)}")
        T = self.m.TaskRow
        with self.db.atomic():
            old = self.task_state(task_id)
            if old is None:
                raise ValueError(f"unknown task {task_id!r}")
            if old.status == status:
                return old
            done = status == "done"
            T.update(status=status, done_by=str(actor) if done else None, done_at=now if done else None,
                     note=note, sequence=old.sequence + 1, updated_at=now).where(T.task_id == task_id).execute()
            self.audit(actor, "status", task_id, old.status, status, note, now)
            self._bump()
            return self.task_state(task_id)

    def add_progress(self, task_id: str, unit: str | None, user_id: int | None, text: str, now: datetime) -> int:
        with self.db.atomic():
            if self.task_state(task_id) is None:
                raise ValueError(f"unknown task {task_id!r}")
            pid = self.m.Progress.insert(task_id=task_id, unit=unit, user_id=user_id, text=text, at=now).execute()
            self._bump()
        return pid

    def progress(self, task_id: str | None = None) -> list[ProgressRow]:
        """Progress reports of one task (or of all, for the feeds), oldest first, in one query."""
        P = self.m.Progress
        q = P.select()
        if task_id is not None:
            q = q.where(P.task_id == task_id)
        return [ProgressRow(r["id"], r["task_id"], r["unit"], r["user_id"], r["text"], r["at"])
                for r in q.order_by(P.at, P.id).dicts()]

    def audit(self, actor, action: str, task_id: str | None, before, after, note: str | None,
              now: datetime) -> int:
        return self.m.Audit.insert(at=now, actor=str(actor), action=action, task_id=task_id,
                                   before=value_text(before), after=value_text(after), note=note).execute()

    def last_audit_id(self) -> int:
        """The newest audit row's id (0 when there is none)."""
        return self.m.Audit.select(fn.MAX(self.m.Audit.id)).scalar() or 0

    def reopened_since(self, audit_id: int) -> tuple[list[tuple[str, datetime]], int]:
        """Tasks set open again after audit row `audit_id`, by any process (the CLI, another instance), with
        when; and the newest row id to ask from next time."""
        A = self.m.Audit
        mark = self.last_audit_id()  # first: a row committed after it is read next time, never skipped
        if mark <= audit_id:
            return [], audit_id
        rows = A.select(A.task_id, A.at).where((A.id > audit_id) & (A.id <= mark) & (A.action == "status")
                                               & (A.after == "open")).order_by(A.id)
        return [(r.task_id, r.at) for r in rows], mark

    def audit_log(self, task_id: str | None = None, limit: int = 100) -> list[AuditRow]:
        """The latest audit rows, newest first."""
        A = self.m.Audit
        q = A.select()
        if task_id is not None:
            q = q.where(A.task_id == task_id)
        return [AuditRow(**r) for r in q.order_by(A.id.desc()).limit(limit).dicts()]

    # --- chats and liaisons ----------------------------------------------------------------------------

    def upsert_chat(self, chat_id: int, type: str, title: str | None, now: datetime) -> ChatRow:
        """Create or refresh a chat; a chat heard from again is active again."""
        C = self.m.Chat
        with self.db.atomic():
            if C.get_or_none(C.chat_id == chat_id) is None:
                C.insert(chat_id=chat_id, type=type, title=title, created_at=now).execute()
            else:
                C.update(type=type, title=title, active=True, deactivated_reason=None).where(
                    C.chat_id == chat_id).execute()
        return self.chat(chat_id)

    def chat(self, chat_id: int) -> ChatRow | None:
        C = self.m.Chat
        row = C.select().where(C.chat_id == chat_id).dicts().first()
        return ChatRow(**row) if row else None

    def chat_langs(self, chat_ids: Iterable[int]) -> dict[int, str]:
        """Language of each known chat among these, in one query per 500 ids."""
        C, out = self.m.Chat, {}
        for batch in chunked(list(dict.fromkeys(chat_ids)), _IN_CHUNK):
            out.update(C.select(C.chat_id, C.lang).where(C.chat_id.in_(batch)).tuples())
        return out

    def set_lang(self, chat_id: int, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; valid: {', '.join(LANGS)}")
        C = self.m.Chat
        if C.update(lang=lang).where(C.chat_id == chat_id).execute() == 0:
            raise ValueError(f"unknown chat {chat_id}")

    def join(self, chat_id: int, unit: str, user_id: int | None, now: datetime) -> bool:
        """Make the chat a liaison of `unit`; False if it already was. Creates an unseen chat row."""
        M, C = self.m.Membership, self.m.Chat
        with self.db.atomic():
            if C.get_or_none(C.chat_id == chat_id) is None:
                C.insert(chat_id=chat_id, type="unknown", created_at=now).execute()
            if M.select().where(M.chat_id == chat_id, M.unit == unit).exists():
                return False
            M.insert(chat_id=chat_id, unit=unit, user_id=user_id, joined_at=now).execute()
            self._bump()
        return True

    def leave(self, chat_id: int, unit: str | None = None) -> list[str]:
        M = self.m.Membership
        cond = (M.chat_id == chat_id) if unit is None else ((M.chat_id == chat_id) & (M.unit == unit))
        with self.db.atomic():
            units = sorted(r.unit for r in M.select(M.unit).where(cond))
            if units:
                M.delete().where(cond).execute()
                self._bump()
        return units

    def chat_units(self, chat_id: int) -> list[str]:
        M = self.m.Membership
        return [u for (u,) in M.select(M.unit).where(M.chat_id == chat_id).order_by(M.unit).tuples()]

    def joined_by(self, chat_id: int) -> set[int]:
        """The users who joined this chat to its units (each redeemed an invite code in it)."""
        M = self.m.Membership
        return {u for (u,) in M.select(M.user_id).where(M.chat_id == chat_id, M.user_id.is_null(False)).tuples()}

    def members(self) -> dict[str, list[int]]:
        """unit -> chat ids of its liaisons, active chats only (one query)."""
        M, C = self.m.Membership, self.m.Chat
        q = (M.select(M.unit, M.chat_id).join(C, on=(M.chat_id == C.chat_id)).where(C.active == True)  # noqa: E712
             .order_by(M.unit, M.chat_id).tuples())
        out: dict[str, list[int]] = {}
        for unit, chat_id in q:
            out.setdefault(unit, []).append(chat_id)
        return out

    def deactivate_chat(self, chat_id: int, reason: str, now: datetime) -> None:
        """Stop sending to a chat (bot kicked, blocked, chat gone); its memberships are kept."""
        C = self.m.Chat
        with self.db.atomic():
            if C.update(active=False, deactivated_reason=reason).where(C.chat_id == chat_id).execute():
                self.audit("system", "chat_deactivated", None, str(chat_id), None, reason, now)

    def migrate_chat(self, old_id: int, new_id: int, now: datetime) -> None:
        """A group became a supergroup: move memberships, ledger entries and feed tokens to the new id."""
        C, M, D, F = self.m.Chat, self.m.Membership, self.m.Delivery, self.m.FeedToken
        with self.db.atomic():
            old = self.chat(old_id)
            if self.chat(new_id) is None:
                C.insert(chat_id=new_id, type=old.type if old else "unknown", title=old.title if old else None,
                         lang=old.lang if old else "zh", created_at=now).execute()
            else:
                C.update(active=True, deactivated_reason=None).where(C.chat_id == new_id).execute()
            taken = set(self.chat_units(new_id))
            if taken:
                M.delete().where((M.chat_id == old_id) & M.unit.in_(list(taken))).execute()
            M.update(chat_id=new_id).where(M.chat_id == old_id).execute()
            moved = [{**r, "key": ledger_key(r["item"], r["kind"], new_id, r["day"]), "chat_id": new_id}
                     for r in D.select().where(D.chat_id == old_id).dicts()]
            for batch in chunked(moved, _ROW_CHUNK):
                D.insert_many(batch).on_conflict_ignore().execute()
            D.delete().where(D.chat_id == old_id).execute()
            F.update(value=str(new_id)).where((F.chat_id == old_id) & F.scope.in_(("chat", "b.chat"))).execute()
            F.update(chat_id=new_id).where(F.chat_id == old_id).execute()
            if old:
                C.update(active=False, deactivated_reason=f"migrated to {new_id}").where(C.chat_id == old_id).execute()
            self.audit("system", "chat_migrated", None, str(old_id), str(new_id), None, now)
            self._bump()

    # --- invites ---------------------------------------------------------------------------------------

    def create_invite(self, unit: str, uses: int, expires_at: datetime | None, created_by, now: datetime) -> Invite:
        """A new invite; the returned code is shown once: the store keeps only its hash."""
        if isinstance(uses, bool) or not isinstance(uses, int) or not 1 <= uses <= MAX_USES:
            raise ValueError(f"an invite has 1 to {MAX_USES} uses, got {uses!r}")
        I = self.m.Invite
        with self.db.atomic():
            while True:
                code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
                if I.get_or_none(I.code_hash == invite_hash(code)) is None:
                    break
            I.insert(code_hash=invite_hash(code), unit=unit, uses_left=uses, expires_at=expires_at,
                     created_by=None if created_by is None else str(created_by), created_at=now).execute()
        return Invite(code, unit, uses, from_utc_text(to_utc_text(expires_at)) if expires_at else None)

    def redeem_invite(self, code: str, now: datetime) -> str:
        """Use one redemption of an invite; returns its unit or raises InviteError(reason)."""
        I, key = self.m.Invite, invite_hash(normalize_invite_code(code))
        with self.db.atomic():
            ok = I.update(uses_left=I.uses_left - 1).where(
                (I.code_hash == key) & (I.uses_left > 0) & (I.revoked == False)  # noqa: E712
                & (I.expires_at.is_null() | (I.expires_at > now))).execute()
            row = I.get_or_none(I.code_hash == key)
            if ok:
                return row.unit
        if row is None:
            raise InviteError("unknown")
        if row.revoked:
            raise InviteError("revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise InviteError("expired")
        raise InviteError("used up")

    def revoke_invite(self, code: str) -> bool:
        I = self.m.Invite
        return bool(I.update(revoked=True).where((I.code_hash == invite_hash(normalize_invite_code(code)))
                                                 & (I.revoked == False)).execute())  # noqa: E712

    # --- delivery ledger -------------------------------------------------------------------------------

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        D, out = self.m.Delivery, set()
        for batch in chunked(list(dict.fromkeys(keys)), _IN_CHUNK):
            out.update(k for (k,) in D.select(D.key).where(D.key.in_(batch)).tuples())
        return out

    def record_sent(self, keys: Iterable[tuple], message_id: int | None, now: datetime) -> None:
        """Record deliveries (key, item, kind, chat_id, day) in one transaction; known keys are ignored."""
        rows = []
        for key, item, kind, chat_id, day in keys:
            if key != ledger_key(item, kind, chat_id, day):
                raise ValueError(f"ledger key {key!r} is not item|kind|chat_id|day of its fields")
            rows.append({"key": key, "item": item, "kind": kind, "chat_id": chat_id, "day": day,
                         "sent_at": now, "message_id": message_id})
        D = self.m.Delivery
        with self.db.atomic():
            for batch in chunked(rows, _ROW_CHUNK):
                D.insert_many(batch).on_conflict_ignore().execute()

    def deliveries(self, task_id: str | None = None, chat_ids: Iterable[int] | None = None,
                   limit: int = 200) -> list[dict]:
        """Ledger rows (item, kind, chat_id, day, sent_at), newest first: of one task's items and/or to these chats."""
        D = self.m.Delivery
        q = D.select(D.item, D.kind, D.chat_id, D.day, D.sent_at)
        if task_id is not None:
            q = q.where((D.item == task_id) | D.item.startswith(task_id + "#") | D.item.startswith(task_id + "@"))
        if chat_ids is None:
            return list(q.order_by(D.sent_at.desc(), D.key).limit(limit).dicts())
        rows = []  # in chunks under the database's variable limit; a group's chats can be many
        for chats in chunked(list(dict.fromkeys(chat_ids)), _IN_CHUNK):
            rows.extend(q.where(D.chat_id.in_(chats)).order_by(D.sent_at.desc(), D.key).limit(limit).dicts())
        return sorted(rows, key=lambda r: r["sent_at"], reverse=True)[:limit]  # stable: each chunk's order kept

    # --- feed tokens -----------------------------------------------------------------------------------

    def create_feed_token(self, scope: str, value: str | None, now: datetime, chat_id: int | None = None) -> str:
        if scope not in FEED_SCOPES + BOARD_SCOPES:
            raise ValueError(f"unknown feed scope {scope!r}; valid: {', '.join(FEED_SCOPES + BOARD_SCOPES)}")
        token = secrets.token_urlsafe(24)
        self.m.FeedToken.insert(token=token, scope=scope, value=value, chat_id=chat_id, created_at=now).execute()
        return token

    def feed_token(self, token: str) -> FeedTokenRow | None:
        F = self.m.FeedToken
        row = F.select().where((F.token == token) & F.revoked_at.is_null()).dicts().first()
        return FeedTokenRow(**row) if row else None

    def feed_access(self, token: str) -> tuple[FeedTokenRow | None, int]:
        """An active token's row and the data version, in one round trip (every feed request asks)."""
        p = self.db.param
        cursor = self.db.execute_sql(
            "SELECT t.token, t.scope, t.value, t.chat_id, t.created_at, "
            f"(SELECT m.value FROM meta m WHERE m.key = {p}) FROM feed_tokens t "
            f"WHERE t.token = {p} AND t.revoked_at IS NULL", ("data_version", token))
        row = cursor.fetchone()
        if row is None:
            return None, 0
        return FeedTokenRow(row[0], row[1], row[2], row[3], from_utc_text(row[4]), None), int(row[5] or 0)

    def revoke_feed_token(self, token: str, now: datetime) -> bool:
        F = self.m.FeedToken
        return bool(F.update(revoked_at=now).where((F.token == token) & F.revoked_at.is_null()).execute())

    def chat_feed_token(self, chat_id: int, now: datetime, scope: str = "chat") -> str:
        """The personal feed (or board: scope b.chat, b.all) token of a chat, created on first use."""
        F = self.m.FeedToken
        with self.db.atomic():
            row = (F.select(F.token).where((F.chat_id == chat_id) & (F.scope == scope) & F.revoked_at.is_null())
                   .order_by(F.created_at.desc()).first())
            value = "" if scope == "b.all" else str(chat_id)
            return row.token if row else self.create_feed_token(scope, value, now, chat_id=chat_id)

    # --- meta ------------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.m.Meta.get_or_none(self.m.Meta.key == key)
        return row.value if row else None

    def meta_values(self, keys: Iterable[str]) -> dict[str, str]:
        """The values of those of `keys` that are set, in one query per 500 keys."""
        M, out = self.m.Meta, {}
        for batch in chunked(list(dict.fromkeys(keys)), _IN_CHUNK):
            out.update(M.select(M.key, M.value).where(M.key.in_(batch)).tuples())
        return out

    def set_meta(self, key: str, value: str | None) -> None:
        Meta = self.m.Meta
        value = None if value is None else str(value)
        Meta.insert(key=key, value=value).on_conflict(conflict_target=[Meta.key],
                                                      update={Meta.value: value}).execute()

    def data_version(self) -> int:
        """A counter bumped by every change of task state, progress or memberships (for caches, ETags)."""
        return int(self.get_meta("data_version") or 0)

    def _bump(self) -> None:
        Meta = self.m.Meta
        Meta.update(value=(Meta.value.cast("INTEGER") + 1).cast("TEXT")).where(Meta.key == "data_version").execute()

    def last_tick(self) -> datetime | None:
        return from_utc_text(self.get_meta("last_tick"))

    def set_last_tick(self, dt: datetime) -> None:
        self.set_meta("last_tick", to_utc_text(dt))


__all__ = ["AuditRow", "BUSY_TIMEOUT_MS", "SQLITE_PRAGMAS", "ChatRow", "FeedTokenRow", "Invite", "InviteError", "ProgressRow", "SCHEMA_VERSION",
           "Store", "SyncResult", "TaskState", "connect_db", "definition_hash", "ledger_key",
           "normalize_invite_code"]

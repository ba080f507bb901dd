"""Local emulator of the Telegram Bot API (aiohttp) for testing the real PTB client offline."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import random
import re
import signal
import sys
import time
from typing import Any, Callable

from aiohttp import web

_INT_RE = re.compile(r"-?\d+")
# Parameters whose values are always strings, never JSON-decoded.
_STR_KEYS = {"text", "caption", "data", "callback_query_id", "inline_message_id", "parse_mode",
             "action", "url", "language_code", "description", "short_description", "name",
             "title", "secret_token"}
_STATUS_TEXT = {400: "Bad Request", 500: "Internal Server Error", 502: "Bad Gateway",
                503: "Service Unavailable", 504: "Gateway Timeout"}
_CMD_RE = re.compile(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?")


class ApiError(Exception):
    """An error answered as a Bot API error response."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _decode(key: str, value: Any) -> Any:
    """Decode one form value the way PTB's RequestData.json_parameters encoded it."""
    if not isinstance(value, str) or key in _STR_KEYS or not value:
        return value
    if value[0] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    return int(value) if _INT_RE.fullmatch(value) else value


class BotApiEmulator:
    """In-process fake Bot API server. Use as ``async with BotApiEmulator() as emu:``.

    error_rate applies to SEND_METHODS; block_chat and limits to sendMessage/editMessageText.
    lose_reply_rate: that share of accepted sendMessage requests is carried out (sent, logged) and then
    the connection is dropped without a reply, as when the network fails after Telegram accepted it.
    """

    SEND_METHODS = {"sendmessage", "editmessagetext", "answercallbackquery", "sendchataction", "senddocument"}

    def __init__(self, token: str = "123456:TEST", host: str = "127.0.0.1", port: int = 0, *,
                 limits: bool = False, global_per_sec: int = 30, per_chat_per_sec: int = 1,
                 group_per_min: int = 20, error_rate: float = 0.0, seed: int = 0,
                 log_path: str | None = None, bot_username: str = "taskbot_test_bot",
                 lose_reply_rate: float = 0.0, jitter_ms: float = 0.0):
        self.token, self.host, self.port = token, host, port
        self.jitter_ms = jitter_ms  # each request waits a random 0..jitter_ms before it counts (network delay)
        self.limits, self.global_per_sec = limits, global_per_sec
        self.per_chat_per_sec, self.group_per_min = per_chat_per_sec, group_per_min
        self.error_rate, self.rng = error_rate, random.Random(seed)
        self.lose_reply_rate, self.count_lost_replies = lose_reply_rate, 0
        self.log_path, self.bot_username = log_path, bot_username
        self.bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123456
        self.bot_user = {"id": self.bot_id, "is_bot": True, "first_name": "TaskBot",
                         "username": bot_username}
        self.sent: list[dict] = []  # {chat_id, message_id, text, reply_markup, t}
        self.edits: list[dict] = []  # same shape as sent
        self.documents: list[dict] = []  # sendDocument: {chat_id, message_id, filename, content, caption}
        self.callback_answers: list[dict] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.requests: collections.Counter = collections.Counter()
        self.count_429 = self.count_5xx = self.count_403 = 0
        self.updates: list[dict] = []
        self.messages: dict[tuple[int, int], dict] = {}
        self.blocked: set[int] = set()
        self.member_status: dict[tuple[int, int], str] = {}  # (chat, user) -> getChatMember status
        self.chats: dict[Any, dict] = {}
        self._faults: list[dict] = []
        self._next_msg_id: collections.Counter = collections.Counter()
        self._next_update_id = self._next_cb_id = 1
        self._windows: dict[Any, collections.deque] = collections.defaultdict(collections.deque)
        self._cond: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task] = set()
        self._closing, self._log_file = False, None
        # webhook mode (setWebhook): updates are POSTed to webhook["url"], retried until answered 200
        self.webhook: dict | None = None
        self.webhook_attempts: list[dict] = []  # {update_id, status, t} per POST
        self.webhook_retry_delay = 0.2
        self._delivered: dict[int, dict] = {}  # update_id -> update, for redeliver()
        self._pusher: asyncio.Task | None = None
        self._methods: dict[str, Callable] = {
            name[3:].lower(): getattr(self, name) for name in dir(self) if name.startswith("_m_")}

    async def start(self) -> "BotApiEmulator":
        self._loop, self._cond = asyncio.get_running_loop(), asyncio.Condition()
        self._closing = False
        if self.log_path:
            self._log_file = open(self.log_path, "a", encoding="utf-8")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._not_found)
        app.router.add_get("/_emu/state", self._state)
        app.router.add_post("/_emu/{action}", self._control)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing = True  # releases pending long polls
        if self._pusher is not None:
            self._pusher.cancel()
            self._pusher = None
        if self._cond is not None:
            await self._notify()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    async def __aenter__(self) -> "BotApiEmulator":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    def _wake(self) -> None:
        """Schedule a notification of all waiters; callable from any thread once started."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._spawn_notify)

    def _spawn_notify(self) -> None:
        task = self._loop.create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_for(self, predicate: Callable[["BotApiEmulator"], bool],
                       timeout: float = 5.0) -> None:
        """Wait until ``predicate(self)`` holds; raise TimeoutError otherwise."""
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(lambda: predicate(self)), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(
                    f"BotApiEmulator.wait_for: predicate still false after {timeout}s "
                    f"(sent={len(self.sent)}, edits={len(self.edits)}, "
                    f"requests={dict(self.requests)})") from None

    async def wait_sent(self, n: int, timeout: float = 5.0) -> list[dict]:
        """Wait until at least ``n`` messages were sent; return the sent log."""
        await self.wait_for(lambda e: len(e.sent) >= n, timeout)
        return self.sent

    def _add_update(self, kind: str, payload: dict) -> dict:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self.updates.append(update)
        self._wake()
        return update

    def _new_msg_id(self, chat_id: int) -> int:
        self._next_msg_id[chat_id] += 1
        return self._next_msg_id[chat_id]

    def _chat(self, chat_id: Any, chat_type: str | None = None, title: str | None = None,
              username: str | None = None, first_name: str | None = None) -> dict:
        """Chat dict; remembered from injected messages, else guessed from the id's sign."""
        if chat_type is None and chat_id in self.chats:
            return self.chats[chat_id]
        if not isinstance(chat_id, int):
            return {"id": -1, "type": "channel", "title": str(chat_id)}
        chat_type = chat_type or ("private" if chat_id > 0 else "group"
                                  if chat_id > -10**12 else "supergroup")
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat.update({k: v for k, v in (("first_name", first_name), ("username", username))
                         if v})
        else:
            chat["title"] = title or f"Group {chat_id}"
        return chat

    def inject_message(self, chat_id: int, user_id: int, text: str, chat_type: str = "private",
                       username: str | None = None, first_name: str = "Test",
                       title: str | None = None) -> dict:
        """Queue an incoming text message update (negative chat_id = group); returns it."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        user.update({"username": username} if username else {})
        if chat_type == "private" and chat_id < 0:
            chat_type = "group" if chat_id > -10**12 else "supergroup"
        msg = {"message_id": self._new_msg_id(chat_id), "date": int(time.time()),
               "chat": self._chat(chat_id, chat_type, title, username, first_name),
               "from": user, "text": text}
        m = _CMD_RE.match(text)
        if m:
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": m.end()}]
        self.messages[(chat_id, msg["message_id"])] = msg
        self.chats[chat_id] = msg["chat"]
        return self._add_update("message", msg)

    def inject_callback(self, chat_id: int, user_id: int, message_id: int, data: str) -> dict:
        """Queue a callback_query update for a message sent earlier; returns the update dict."""
        msg = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id),
            "from": self.bot_user, "text": ""}
        cq = {"id": str(self._next_cb_id), "chat_instance": str(chat_id),
              "from": {"id": user_id, "is_bot": False, "first_name": "Test"},
              "message": msg, "data": data}
        self._next_cb_id += 1
        return self._add_update("callback_query", cq)

    def fail_next(self, method: str, status: int, *, count: int = 1, retry_after: int | None = None,
                  chat_id: int | None = None, description: str | None = None,
                  migrate_to_chat_id: int | None = None) -> None:
        """Queue ``count`` failures with HTTP ``status`` for ``method`` (optionally one chat)."""
        params: dict[str, int] = {}
        if status == 429:
            params["retry_after"] = retry_after or 1
            description = description or f"Too Many Requests: retry after {params['retry_after']}"
        elif migrate_to_chat_id is not None:
            params["migrate_to_chat_id"] = migrate_to_chat_id
            description = description or "Bad Request: group chat was upgraded to a supergroup chat"
        elif status == 403:
            description = description or "Forbidden: bot was blocked by the user"
        description = description or _STATUS_TEXT.get(status, f"Error {status}")
        self._faults.append({"method": method.lower(), "status": status, "count": count,
                             "chat_id": chat_id, "error": (description, params or None)})

    def block_chat(self, chat_id: int) -> None:
        """Every later send to ``chat_id`` fails with 403."""
        self.blocked.add(int(chat_id))

    def set_member(self, chat_id: int, user_id: int, status: str = "administrator") -> None:
        """getChatMember answers `status` (creator, administrator, member, left...) for this user in this chat.

        Users never set are members of chats they wrote in, else 'left'.
        """
        self.member_status[(int(chat_id), int(user_id))] = status

    def _check_faults(self, method: str, params: dict) -> None:
        chat_id = params.get("chat_id")
        for fault in self._faults:
            if fault["method"] == method and fault["chat_id"] in (None, chat_id):
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault["status"], *fault["error"])
        if method not in self.SEND_METHODS:
            return
        if self.error_rate and self.rng.random() < self.error_rate:
            raise ApiError(502, "Bad Gateway")
        if chat_id is None or method not in ("sendmessage", "editmessagetext"):
            return
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if self.limits:
            self._check_limits(chat_id)

    def _check_limits(self, chat_id: Any) -> None:
        now = time.monotonic()
        rules = [("global", 1.0, self.global_per_sec), (chat_id, 1.0, self.per_chat_per_sec)]
        if isinstance(chat_id, int) and chat_id < 0:
            rules.append((("group", chat_id), 60.0, self.group_per_min))
        wait = 0.0
        for key, window, limit in rules:
            dq = self._windows[key]
            while dq and dq[0] <= now - window:
                dq.popleft()
            if len(dq) >= limit:
                wait = max(wait, dq[len(dq) - limit] + window - now)
        if wait > 0:
            secs = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {secs}", {"retry_after": secs})
        for key, _, _ in rules:
            self._windows[key].append(now)

    @staticmethod
    async def _params(request: web.Request) -> dict:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
        elif request.can_read_body:  # urlencoded or multipart; file parts -> file name (content in "_files")
            files = {}
            for k, v in (await request.post()).items():
                if isinstance(v, str):
                    params[k] = v
                else:
                    params[k] = getattr(v, "filename", k)
                    files[k] = v.file.read() if hasattr(v, "file") else b""
            if files:
                params["_files"] = files
        return {k: _decode(k, v) for k, v in params.items()}

    def _reply(self, status: int, description: str, parameters: dict | None = None) -> web.Response:
        counter = {429: "count_429", 403: "count_403"}.get(status, "count_5xx" * (status >= 500))
        if counter:
            setattr(self, counter, getattr(self, counter) + 1)
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _not_found(self, request: web.Request) -> web.Response:
        return self._reply(404, "Not Found")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        if self.jitter_ms and method != "getupdates":
            await asyncio.sleep(self.rng.uniform(0, self.jitter_ms) / 1000)
        self.requests[request.match_info["method"]] += 1
        self._wake()
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            params = await self._params(request)
            self._check_faults(method, params)
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
            if method == "sendmessage" and self.lose_reply_rate and self.rng.random() < self.lose_reply_rate:
                self.count_lost_replies += 1  # accepted, but the reply never reaches the client
                if request.transport is not None:
                    request.transport.abort()  # the reply below is written to a closed connection: dropped
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            return self._reply(exc.status, exc.description, exc.parameters)
        except (KeyError, TypeError, ValueError) as exc:
            return self._reply(400, f"Bad Request: invalid parameters ({exc!r})")
        finally:
            self._wake()

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response({
            "count_429": self.count_429, "count_5xx": self.count_5xx, "count_403": self.count_403,
            "count_lost_replies": self.count_lost_replies, "requests": dict(self.requests),
            "pending_updates": len(self.updates), "sent": self.sent, "edits": self.edits,
            "callback_answers": self.callback_answers, "webhook": self.webhook, "webhook_attempts": self.webhook_attempts})

    async def _control(self, request: web.Request) -> web.Response:
        """POST /_emu/inject {"type": "message"|"callback", ...}, /_emu/fail, /_emu/block, /_emu/member."""
        body, action = await request.json(), request.match_info["action"]
        try:
            if action == "inject":
                kind = body.pop("type", "message")
                fn = self.inject_callback if kind == "callback" else self.inject_message
                return web.json_response({"ok": True, "result": fn(**body)})
            if action == "fail":
                self.fail_next(body.pop("method"), body.pop("status"), **body)
            elif action == "block":
                self.block_chat(body["chat_id"])
            elif action == "member":
                self.set_member(body["chat_id"], body["user_id"], body.get("status", "administrator"))
            elif action == "redeliver":
                return web.json_response({"ok": True, "result": self.redeliver(body["update_id"])})
            else:
                return web.json_response({"ok": False, "description": "unknown action"}, status=404)
        except (TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "description": repr(exc)}, status=400)
        return web.json_response({"ok": True, "result": True})

    def _log(self, method: str, entry: dict) -> None:
        if self._log_file:
            rec = {"method": method, **entry, "ts": time.time()}
            self._log_file.write(json.dumps(rec) + "\n")
            self._log_file.flush()

    def _m_getMe(self, p: dict) -> dict:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_getUpdates(self, p: dict) -> list[dict]:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = int(p.get("offset") or 0), max(1, min(int(p.get("limit") or 100), 100))
        timeout, allowed = float(p.get("timeout") or 0), p.get("allowed_updates") or None
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

        def pending() -> list[dict]:
            if self._closing:
                return []
            return [u for u in self.updates if not allowed or any(k in u for k in allowed)][:limit]

        if not pending() and timeout > 0:
            async with self._cond:
                try:
                    await asyncio.wait_for(self._cond.wait_for(
                        lambda: self._closing or bool(pending())), timeout)
                except asyncio.TimeoutError:
                    pass
        return pending()

    def _m_sendMessage(self, p: dict) -> dict:
        chat_id = p.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not str(p.get("text", "")).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        msg = {"message_id": self._new_msg_id(chat_id), "date": int(time.time()),
               "chat": self._chat(chat_id), "from": self.bot_user, "text": str(p["text"])}
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        self.messages[(chat_id, msg["message_id"])] = msg
        entry = {"chat_id": chat_id, "message_id": msg["message_id"], "text": msg["text"],
                 "reply_markup": p.get("reply_markup"), "t": time.monotonic()}
        self.sent.append(entry)
        self._log("sendMessage", entry)
        return msg

    def _m_sendDocument(self, p: dict) -> dict:
        chat_id, files = p.get("chat_id"), p.get("_files") or {}
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not p.get("document"):
            raise ApiError(400, "Bad Request: there is no document in the request")
        name = str(p["document"])
        msg = {"message_id": self._new_msg_id(chat_id), "date": int(time.time()), "chat": self._chat(chat_id),
               "from": self.bot_user, "document": {"file_id": f"doc{len(self.documents) + 1}", "file_unique_id": f"u{len(self.documents) + 1}", "file_name": name,
                                                   "file_size": len(files.get("document", b""))}}
        if p.get("caption"):
            msg["caption"] = str(p["caption"])
        entry = {"chat_id": chat_id, "message_id": msg["message_id"], "filename": name,
                 "content": files.get("document"), "caption": p.get("caption"), "t": time.monotonic()}
        self.documents.append(entry)
        self._log("sendDocument", {k: v for k, v in entry.items() if k != "content"})
        return msg

    def _m_editMessageText(self, p: dict) -> dict | bool:
        if p.get("inline_message_id"):
            return True
        key = (p.get("chat_id"), p.get("message_id"))
        msg = self.messages.get(key)
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if msg["from"].get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        text, markup = str(p.get("text", "")), p.get("reply_markup")
        if text == msg["text"] and markup == msg.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same as a current "
                                "content and reply markup of the message")
        msg.update(text=text, edit_date=int(time.time()))
        msg.pop("reply_markup", None)
        msg.update({"reply_markup": markup} if markup else {})
        entry = {"chat_id": key[0], "message_id": key[1], "text": text, "reply_markup": markup,
                 "t": time.monotonic()}
        self.edits.append(entry)
        self._log("editMessageText", entry)
        return msg

    def _m_answerCallbackQuery(self, p: dict) -> bool:
        self.callback_answers.append({**p, "t": time.monotonic()})
        return True

    @staticmethod
    def _cmd_key(p: dict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.get("language_code") or ""

    def _m_setMyCommands(self, p: dict) -> bool:
        self.commands[self._cmd_key(p)] = list(p.get("commands") or [])
        return True

    def _m_getMyCommands(self, p: dict) -> list[dict]:
        return self.commands.get(self._cmd_key(p), [])

    def _m_deleteMyCommands(self, p: dict) -> bool:
        self.commands.pop(self._cmd_key(p), None)
        return True

    def _m_getWebhookInfo(self, p: dict) -> dict:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    def _m_deleteWebhook(self, p: dict) -> bool:
        if p.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        return True

    _RIGHTS = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
               "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
               "can_post_stories", "can_edit_stories", "can_delete_stories")
    _MEMBER_RIGHTS = ("can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages", "can_send_polls",
                      "can_send_other_messages", "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
                      "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
                      "can_send_voice_notes", "can_edit_tag")

    def _m_getChatMember(self, p: dict) -> dict:
        chat_id, user_id = p.get("chat_id"), p.get("user_id")
        if not isinstance(chat_id, int) or not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: chat not found" if not isinstance(chat_id, int)
                           else "Bad Request: invalid user_id specified")
        wrote = any(m["chat"]["id"] == chat_id and m["from"].get("id") == user_id for m in self.messages.values())
        status = self.member_status.get((chat_id, user_id), "member" if wrote else "left")
        user = {"id": user_id, "is_bot": user_id == self.bot_id, "first_name": "Test"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update({k: k not in ("is_anonymous",) for k in self._RIGHTS})
        elif status == "restricted":
            member.update({"is_member": True, "until_date": 0, **{k: False for k in self._MEMBER_RIGHTS}})
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _m_setWebhook(self, p: dict) -> bool:
        url = str(p.get("url") or "")
        if not url:
            return self._m_deleteWebhook(p)
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {"url": url, "secret_token": p.get("secret_token"),
                        "allowed_updates": p.get("allowed_updates") or None}
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates())
        self._wake()
        return True

    def redeliver(self, update_id: int) -> dict:
        """Deliver an update that was already delivered once more (as Telegram does when unsure)."""
        update = self._delivered[int(update_id)]
        self.updates.insert(0, update)
        self._wake()
        return update

    async def _push_updates(self) -> None:
        """Webhook mode: POST each pending update in order; retry until the receiver answers 200."""
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            while not self._closing:
                async with self._cond:
                    await self._cond.wait_for(lambda: self._closing or (self.webhook and self.updates))
                if self._closing:
                    return
                hook, update = self.webhook, self.updates[0]
                headers = {"Content-Type": "application/json"}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                try:
                    async with session.post(hook["url"], data=json.dumps(update), headers=headers) as resp:
                        status = resp.status
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    status = None
                self.webhook_attempts.append({"update_id": update["update_id"], "status": status,
                                              "t": time.monotonic()})
                if status == 200:
                    if self.updates and self.updates[0] is update:
                        self.updates.pop(0)
                    self._delivered[update["update_id"]] = update
                    self._wake()
                else:
                    await asyncio.sleep(self.webhook_retry_delay)

    def _ok(self, p: dict) -> bool:
        return True

    _m_setChatMenuButton = _m_sendChatAction = _m_close = _m_logOut = _ok


async def _main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.tgemu", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--token", default="123456:TEST")
    ap.add_argument("--limits", "--strict-limits", dest="limits", action="store_true",
                    help="Telegram's limits: 30 sends in any sliding second, 1 per chat per second, 20 per group "
                         "per minute; beyond them 429 with retry_after")
    ap.add_argument("--jitter-ms", type=float, default=0.0,
                    help="delay each request by a random 0..N ms before it is counted (network jitter)")
    ap.add_argument("--log", default=None, help="JSON-lines log of accepted sends/edits")
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with BotApiEmulator(a.token, a.host, a.port, limits=a.limits, log_path=a.log,
                              error_rate=a.error_rate, seed=a.seed, jitter_ms=a.jitter_ms) as emu:
        print(emu.base_url, flush=True)  # the ready line: the URL carries the port the OS chose for --port 0
        print(f"tgemu: ready on {emu.host} port {emu.port}{' with limits' if a.limits else ''}"
              f"{f', jitter 0-{a.jitter_ms:g} ms' if a.jitter_ms else ''}", file=sys.stderr, flush=True)
        await stop.wait()


if __name__ == "__main__":  # python3 tests/tgemu.py --port 0 --strict-limits --jitter-ms 20
    asyncio.run(_main())

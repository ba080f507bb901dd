"""The link to Telegram: bring the bot up and keep it up without ever taking the feeds or the scheduler down.

While the Bot API cannot be reached (at start or later) the link says so once, retries with backoff
and says when Telegram is back; reminders due meanwhile stay pending in the dispatcher and go out on
the tick the link triggers when it comes back. A rejected token stops the process with one line.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, TelegramError

from ..config import mask_token
from ..i18n import cli_tr
from .transport import TelegramTransport
from .webhook import ALLOWED_UPDATES, register

log = logging.getLogger("taskbot.bot.link")



def _answer(exc: InvalidToken, token: str) -> str:
    """Telegram's own answer ('Unauthorized', 'Not Found'): Bot.initialize wraps it in a message quoting the token."""
    text = str(exc.__cause__ or exc) or "Unauthorized"
    return text.replace(token, mask_token(token))


class TelegramLink:
    def __init__(self, application, *, token: str, api_url: str, first: float = 1.0, cap: float = 60.0,
                 say=print, on_up=None, on_rejected=None, webhook: str | None = None):
        self.application, self.token = application, token
        self.webhook = webhook  # register this webhook once up, instead of polling
        self.want_polling = False  # polling runs only while this is set (the leader's) and the link is up
        self.host = urlsplit(api_url).netloc or api_url
        self.api_url = api_url
        self.first, self.cap, self.say = first, cap, say
        self.on_up, self.on_rejected = on_up, on_rejected
        self.up = asyncio.Event()
        self.settled = asyncio.Event()  # up, or known to be down, or rejected: start-up need not wait longer
        self.down = False
        self.rejected: str | None = None
        self._tasks: set[asyncio.Task] = set()
        self._started = False

    def start(self) -> None:
        self._spawn(self._connect())

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lost(self, exc: Exception) -> None:
        if not self.down:
            self.down = True
            self.up.clear()
            self.say("taskbot: " + cli_tr(
                "cannot reach Telegram at {host} ({reason}); retrying with backoff; the feeds and the scheduler keep "
                "running and reminders wait until it is back", host=self.host,
                reason=f"{exc.__class__.__name__}: {exc}"))
        self.settled.set()

    def _back(self, how: str) -> None:
        was_down, self.down = self.down, False
        self.up.set()
        self.settled.set()
        if was_down or how == "connected":
            name = getattr(self.application.bot, "username", None) if how == "connected" else None
            self.say("taskbot: " + (cli_tr("connected to Telegram as @{name}", name=name) if name
                                    else cli_tr("Telegram is reachable again")))
        if self.on_up is not None:
            self.on_up()

    def _reject(self, exc: InvalidToken) -> None:
        # PTB raises InvalidToken for 401 and for 404, so a wrong --api-url lands here too: name both
        self.rejected = cli_tr("Telegram rejected the bot token {token} ({reason}); check TASKBOT_TELEGRAM_TOKEN (or the "
                               "variable named by token_env in taskbot.toml) and the Bot API URL {api}: @BotFather "
                               "gives the token", token=mask_token(self.token), api=self.api_url,
                               reason=_answer(exc, self.token))
        self.settled.set()
        if self.on_rejected is not None:
            self.on_rejected(self.rejected)

    async def _backoff(self, attempt: int) -> None:
        await asyncio.sleep(min(self.first * 2 ** attempt, self.cap))

    async def _connect(self) -> None:
        attempt = 0
        while True:
            try:
                await self.application.initialize()  # getMe: checks the token too
                break
            except InvalidToken as exc:
                self._reject(exc)
                return
            except NetworkError as exc:  # TimedOut included
                self._lost(exc)
            await self._backoff(attempt)
            attempt += 1
        await self.application.start()
        if self.webhook:
            while True:
                try:
                    await register(self.application, self.webhook)
                    break
                except NetworkError as exc:
                    self._lost(exc)
                await self._backoff(attempt)
                attempt += 1
        self._started = True
        if self.want_polling:
            await self._start_polling()
        self._back("connected")

    async def _start_polling(self) -> None:
        await self.application.updater.start_polling(
            drop_pending_updates=False, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1,
            error_callback=self._polling_error)

    async def set_polling(self, on: bool) -> None:
        """Call getUpdates (or stop calling it): only the leader polls, so Telegram never answers 409."""
        self.want_polling = on
        if not self._started or self.application.updater is None:
            return  # the link starts polling when it comes up, if still wanted
        if on and not self.application.updater.running:
            await self._start_polling()
        elif not on and self.application.updater.running:
            await self.application.updater.stop()

    def _polling_error(self, exc: TelegramError) -> None:
        """PTB retries polling itself; say once that Telegram is gone and watch for its return."""
        if isinstance(exc, InvalidToken):
            self._reject(exc)
            return
        if isinstance(exc, NetworkError) and not self.down:
            self._lost(exc)
            self._spawn(self._watch())
        elif not isinstance(exc, NetworkError):
            log.warning("polling: %s: %s", exc.__class__.__name__, exc)

    async def _watch(self) -> None:
        attempt = 0
        while self.down:
            await self._backoff(attempt)
            attempt += 1
            try:
                await self.application.bot.get_me()
            except NetworkError:
                continue
            except TelegramError:
                break
            self._back("again")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 (stopping: nothing left to report)
                pass
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if self._started and application.running:
            await application.stop()
        await application.shutdown()


class LinkedTransport(TelegramTransport):
    """The Telegram transport, not ready while the link is down: the service keeps reminders pending instead
    of trying every chat (and logging every try) during an outage."""

    link: TelegramLink | None = None

    @property
    def ready(self) -> bool:
        return self.link is None or (self.link.up.is_set() and not self.link.down)

"""Logs without secrets or network tracebacks: bot tokens masked to their bot id, Telegram outages in one line."""

from __future__ import annotations

import logging
import re

from .config import mask_token

# a bot token as Telegram issues them: the bot id, a colon, 30+ characters (in URLs: /bot<id>:<secret>/)
TOKEN_SHAPE = re.compile(r"(?<!\d)(\d{4,15}):[A-Za-z0-9_-]{20,}")
NETWORK_ERRORS = ("NetworkError", "TimedOut", "ConnectError", "ReadError", "ConnectTimeout", "RemoteProtocolError")


class SecretFilter(logging.Filter):
    """A handler filter: masks the configured token and token-shaped text, and turns a Telegram network
    error's traceback (and any traceback PTB logs) into one line (an outage is reported by the link, once)."""

    def __init__(self, secrets=()):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, mask_token(secret))
        return TOKEN_SHAPE.sub(lambda m: f"{m.group(1)}:***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = original = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            names = {c.__name__ for c in type(exc).__mro__}
            shown = self.mask(f"{exc.__class__.__name__}: {exc}")
            ptb = record.name.startswith("telegram")  # PTB's internals: the one line says enough to an operator
            if ptb or names & set(NETWORK_ERRORS) or shown != f"{exc.__class__.__name__}: {exc}":
                message = f"{message} ({shown})"
                record.exc_info, record.exc_text = None, None
        masked = self.mask(message)
        if masked != original:
            record.msg, record.args = masked, ()
        return True


def install(secrets=()) -> SecretFilter:
    """Add the filter to every handler of the root logger (records of every logger pass through them)."""
    flt = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(flt)
    return flt

"""Run-time configuration: environment variables, each with a matching command-line flag."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DB = "data/taskbot.sqlite3"
DEFAULT_HTTP = "127.0.0.1:8080"

ENV = {
    "token": "TASKBOT_TELEGRAM_TOKEN",
    "api_url": "TASKBOT_TELEGRAM_API_URL",
    "coordinators": "TASKBOT_COORDINATORS",
    "db": "TASKBOT_DB",
    "http": "TASKBOT_HTTP",
    "clock": "TASKBOT_CLOCK",
    "public_url": "TASKBOT_PUBLIC_URL",
    "webhook_url": "TASKBOT_WEBHOOK_URL",
}


class ConfigError(ValueError):
    """A setting has a bad value; the message names the setting and the fix."""


@dataclass
class Config:
    registry: str = "tasks.yaml"
    units: str = "data/units.yaml"
    db: str = DEFAULT_DB
    token: str | None = None
    api_url: str = DEFAULT_API_URL
    coordinators: tuple[int, ...] = ()
    http: str = DEFAULT_HTTP
    clock: datetime | None = None
    public_url: str | None = None
    webhook_url: str | None = None  # Telegram pushes updates here instead of being polled
    outbox: str = "data/outbox.jsonl"
    extra: dict = field(default_factory=dict)

    @property
    def http_host_port(self) -> tuple[str, int]:
        return parse_host_port(self.http)

    @property
    def base_url(self) -> str:
        """Public base of feed URLs; defaults to the bound address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host, port = self.http_host_port
        return f"http://{host}:{port}"

    def redacted(self) -> dict:
        """Settings safe to log: the token is never shown."""
        return {"registry": self.registry, "units": self.units, "db": _redact_url(self.db),
                "token": "set" if self.token else "not set", "api_url": self.api_url,
                "coordinators": list(self.coordinators), "http": self.http,
                "clock": self.clock.isoformat() if self.clock else None}


def _redact_url(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def parse_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"TASKBOT_HTTP must be host:port, got {value!r}; e.g. 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def parse_webhook_url(value: str | None) -> str | None:
    from urllib.parse import urlsplit

    parts = urlsplit(value) if value else None
    if parts is not None and (parts.scheme not in ("https", "http") or not parts.hostname):
        raise ConfigError(f"TASKBOT_WEBHOOK_URL must be an https:// URL, got {value!r}; "
                          "e.g. https://bot.example.org/telegram")
    return value


def parse_coordinators(value: str) -> tuple[int, ...]:
    out = []
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(f"TASKBOT_COORDINATORS must be comma-separated Telegram user ids, got {part!r}")
        out.append(int(part))
    return tuple(out)


def parse_clock(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None:
        raise ConfigError(f"--clock must be an ISO 8601 instant with offset, got {value!r}; "
                          "e.g. 2018-08-24T08:59:00+08:00")
    return dt


def from_env(env=None, **flags) -> Config:
    """Build the configuration: flags win over environment variables, which win over defaults."""
    env = os.environ if env is None else env
    values = {k: env.get(v) for k, v in ENV.items()}
    values.update({k: v for k, v in flags.items() if v is not None})
    cfg = Config()
    for key in ("registry", "units", "outbox"):
        if values.get(key):
            setattr(cfg, key, values[key])
    cfg.db = values.get("db") or DEFAULT_DB
    cfg.token = values.get("token") or None
    cfg.api_url = values.get("api_url") or DEFAULT_API_URL
    cfg.http = values.get("http") or DEFAULT_HTTP
    parse_host_port(cfg.http)
    cfg.public_url = values.get("public_url") or None
    cfg.webhook_url = parse_webhook_url(values.get("webhook_url") or None)
    coords = values.get("coordinators")
    cfg.coordinators = parse_coordinators(coords) if isinstance(coords, str) else tuple(coords or ())
    clock = values.get("clock")
    cfg.clock = parse_clock(clock) if isinstance(clock, str) else clock
    return cfg

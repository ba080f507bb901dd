"""Run-time configuration, one for every command: `taskbot.toml` < environment variables < flags.

The project root is found as git finds its repository: the current directory or the nearest parent
holding `taskbot.toml` or `tasks.yaml`. Relative paths in `taskbot.toml` and in environment variables
are relative to that root; on the command line, relative to the current directory. The Telegram token
is never written in the file: `token_env` names the environment variable that holds it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime

from .dburl import redact_url
from .i18n import cli_tr

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
    "registry": "TASKBOT_REGISTRY",
    "units": "TASKBOT_UNITS",
    "outbox": "TASKBOT_OUTBOX",
    "webhook_url": "TASKBOT_WEBHOOK_URL",
}
CONFIG_FILE = "taskbot.toml"
ROOT_MARKERS = (CONFIG_FILE, "tasks.yaml")
PATHS = ("registry", "units", "outbox")  # settings holding a file path (and `db` when not a URL)
# every key `taskbot.toml` may hold (the token itself never: `token_env` names its variable)
FILE_KEYS = ("registry", "units", "db", "http", "public_url", "api_url", "token_env", "coordinators", "clock",
             "outbox", "webhook_url")


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
    root: str | None = None  # the project root (None: built in code, not by `load`)
    file: str | None = None  # the taskbot.toml read, if any
    origins: dict = field(default_factory=dict)  # setting -> where its value came from
    token_env: str = ENV["token"]

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
        return {"registry": self.registry, "units": self.units, "db": redact_url(self.db),
                "token": mask_token(self.token), "api_url": self.api_url,
                "coordinators": list(self.coordinators), "http": self.http,
                "clock": self.clock.isoformat() if self.clock else None, "webhook_url": self.webhook_url}


def mask_token(token: str | None) -> str:
    """A bot token shown safely: only the bot id before the colon (`123456:***`)."""
    if not token:
        return "not set"
    bot_id, sep, _ = str(token).partition(":")
    return f"{bot_id}:***" if sep and bot_id.isdigit() else "***"


def parse_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(cli_tr("TASKBOT_HTTP must be host:port, got {value}; e.g. 127.0.0.1:8080", value=repr(value)))
    return host.strip("[]") or "127.0.0.1", int(port)


def parse_url(value: str, flag: str, env: str, example: str) -> str:
    """An http(s) URL with a host, or ConfigError naming the setting and an example."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip())
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 (parsing the port raises ValueError when it is out of range)
    except ValueError:  # a bad port or bracket
        ok = False
    if not ok:
        raise ConfigError(cli_tr("{flag} ({env}) must be an http:// or https:// URL such as {example}, got {value}",
                                 flag=flag, env=env, example=example, value=repr(value)))
    return value.strip()


def parse_webhook_url(value: str | None) -> str | None:
    """The public URL Telegram posts updates to, or None for polling."""
    return parse_url(value, "--webhook-url", ENV["webhook_url"], "https://bot.example.org/telegram") if value else None


def parse_coordinators(value: str) -> tuple[int, ...]:
    out = []
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(cli_tr("TASKBOT_COORDINATORS must be comma-separated Telegram user ids, got {value}",
                                     value=repr(part)))
        out.append(int(part))
    return tuple(out)


def parse_clock(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None:
        raise ConfigError(cli_tr("--clock must be an ISO 8601 instant with offset, got {value}; "
                                 "e.g. 2018-08-24T08:59:00+08:00", value=repr(value)))
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
    if cfg.public_url:
        parse_url(cfg.public_url, "--public-url", ENV["public_url"], "https://duban.example.cn")
    if values.get("api_url"):
        parse_url(cfg.api_url, "--api-url", ENV["api_url"], DEFAULT_API_URL)
    cfg.webhook_url = parse_webhook_url(values.get("webhook_url") or None)
    coords = values.get("coordinators")
    cfg.coordinators = parse_coordinators(coords) if isinstance(coords, str) else tuple(coords or ())
    clock = values.get("clock")
    cfg.clock = parse_clock(clock) if isinstance(clock, str) else clock
    return cfg


# --- one configuration for every command: file < environment < flags -------------------------------------

def find_root(cwd: str | None = None) -> str | None:
    """The project root: `cwd` or its nearest parent holding taskbot.toml or tasks.yaml (None if none)."""
    here = os.path.abspath(cwd or os.getcwd())
    while True:
        if any(os.path.isfile(os.path.join(here, m)) for m in ROOT_MARKERS):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def read_file(path: str) -> dict:
    """The settings of a taskbot.toml; ConfigError names the file, the bad key or value and the fix."""
    from .diagnostics import did_you_mean

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(cli_tr("{path}: {error}; see docs/operations.md for the format", path=path,
                                 error=exc)) from None
    except (OSError, UnicodeError) as exc:
        raise ConfigError(cli_tr("{path}: cannot read the file: {reason}", path=path,
                                 reason=getattr(exc, "strerror", None) or exc)) from None
    out = {}
    for key, value in data.items():
        if key == "token":
            raise ConfigError(cli_tr("{path}: do not write the Telegram token in the file; put it in an environment "
                                     "variable and name it: token_env = \"{var}\"", path=path, var=ENV["token"]))
        if key not in FILE_KEYS:
            raise ConfigError(cli_tr("{path}: unknown setting {key}{hint}; settings: {keys}", path=path, key=repr(key),
                                     hint=did_you_mean(key, FILE_KEYS), keys=", ".join(FILE_KEYS)))
        if key == "coordinators":
            if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                value = ",".join(str(v) for v in value)
            elif not isinstance(value, str):
                raise ConfigError(cli_tr("{path}: coordinators must be a list of Telegram user ids, e.g. "
                                         "coordinators = [123456789], got {value}", path=path, value=repr(value)))
        elif key == "clock" and isinstance(value, datetime):
            value = value.isoformat()
        elif not isinstance(value, str):
            raise ConfigError(cli_tr("{path}: {key} must be a string in quotes, got {value}", path=path, key=key,
                                     value=repr(value)))
        out[key] = value
    return out


def _resolve(value: str, base: str, cwd: str) -> str:
    """A path made absolute against `base`, shown relative to `cwd` when it lies under it."""
    full = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    rel = os.path.relpath(full, cwd)
    return full if rel == ".." or rel.startswith(".." + os.sep) else rel


def load(flags: dict | None = None, env=None, cwd: str | None = None) -> Config:
    """The configuration every command uses: defaults < taskbot.toml < environment < flags."""
    env = os.environ if env is None else env
    cwd = os.path.abspath(cwd or os.getcwd())
    found = find_root(cwd)
    root = found or cwd
    file_path = os.path.join(root, CONFIG_FILE)
    values: dict = {}
    origins: dict = {}
    bases: dict = {}
    file_values = read_file(file_path) if os.path.isfile(file_path) else {}
    token_env = file_values.pop("token_env", None) or ENV["token"]
    for key, value in file_values.items():
        values[key], origins[key], bases[key] = value, CONFIG_FILE, root
    for key, var in ENV.items():
        var = token_env if key == "token" else var
        if env.get(var):
            values[key], origins[key], bases[key] = env[var], f"env {var}", root
    for key, value in (flags or {}).items():
        if value is not None and value != ():
            values[key], origins[key], bases[key] = value, "--" + key.replace("_", "-"), cwd
    for key in PATHS:
        if key in values:
            values[key] = _resolve(values[key], bases[key], cwd)
    for key, default in (("registry", Config.registry), ("units", Config.units), ("outbox", Config.outbox)):
        if key not in values:
            values[key] = _resolve(default, root, cwd)
    db = values.get("db") or DEFAULT_DB
    if "://" not in db and db != ":memory:":
        values["db"] = _resolve(db, bases.get("db", root), cwd)
    try:
        cfg = from_env({}, **values)
    except ConfigError as exc:
        raise ConfigError(_with_origin(str(exc), origins)) from None
    cfg.root, cfg.file = found, file_path if file_values or os.path.isfile(file_path) else None
    cfg.origins, cfg.token_env = origins, token_env
    return cfg


def _with_origin(message: str, origins: dict) -> str:
    """Name where a bad value came from (the message names the setting by its environment variable)."""
    for key, var in ENV.items():
        if var in message or f"--{key.replace('_', '-')}" in message:
            where = origins.get(key)
            if where and where.startswith(CONFIG_FILE):
                return message + cli_tr(" (from {file}: {key})", file=CONFIG_FILE, key=key)
    return message


def describe(cfg: Config) -> list[tuple[str, str, str]]:
    """(setting, value, origin) rows for `taskbot config`; secrets masked."""
    o = cfg.origins
    rows = [
        ("registry", cfg.registry, o.get("registry", "default")),
        ("units", cfg.units, o.get("units", "default")),
        ("db", redact_url(cfg.db), o.get("db", "default")),
        ("http", cfg.http, o.get("http", "default")),
        ("public_url", cfg.public_url or f"(none: {cfg.base_url})", o.get("public_url", "default")),
        ("token", mask_token(cfg.token), o.get("token", f"env {cfg.token_env} (not set)")),
        ("api_url", cfg.api_url, o.get("api_url", "default")),
        ("coordinators", ",".join(map(str, cfg.coordinators)) or "(none)", o.get("coordinators", "default")),
        ("clock", cfg.clock.isoformat() if cfg.clock else "(real time)", o.get("clock", "default")),
        ("outbox", cfg.outbox, o.get("outbox", "default")),
        ("webhook_url", cfg.webhook_url or "(none: long polling)", o.get("webhook_url", "default")),
    ]
    return rows

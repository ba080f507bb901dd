"""What each `taskbot` command does: parse its arguments, call the library once, print."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import date, datetime, timedelta

from .config import ConfigError, describe, load

SETTING_FLAGS = ("registry", "units", "db", "token", "api_url", "coordinators", "http", "public_url", "clock",
                 "outbox")


def _err(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _print_diagnostics(diagnostics) -> None:
    for d in diagnostics:
        print(d, file=sys.stderr)


def _config(args):
    """The one configuration (taskbot.toml < environment < this command's flags), read once per command."""
    cfg = getattr(args, "_config", None)
    if cfg is None:
        cfg = load({k: getattr(args, k, None) for k in SETTING_FLAGS})
        args._config = cfg
    return cfg


def _no_registry(cfg) -> str | None:
    """Where a missing default registry was looked for, or None when there is one (or it was named)."""
    if cfg.root is not None or "registry" in cfg.origins or os.path.exists(cfg.registry):
        return None
    return (f"no tasks.yaml in {os.getcwd()} or any parent directory (the project root is the nearest one with "
            "taskbot.toml or tasks.yaml); run taskbot inside the project, or pass --registry PATH")


def _load(args, *, show_warnings: bool = False):
    """The registry, or None after printing why not. Warnings are `taskbot check`'s: others print their count."""
    from .registry import check_files

    cfg = _config(args)
    missing = _no_registry(cfg)
    if missing:
        print(f"{getattr(args, 'command', 'taskbot')}: {missing}", file=sys.stderr)
        return None
    registry, diagnostics = check_files(cfg.registry, cfg.units)
    if show_warnings:
        _print_diagnostics(diagnostics)
    else:
        errors = [d for d in diagnostics if d.severity == "error"]
        _print_diagnostics(errors)
        if len(diagnostics) > len(errors):
            print(warning_count(len(diagnostics) - len(errors)), file=sys.stderr)
    return registry


def warning_count(n: int) -> str:
    return f"{n} warning{'s' if n != 1 else ''}: run taskbot check"


MAX_LISTED = 12  # members named in a message about a group


def _group_of(units, group: str, verb: str) -> str:
    """A group where one unit is needed: its members (or that it has none yet)."""
    members = units.expand(group)
    if not members:
        return (f"{group} is a group with no members yet; list its members in the unit directory, or {verb} "
                "one unit")
    shown = "、".join(members[:MAX_LISTED]) + ("、…" if len(members) > MAX_LISTED else "")
    return f"{group} is a group of {len(members)} units; {verb} one of them: {shown}"


def cmd_check(args) -> int:
    """Validate the registry and the unit directory."""
    registry = _load(args, show_warnings=True)
    if registry is None:
        return 1
    print(registry.summary())
    return 0


def cmd_import(args) -> int:
    """Draft a registry from policy text."""
    from .importer import cli_import

    return cli_import(args.text, args.output, args.units)


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} must be a date YYYY-MM-DD, got {value!r}") from None


def cmd_simulate(args) -> int:
    """Print every delivery the planner would make in a period."""
    from .planning import simulate

    try:
        start, end = _day(args.start, "--from"), _day(args.end, "--to")
    except ConfigError as exc:
        return _err(f"simulate: {exc}")
    if end < start:
        return _err(f"simulate: --to {end} is before --from {start}")
    registry = _load(args)
    if registry is None:
        return 1
    unit = None
    if args.unit is not None and not args.unit.strip():
        return _err("simulate: --unit is empty; name a unit or a group (any spelling), or leave --unit out for all")
    if args.unit is not None:
        unit = registry.units.resolve(args.unit)
        if unit is None:
            return _err(f"simulate: {registry.units.unknown_message(args.unit)}")
    if unit is not None and registry.units.is_group(unit):  # a group: what its members are sent
        members = set(registry.units.expand(unit))
        if not members:
            return _err(f"simulate: {_group_of(registry.units, unit, 'simulate')}")
        rows = [row for row in simulate(registry, start, end) if row["unit"] in members]
    else:
        rows = simulate(registry, start, end, unit=unit)
    for row in rows:
        if args.format == "jsonl":
            print(json.dumps(row, ensure_ascii=False))
        else:
            due = f"due {row['due']}" if row["due"] else "no due date"
            print(f"{row['at']}  {row['unit']}  {row['task']:<10} {row['kind']:<11} {due:<14}  {row['role']}")
    if args.format == "text":
        print(f"{len(rows)} deliveries from {start} to {end}", file=sys.stderr)
    return 0


def _store(args):
    """The store of the configured database, and the configuration."""
    from .store import Store

    cfg = _config(args)
    return Store.open(cfg.db, create=False, check=True), cfg  # only `run` and `init` create a database


def _now(cfg) -> datetime:
    from .clock import Clock

    return Clock(cfg.clock).now()


def cmd_reload(args) -> int:
    """Validate and signal the running bot."""
    registry = _load(args)
    if registry is None:
        return _err("reload: the registry is invalid; the running bot keeps the previous one")
    try:
        with open(args.pidfile) as fh:
            pid = int(fh.read().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        return _err(f"reload: no running bot found through {args.pidfile} ({exc.__class__.__name__}); "
                    "start it with `python bot.py`")
    print(f"reload: signalled pid {pid}; {registry.summary()}")
    return 0


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m` into a timedelta; ValueError quotes the bad value."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise ValueError(f"expires must be a positive number with d, h or m, got: {text!r}")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def cmd_invite(args) -> int:
    """Create an invite code for a unit."""
    registry = _load(args)
    if registry is None:
        return 1
    unit = registry.units.resolve(args.unit)
    if unit is None:
        return _err(f"invite: {registry.units.unknown_message(args.unit)}")
    if registry.units.is_group(unit):
        return _err(f"invite: {_group_of(registry.units, unit, 'invite')}")
    try:
        lifetime = parse_duration(args.expires)
    except ValueError as exc:
        return _err(f"invite: {exc}")
    if args.uses < 1:
        return _err(f"invite: --uses must be positive, got: {args.uses}")
    store, cfg = _store(args)
    now = _now(cfg)
    invite = store.create_invite(unit, uses=args.uses, expires_at=now + lifetime, created_by="cli", now=now)
    tz = registry.settings.tz
    print(f"invite for {unit}: {args.uses} use(s), expires {invite.expires_at.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})")
    print(f"liaisons send: /join {invite.code}")
    print(invite.code)
    return 0


def cmd_feed_url(args) -> int:
    """Create a calendar feed URL."""
    registry = _load(args)
    if registry is None:
        return 1
    if args.unit:
        value = registry.units.resolve(args.unit)
        if value is None:
            return _err(f"feed-url: {registry.units.unknown_message(args.unit)}")
        scope = "unit"
    elif args.doc:
        from .diagnostics import did_you_mean, normalize_name

        value = next((n for n in registry.documents if normalize_name(n) == normalize_name(args.doc)), None)
        if value is None:
            return _err(f"feed-url: unknown document {args.doc!r}{did_you_mean(args.doc, list(registry.documents))}")
        scope = "doc"
    else:
        scope, value = "all", ""
    store, cfg = _store(args)
    token = store.create_feed_token(scope, value, now=_now(cfg))
    url = f"{cfg.base_url}/feeds/{token}.ics"
    print(f"feed for {scope}{' ' + value if value else ''}; subscribe with webcal://{url.split('://', 1)[1]}")
    print(url)
    return 0


def cmd_feed_revoke(args) -> int:
    """Revoke a feed token."""
    token = args.token.rstrip("/").rsplit("/", 1)[-1].removesuffix(".ics")
    store, cfg = _store(args)
    if not store.revoke_feed_token(token, now=_now(cfg)):
        return _err(f"feed-revoke: no active feed token {token!r}")
    print(f"revoked {token}")
    return 0


def cmd_run(args) -> int:
    """Run bot, scheduler and feed server in one asyncio loop."""
    from .app import run

    try:
        cfg = _config(args)
    except ConfigError as exc:
        return _err(f"run: {exc}")
    missing = _no_registry(cfg)
    if missing:
        return _err(f"run: {missing}")
    return run(cfg)


def cmd_init(args) -> int:
    """Create the configured database (what `taskbot run` does at its first start)."""
    from .dbcheck import sqlite_path
    from .store import Store

    cfg = _config(args)
    path = sqlite_path(cfg.db)
    existed = path is None or os.path.exists(path)
    store = Store.open(cfg.db, create=True, check=True)
    version = store.schema_version()
    store.close()
    shown = path or cfg.redacted()["db"]
    print(f"init: {'the database ' + shown + ' already exists' if existed else 'created ' + shown}; "
          f"schema version {version}")
    return 0


def cmd_backup(args) -> int:
    """Copy the SQLite database while the bot runs (online backup API)."""
    from .backup import backup

    cfg = _config(args)
    info = backup(cfg.db, args.file, force=args.force)
    print(f"backup: {info['source']} -> {info['dest']} ({info['pages']} pages, {info['bytes']} bytes); "
          f"quick_check {'; '.join(info['quick_check'])}")
    return 0 if info["quick_check"] == ["ok"] else 1


def cmd_config(args) -> int:
    """Show every setting, its value and its origin (secrets masked)."""
    cfg = _config(args)
    print(f"project root: {cfg.root or '(none found: no taskbot.toml or tasks.yaml here or above)'}")
    print(f"config file: {cfg.file or '(none; write taskbot.toml at the project root to keep settings)'}")
    rows = describe(cfg)
    width = max(len(name) for name, _, _ in rows)
    for name, value, origin in rows:
        print(f"{name:<{width}}  {value}  [{origin}]")
    return 0


__all__ = ["cmd_check", "cmd_import", "cmd_simulate", "cmd_reload", "cmd_invite", "cmd_feed_url",
           "cmd_feed_revoke", "cmd_run", "cmd_config", "cmd_init", "cmd_backup", "parse_duration"]

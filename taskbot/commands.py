"""What each `taskbot` command does: parse its arguments, call the library once, print."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import date, datetime, timedelta

from .config import ConfigError, from_env


def _err(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _print_diagnostics(diagnostics) -> None:
    for d in diagnostics:
        print(d, file=sys.stderr)


def _load(args):
    """The registry, or None after printing why not."""
    from .registry import check_files

    registry, diagnostics = check_files(args.registry, args.units)
    _print_diagnostics(diagnostics)
    return registry


def cmd_check(args) -> int:
    """Validate the registry and the unit directory."""
    registry = _load(args)
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
    if args.unit:
        unit = registry.units.resolve(args.unit)
        if unit is None or registry.units.is_group(unit):
            return _err(f"simulate: {registry.units.unknown_message(args.unit)}")
    rows = simulate(registry, start, end, unit=unit)
    for row in rows:
        if args.format == "jsonl":
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(f"{row['at']}  {row['unit']}  {row['task']:<10} {row['kind']:<11} due {row['due']}  {row['role']}")
    if args.format == "text":
        print(f"{len(rows)} deliveries from {start} to {end}", file=sys.stderr)
    return 0


def _store(args):
    from .store import Store

    cfg = from_env(db=args.db)
    return Store.open(cfg.db), cfg


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
    if unit is None or registry.units.is_group(unit):
        return _err(f"invite: {registry.units.unknown_message(args.unit)}")
    try:
        lifetime = parse_duration(args.expires)
    except ValueError as exc:
        return _err(f"invite: {exc}")
    if args.uses < 1:
        return _err(f"invite: --uses must be positive, got: {args.uses}")
    store, cfg = _store(args)
    now = _now(cfg)
    invite = store.create_invite(unit, uses=args.uses, expires_at=now + lifetime, created_by="cli", now=now)
    print(f"invite for {unit}: {args.uses} use(s), expires {invite.expires_at.isoformat()}")
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
    if args.public_url:
        cfg.public_url = args.public_url
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
        cfg = from_env(registry=args.registry, units=args.units, db=args.db, token=args.token,
                       api_url=args.api_url, coordinators=args.coordinators, http=args.http,
                       clock=args.clock, public_url=args.public_url, outbox=args.outbox)
    except ConfigError as exc:
        return _err(f"run: {exc}")
    return run(cfg)


from .board.commands import cmd_board_revoke, cmd_board_url, cmd_done, cmd_report, cmd_undo  # noqa: E402,F401

__all__ = ["cmd_check", "cmd_import", "cmd_simulate", "cmd_reload", "cmd_invite", "cmd_feed_url",
           "cmd_feed_revoke", "cmd_run", "parse_duration",
           "cmd_board_url", "cmd_board_revoke", "cmd_report", "cmd_done", "cmd_undo"]

"""What each `taskbot` command does: parse its arguments, call the library once, print."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import date, datetime

from .config import ConfigError, describe, load
from .dburl import redact_url
from .i18n import cli_tr
from .invites import MAX_USES, DurationError, parse_duration  # noqa: F401 (parse_duration: the CLI's API)

SETTING_FLAGS = ("registry", "units", "db", "token", "api_url", "coordinators", "http", "public_url", "clock",
                 "outbox", "webhook_url")


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
    return cli_tr("no tasks.yaml in {dir} or any parent directory (the project root is the nearest one with "
                  "taskbot.toml or tasks.yaml); run taskbot inside the project, or pass --registry PATH", dir=os.getcwd())


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
    return cli_tr("{n} warning: run taskbot check", n=n) if n == 1 else cli_tr("{n} warnings: run taskbot check", n=n)


MAX_LISTED = 12  # members named in a message about a group


def _group_of(units, group: str, verb: str) -> str:
    """A group where one unit is needed: its members (or that it has none yet)."""
    members = units.expand(group)
    verb = {"invite": cli_tr("invite"), "simulate": cli_tr("simulate")}.get(verb, verb)
    if not members:
        return cli_tr("{group} is a group with no members yet; list its members in the unit directory, or {verb} "
                      "one unit", group=group, verb=verb)
    shown = "、".join(members[:MAX_LISTED]) + ("、…" if len(members) > MAX_LISTED else "")
    return cli_tr("{group} is a group of {n} units; {verb} one of them: {members}", group=group, n=len(members),
                  verb=verb, members=shown)


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
        raise ConfigError(cli_tr("{flag} must be a date YYYY-MM-DD, got {value}", flag=flag, value=repr(value))) from None


def cmd_simulate(args) -> int:
    """Print every delivery the planner would make in a period."""
    from .planning import simulate

    try:
        start, end = _day(args.start, "--from"), _day(args.end, "--to")
    except ConfigError as exc:
        return _err(f"simulate: {exc}")
    if end < start:
        return _err("simulate: " + cli_tr("--to {end} is before --from {start}", end=end, start=start))
    registry = _load(args)
    if registry is None:
        return 1
    unit = None
    if args.unit is not None and not args.unit.strip():
        return _err("simulate: " + cli_tr("--unit is empty; name a unit or a group (any spelling), or leave --unit "
                                          "out for all"))
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
            due = cli_tr("due {date}", date=row["due"]) if row["due"] else cli_tr("no due date")
            print(f"{row['at']}  {row['unit']}  {row['task']:<10} {row['kind']:<11} {due:<14}  {row['role']}")
    if args.format == "text":
        print(cli_tr("{n} deliveries from {start} to {end}", n=len(rows), start=start, end=end), file=sys.stderr)
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
    """Validate and signal the running bot(s) of this database: only a pid whose pid file is locked."""
    from .instance import StalePidFile, pidfiles_for, running_pid

    registry = _load(args)
    if registry is None:
        return _err("reload: the registry is invalid; the running bot keeps the previous one")
    cfg = _config(args)  # the pid files of this configuration, found from any directory
    paths = [args.pidfile] if args.pidfile else pidfiles_for(cfg.db, root=cfg.root)
    pids, problems = [], []
    for path in paths:
        try:
            pid = running_pid(path)
            os.kill(pid, signal.SIGHUP)
            pids.append(pid)
        except StalePidFile as exc:
            problems.append(f"reload: {exc}")
        except (OSError, ValueError) as exc:
            problems.append(f"reload: no running bot found through {path} ({exc.__class__.__name__})")
    if not paths:
        problems.append(f"reload: no running bot found for {redact_url(cfg.db)} (no pid file)")
    if not pids:
        for line in problems[:-1]:
            print(line, file=sys.stderr)
        return _err((problems[-1] if problems else "reload: no running bot found") + "; start it with `python bot.py`")
    print(f"reload: signalled pid{'s' if len(pids) > 1 else ''} {', '.join(map(str, pids))}; {registry.summary()}")
    return 0


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
    except DurationError as exc:
        return _err("invite: " + cli_tr(exc.msgid, **exc.values))
    if args.uses < 1:
        return _err("invite: " + cli_tr("--uses must be positive, got: {uses}", uses=args.uses))
    if args.uses > MAX_USES:
        return _err("invite: " + cli_tr("--uses must be at most {limit}, got: {uses}", limit=MAX_USES,
                                        uses=str(args.uses)[:40]))
    store, cfg = _store(args)
    now = _now(cfg)
    invite = store.create_invite(unit, uses=args.uses, expires_at=now + lifetime, created_by="cli", now=now)
    tz = registry.settings.tz
    print(cli_tr("invite for {unit}: {uses} use(s), expires {when} ({tz})", unit=unit, uses=args.uses,
                 when=f"{invite.expires_at.astimezone(tz):%Y-%m-%d %H:%M}", tz=tz.key))
    print(cli_tr("liaisons send: /join {code}", code=invite.code))
    print(invite.code)
    return 0


def url_scope(args, registry, command: str) -> tuple[str, str] | None:
    """(scope, value) of `--all | --unit U | --doc N` (feed-url, board-url); None after saying what is unknown."""
    if args.unit:
        value = registry.units.resolve(args.unit)
        if value is None:
            _err(f"{command}: {registry.units.unknown_message(args.unit)}")
            return None
        return "unit", value
    if args.doc:
        from .diagnostics import did_you_mean

        value = registry.document(args.doc)
        if value is None:
            _err(f"{command}: " + cli_tr("unknown document {doc}", doc=repr(args.doc))
                 + did_you_mean(args.doc, list(registry.documents)))
            return None
        return "doc", value
    return "all", ""


def cmd_feed_url(args) -> int:
    """Create a calendar feed URL."""
    registry = _load(args)
    if registry is None:
        return 1
    chosen = url_scope(args, registry, "feed-url")
    if chosen is None:
        return 1
    scope, value = chosen
    store, cfg = _store(args)
    token = store.create_feed_token(scope, value, now=_now(cfg))
    url = f"{cfg.base_url}/feeds/{token}.ics"
    print(cli_tr("feed for {scope}; subscribe with {url}", scope=scope + (" " + value if value else ""),
                 url="webcal://" + url.split("://", 1)[1]))
    print(url)
    return 0


def cmd_feed_revoke(args) -> int:
    """Revoke a feed token."""
    token = args.token.rstrip("/").rsplit("/", 1)[-1].removesuffix(".ics")
    store, cfg = _store(args)
    if not store.revoke_feed_token(token, now=_now(cfg)):
        return _err("feed-revoke: " + cli_tr("no active feed token {token}", token=repr(token)))
    print(cli_tr("revoked {token}", token=token))
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
    from .dburl import sqlite_path
    from .store import Store

    cfg = _config(args)
    path = sqlite_path(cfg.db)
    existed = path is None or os.path.exists(path)
    store = Store.open(cfg.db, create=True, check=True)
    version = store.schema_version()
    store.close()
    shown = path or cfg.redacted()["db"]
    done = cli_tr("the database {path} already exists", path=shown) if existed else cli_tr("created {path}", path=shown)
    print("init: " + done + "; " + cli_tr("schema version {n}", n=version))
    return 0


def cmd_backup(args) -> int:
    """Copy the SQLite database while the bot runs (online backup API)."""
    from .backup import backup

    cfg = _config(args)
    info = backup(cfg.db, args.file, force=args.force)
    print("backup: " + cli_tr("{source} -> {dest} ({pages} pages, {size} bytes); quick_check {check}",
                              source=info["source"], dest=info["dest"], pages=info["pages"], size=info["bytes"],
                              check="; ".join(info["quick_check"])))
    return 0 if info["quick_check"] == ["ok"] else 1


def cmd_config(args) -> int:
    """Show every setting, its value and its origin (secrets masked)."""
    cfg = _config(args)
    print(cli_tr("project root: {path}", path=cfg.root or cli_tr(
        "(none found: no taskbot.toml or tasks.yaml here or above)")))
    print(cli_tr("config file: {path}", path=cfg.file or cli_tr(
        "(none; write taskbot.toml at the project root to keep settings)")))
    rows = describe(cfg)
    width = max(len(name) for name, _, _ in rows)
    for name, value, origin in rows:
        print(f"{name:<{width}}  {value}  [{origin}]")
    return 0


__all__ = ["cmd_check", "cmd_import", "cmd_simulate", "cmd_reload", "cmd_invite", "cmd_feed_url",
           "cmd_feed_revoke", "cmd_run", "cmd_config", "cmd_init", "cmd_backup", "parse_duration"]

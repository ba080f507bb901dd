"""The `taskbot` command: a thin shell that parses arguments, calls the library once, prints."""

from __future__ import annotations

import argparse
import sys

from . import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (one-line help, description)
    "run": ("run the bot, the reminder scheduler and the feed server",
            "Run everything in one process. Without TASKBOT_TELEGRAM_TOKEN reminders go to the console "
            "and to data/outbox.jsonl instead of Telegram."),
    "check": ("validate tasks.yaml and the unit directory",
              "Load the registry and the unit directory, print every problem as PATH:LINE:COL: error: MESSAGE "
              "and exit 1 if there was an error."),
    "import": ("draft a registry from gazette-style policy text",
               "Read Chinese policy documents (UTF-8, GB18030 or Big5 text; traditional characters are converted) "
               "and write a registry draft in the tasks.yaml format, with source_line on every task; exit 1 "
               "when no assigned item was found."),
    "simulate": ("preview every reminder the planner would send in a period",
                 "Run the planner over a period against the current registry, as if every unit had one "
                 "liaison, and print every delivery."),
    "reload": ("make a running bot re-read tasks.yaml",
               "Validate the registry and signal the running bot (SIGHUP) to sync it; an invalid registry is "
               "rejected and the running one keeps serving."),
    "invite": ("create an invite code for a unit's liaison",
               "Create an invite code for UNIT; a liaison joins with /join CODE. The code is the last line."),
    "feed-url": ("create a calendar feed URL",
                 "Create an unguessable calendar feed URL for all items, one unit or one document; the URL is "
                 "the last line."),
    "feed-revoke": ("revoke a calendar feed URL", "Revoke a feed token: its URL answers 404 from now on."),
    "init": ("create the database",
             "Create the configured database and its tables (taskbot run does the same at its first start); the "
             "other commands refuse a database that does not exist."),
    "backup": ("copy the database, also while the bot runs",
               "Copy the SQLite database into FILE with SQLite's online backup API: a consistent snapshot, safe "
               "while the bot runs. Restore: stop the bot, put the copy in place of the database, start it."),
    "config": ("show the configuration every command uses",
               "Print every setting, its value and where it came from (taskbot.toml at the project root, an "
               "environment variable, a flag or the default); secrets are masked."),
    "board-url": ("create a supervision board URL",
                  "Create an unguessable URL of the supervision board (web pages and exports) for all items, one "
                  "unit or one document; the URL is the last line."),
    "board-revoke": ("revoke a supervision board URL", "Revoke a board token: its pages answer 404 from now on."),
    "report": ("write the weekly supervision report (督查通报)",
               "Write the weekly report as of a date: summary figures, newly overdue, done this week, units ranked "
               "by overdue items, items with no progress for 30 days; as Excel (.xlsx) or printable HTML (.html)."),
    "done": ("mark an item done (audited as the OS user)",
             "Mark an item done from the shell, as a coordinator would in Telegram; the audit log names the OS user."),
    "undo": ("open a done item again (audited as the OS user)",
             "Open a done item again from the shell; the audit log names the OS user."),
}


def _common(p: argparse.ArgumentParser, db: bool = True) -> None:
    p.add_argument("--registry", default=None, help="the registry file (env TASKBOT_REGISTRY; default: tasks.yaml "
                   "at the project root)")
    p.add_argument("--units", default=None, help="the unit directory (env TASKBOT_UNITS; default: data/units.yaml "
                   "at the project root)")
    if db:
        p.add_argument("--db", default=None, help="database: a SQLite path or a postgresql:// URL "
                       "(env TASKBOT_DB; default data/taskbot.sqlite3)")


def _settings(p: argparse.ArgumentParser) -> None:
    """The settings of `taskbot run` (each also in taskbot.toml and an environment variable)."""
    _common(p)
    p.add_argument("--token", help="Telegram bot token (env TASKBOT_TELEGRAM_TOKEN)")
    p.add_argument("--api-url", help="Bot API base URL (env TASKBOT_TELEGRAM_API_URL)")
    p.add_argument("--coordinators", help="comma-separated Telegram user ids (env TASKBOT_COORDINATORS)")
    p.add_argument("--http", help="host:port of the feed server (env TASKBOT_HTTP; default 127.0.0.1:8080)")
    p.add_argument("--public-url", help="public base URL of the feed server (env TASKBOT_PUBLIC_URL)")
    p.add_argument("--clock", help="start the clock at this instant, e.g. 2018-08-24T08:59:00+08:00 (env TASKBOT_CLOCK)")
    p.add_argument("--outbox", help="where console deliveries are appended (env TASKBOT_OUTBOX; default data/outbox.jsonl)")
    p.add_argument("--webhook-url", help="receive updates by webhook at this public URL instead of polling "
                   "(env TASKBOT_WEBHOOK_URL; served on this instance's --http under the URL's path)")


def _scoped(p: argparse.ArgumentParser) -> None:
    """The options of a URL for all items, one unit or one document (feed-url, board-url)."""
    _common(p)
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true", help="every item")
    scope.add_argument("--unit", help="items where this unit is lead, responsible or cooperating (groups resolved)")
    scope.add_argument("--doc", metavar="NUMBER", help="items of one document, e.g. 郑政文〔2018〕143号")
    p.add_argument("--public-url", help="public base URL (env TASKBOT_PUBLIC_URL; default http://TASKBOT_HTTP)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskbot", description="Policy-document tasks, deadlines and reminders.")
    parser.add_argument("--version", action="version", version=f"taskbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", help="what to do; `taskbot COMMAND --help` for its options")

    def add(name: str) -> argparse.ArgumentParser:
        short, desc = COMMANDS[name]
        return sub.add_parser(name, help=short, description=desc)

    p = add("run")
    _settings(p)

    p = add("check")
    _common(p, db=False)

    p = add("import")
    p.add_argument("text", metavar="TEXT", help="the policy text file")
    p.add_argument("-o", "--output", metavar="OUT.yaml", help="write the draft here (default: standard output)")
    p.add_argument("--units", default=None, help="unit directory used to resolve names (e.g. data/units.yaml)")

    p = add("simulate")
    _common(p, db=False)
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help="last day, YYYY-MM-DD")
    p.add_argument("--unit", help="only deliveries to this unit (any spelling)")
    p.add_argument("--format", choices=("text", "jsonl"), default="text", help="output format (default: text)")

    p = add("reload")
    _common(p)
    p.add_argument("--pidfile", default=None, help="pid file of the running bot (default: beside the database, "
                   "data/taskbot.pid for data/taskbot.sqlite3; every instance's for a postgresql:// database)")

    p = add("invite")
    _common(p)
    p.add_argument("unit", metavar="UNIT", help="the unit the liaison will join (any spelling)")
    p.add_argument("--uses", type=int, default=1, help="how many times the code can be used (default 1)")
    p.add_argument("--expires", default="7d", help="lifetime such as 7d, 12h or 30m (default 7d)")

    _scoped(add("feed-url"))

    p = add("feed-revoke")
    _common(p)
    p.add_argument("token", metavar="TOKEN", help="the token (or the whole feed URL)")

    p = add("init")
    _common(p)

    p = add("backup")
    _common(p)
    p.add_argument("file", metavar="FILE", help="where to write the copy (a new file, or a directory)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = add("config")
    _settings(p)
    _scoped(add("board-url"))

    p = add("board-revoke")
    _common(p)
    p.add_argument("token", metavar="TOKEN", help="the token (or the whole board URL)")

    p = add("report")
    _common(p)
    p.add_argument("--date", metavar="DATE", help="report as of this day, YYYY-MM-DD (default: today)")
    p.add_argument("-o", "--output", metavar="FILE", help="FILE.xlsx or FILE.html (default: 督查通报-DATE.xlsx)")

    for name in ("done", "undo"):
        p = add(name)
        _common(p)
        p.add_argument("id", metavar="ID", help="the item's id, e.g. cw-01")
        if name == "done":
            p.add_argument("--note", help="a note kept with the status (at most 500 characters)")
    return parser


VALUE_FLAGS = ("--expires", "--uses", "--from", "--to", "--unit", "--doc")  # values that may start with '-'


def _glue(argv: list[str]) -> list[str]:
    """`--expires -1d` as `--expires=-1d`, so that a bad value gets its own message, not "expected one argument"."""
    out = []
    for arg in argv:
        if out and out[-1] in VALUE_FLAGS and arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices[name]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(_glue(list(sys.argv[1:] if argv is None else argv)))
    if extra:  # the command's own usage, not the top-level one
        (_subparser(parser, args.command) if args.command else parser).error(
            f"unrecognized arguments: {' '.join(extra)}")
    if not args.command:
        parser.print_help()
        return 2
    from . import commands  # the library calls behind each command
    from .board import commands as board_commands  # the board's: board-url, board-revoke, report, done, undo
    from .config import ConfigError
    from .dbcheck import DRIVER_ERRORS, DatabaseProblem, explain

    try:
        name = "cmd_" + args.command.replace("-", "_")
        return (getattr(commands, name, None) or getattr(board_commands, name))(args)
    except (ConfigError, DatabaseProblem) as exc:  # a bad setting or an unusable database: one line
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    except DRIVER_ERRORS as exc:  # the database failed under a command (a damaged page, a lost server)
        cfg = getattr(args, "_config", None)
        print(f"{args.command}: {explain(exc, cfg.db) if cfg else exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

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
               "Read Chinese policy documents (UTF-8 or GB18030 text) and write a registry draft in the "
               "tasks.yaml format, with source_line on every task."),
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
    p.add_argument("--registry", default="tasks.yaml", help="the registry file (default: tasks.yaml)")
    p.add_argument("--units", default="data/units.yaml", help="the unit directory (default: data/units.yaml)")
    if db:
        p.add_argument("--db", default=None, help="database: a SQLite path or a postgresql:// URL "
                       "(env TASKBOT_DB; default data/taskbot.sqlite3)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskbot", description="Policy-document tasks, deadlines and reminders.")
    parser.add_argument("--version", action="version", version=f"taskbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", help="what to do; `taskbot COMMAND --help` for its options")

    def add(name: str) -> argparse.ArgumentParser:
        short, desc = COMMANDS[name]
        return sub.add_parser(name, help=short, description=desc)

    p = add("run")
    _common(p)
    p.add_argument("--token", help="Telegram bot token (env TASKBOT_TELEGRAM_TOKEN)")
    p.add_argument("--api-url", help="Bot API base URL (env TASKBOT_TELEGRAM_API_URL)")
    p.add_argument("--coordinators", help="comma-separated Telegram user ids (env TASKBOT_COORDINATORS)")
    p.add_argument("--http", help="host:port of the feed server (env TASKBOT_HTTP; default 127.0.0.1:8080)")
    p.add_argument("--public-url", help="public base URL of the feed server (env TASKBOT_PUBLIC_URL)")
    p.add_argument("--clock", help="start the clock at this instant, e.g. 2018-08-24T08:59:00+08:00 (env TASKBOT_CLOCK)")
    p.add_argument("--outbox", help="where console deliveries are appended (default data/outbox.jsonl)")

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
    p.add_argument("--pidfile", default="data/taskbot.pid", help="pid file of the running bot")

    p = add("invite")
    _common(p)
    p.add_argument("unit", metavar="UNIT", help="the unit the liaison will join (any spelling)")
    p.add_argument("--uses", type=int, default=1, help="how many times the code can be used (default 1)")
    p.add_argument("--expires", default="7d", help="lifetime such as 7d, 12h or 30m (default 7d)")

    p = add("feed-url")
    _common(p)
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true", help="every item")
    scope.add_argument("--unit", help="items where this unit is lead, responsible or cooperating")
    scope.add_argument("--doc", metavar="NUMBER", help="items of one document, e.g. 郑政文〔2018〕143号")
    p.add_argument("--public-url", help="public base URL (env TASKBOT_PUBLIC_URL; default http://TASKBOT_HTTP)")

    p = add("feed-revoke")
    _common(p)
    p.add_argument("token", metavar="TOKEN", help="the token (or the whole feed URL)")

    p = add("board-url")
    _common(p)
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true", help="every item")
    scope.add_argument("--unit", help="items where this unit is lead, responsible or cooperating (groups resolved)")
    scope.add_argument("--doc", metavar="NUMBER", help="items of one document, e.g. 郑政文〔2018〕143号")
    p.add_argument("--public-url", help="public base URL (env TASKBOT_PUBLIC_URL; default http://TASKBOT_HTTP)")

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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from . import commands  # the library calls behind each command

    try:
        return getattr(commands, "cmd_" + args.command.replace("-", "_"))(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Entry point: `python bot.py` is `taskbot run` (SQLite under data/, no token needed)."""

import sys

from taskbot.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))

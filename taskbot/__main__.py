"""`python -m taskbot` is the `taskbot` command."""

import sys

from taskbot.cli import main

sys.exit(main())

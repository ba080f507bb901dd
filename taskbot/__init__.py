"""taskbot: policy-document tasks, deadlines and reminders for a supervision office."""

__version__ = "0.1.0"

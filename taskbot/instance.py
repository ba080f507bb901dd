"""Which process runs on which database: pid files beside the database, held under an OS lock.

A running taskbot holds an exclusive `flock` on its pid file for its whole life; the kernel drops the
lock when the process dies, however it dies. So:

- SQLite serves one instance: the pid file is the database's name with `.pid` (data/taskbot.sqlite3 ->
  data/taskbot.pid) and a second `taskbot run` on that file finds it locked and refuses, naming the pid;
- with PostgreSQL every instance has its own pid file, data/taskbot-pg-<hash of the URL>-<pid>.pid;
- `taskbot reload` signals a pid only while its file is locked: a stale pid file (a bot killed, a
  start that failed) never gets an unrelated process signalled.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import time
from urllib.parse import urlsplit, urlunsplit

from .dburl import sqlite_path

PG_DIR = "data"  # where the pid files of PostgreSQL instances live (there is no database file to sit beside)


class AlreadyRunning(Exception):
    """Another taskbot holds the database's pid file."""

    def __init__(self, pid: int | None, pidfile: str, db: str):
        self.pid, self.pidfile, self.db = pid, pidfile, db
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"another taskbot ({who}) is already running on {db} (it holds {pidfile}); a SQLite "
                         "database serves one instance: stop that one first, or give this one its own --db "
                         "(use a postgresql:// database to run more than one instance)")


def url_key(db: str) -> str:
    """A short stable name for a database URL (the password is left out, so rotating it keeps the name)."""
    parts = urlsplit(db)
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2:
        netloc = [netloc[0].split(":", 1)[0] + "@" + netloc[1]]
    bare = urlunsplit((parts.scheme.split("+", 1)[0], netloc[0], parts.path, parts.query, ""))
    return hashlib.sha256(bare.encode()).hexdigest()[:10]


def pidfile_for(db: str, pid: int | None = None, root: str | None = None) -> str:
    """The pid file of the instance on `db` (for PostgreSQL: of process `pid`, default this one, under
    the project root's data/)."""
    path = sqlite_path(db)
    if path is not None:
        stem, ext = os.path.splitext(path)
        return stem + ".pid" if ext != ".pid" else path + ".lock"
    return os.path.join(root or "", PG_DIR, f"taskbot-pg-{url_key(db)}-{pid or os.getpid()}.pid")


def pidfiles_for(db: str, root: str | None = None) -> list[str]:
    """Every pid file that may belong to an instance on `db` (one for SQLite; one per instance for PostgreSQL)."""
    if sqlite_path(db) is not None or "://" not in db:
        return [pidfile_for(db)]
    return sorted(glob.glob(os.path.join(root or "", PG_DIR, f"taskbot-pg-{url_key(db)}-*.pid")))


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class InstanceLock:
    """The pid file of this process, exclusively locked until `release()` or the process's end."""

    def __init__(self, path: str, db: str):
        self.path, self.db, self.fd = path, db, None

    def acquire(self) -> "InstanceLock":
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        for attempt in range(50):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                os.close(fd)
                if pid is None and attempt < 20:  # the holder may be a `reload` looking, or a bot still writing
                    time.sleep(0.05)
                    continue
                raise AlreadyRunning(pid, self.path, self.db) from None
            # the instance that held it may have removed the file just before we locked it: lock the file
            # that is at the path now, or two instances could each hold a different one
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return self
            os.close(fd)
        raise AlreadyRunning(None, self.path, self.db)

    def release(self) -> None:
        """Remove the pid file (still ours: we hold its lock) and unlock it."""
        if self.fd is None:
            return
        try:
            if os.path.samestat(os.fstat(self.fd), os.stat(self.path)):
                os.remove(self.path)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


def acquire(db: str) -> InstanceLock:
    """Lock this process's pid file for `db`; AlreadyRunning when another taskbot holds it (SQLite)."""
    return InstanceLock(pidfile_for(db), db).acquire()


class StalePidFile(Exception):
    """The pid file exists but no running taskbot holds it."""

    def __init__(self, path: str, pid: int | None):
        self.path, self.pid = path, pid
        names = f"names pid {pid}" if pid else "holds no pid"
        super().__init__(f"{path} {names}, but no running taskbot holds it (a stale pid file, left by a bot "
                         "that did not stop cleanly); nothing was signalled")


def running_pid(path: str) -> int:
    """The pid of the taskbot holding the pid file `path`.

    FileNotFoundError when there is none; StalePidFile when no process holds its lock (whatever pid it names).
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: a running taskbot wrote this pid
            pid = _read_pid(fd)
            if pid is None:
                raise StalePidFile(path, None) from None
            return pid
        raise StalePidFile(path, _read_pid(fd))
    finally:
        os.close(fd)  # drops the shared lock if we took it


__all__ = ["AlreadyRunning", "InstanceLock", "StalePidFile", "acquire", "pidfile_for", "pidfiles_for",
           "running_pid", "sqlite_path", "url_key"]

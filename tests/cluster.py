"""Real processes for the multi-instance tests and bench/failover.py: the Bot API emulator as its own process,
`python bot.py` instances on one database, and their /healthz."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from tests.helpers import free_port  # noqa: F401 (re-exported to the cluster tests and bench)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "123456:TEST"


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    """predicate()'s first truthy value within `timeout` seconds, else AssertionError naming `what`."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def http_json(url: str, body: dict | None = None, headers: dict | None = None, timeout: float = 5.0):
    """(status, parsed JSON or text) of a GET (or a POST of `body`)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class Emulator:
    """`python -m tests.tgemu` in its own process; controlled over HTTP."""

    def __init__(self, work: str, *extra: str):
        self.port = free_port()
        self.out = os.path.join(work, "emulator.out")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.tgemu", "--port", str(self.port), "--token", TOKEN,
                                      *extra], cwd=ROOT, stdout=open(self.out, "w"), stderr=subprocess.STDOUT)
        self.api = f"http://127.0.0.1:{self.port}/bot"
        wait_until(lambda: self._up(), 30, "the emulator to listen")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the emulator exited: {open(self.out).read()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def state(self) -> dict:
        return http_json(f"http://127.0.0.1:{self.port}/_emu/state", timeout=30)[1]

    def control(self, action: str, **body):
        status, answer = http_json(f"http://127.0.0.1:{self.port}/_emu/{action}", body)
        assert status == 200, answer
        return answer["result"]

    def stop(self) -> None:
        stop_all([self.proc])


class Instance:
    """One `python bot.py` process on a shared database."""

    def __init__(self, work: str, name: str, db: str, registry: str, units: str, *, api: str | None,
                 clock: datetime | None = None, extra: tuple = (), env: dict | None = None, port: int | None = None):
        self.name, self.port = name, port or free_port()
        self.out = os.path.join(work, f"{name}.out")
        args = [sys.executable, os.path.join(ROOT, "bot.py"), "--registry", registry, "--units", units, "--db", db,
                "--http", f"127.0.0.1:{self.port}", "--outbox", os.path.join(work, f"{name}-outbox.jsonl"), *extra]
        if clock is not None:
            args += ["--clock", clock.isoformat()]
        full_env = {**os.environ, "PYTHONPATH": ROOT, **(env or {})}
        full_env.pop("TASKBOT_TELEGRAM_TOKEN", None)
        if api is not None:
            full_env.update(TASKBOT_TELEGRAM_TOKEN=TOKEN, TASKBOT_TELEGRAM_API_URL=api)
        self.proc = subprocess.Popen(args, cwd=work, env=full_env, stdout=open(self.out, "w"), stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        with open(self.out, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def health(self) -> dict | None:
        """The /healthz JSON (with "status"), or None while the instance does not answer."""
        try:
            status, body = http_json(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
        except OSError:
            return None
        return {**body, "status": status} if isinstance(body, dict) else None

    def wait_ready(self, timeout: float = 60) -> dict:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            return "next reminders at" in self.output() and self.health()
        return wait_until(ready, timeout, f"{self.name} to be ready")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def roles(instances) -> dict[str, str | None]:
    out = {}
    for i in instances:
        h = i.health() if i.proc.poll() is None else None
        out[i.name] = h.get("role") if h else None
    return out


def leaders(instances) -> list:
    return [i for i in instances if i.proc.poll() is None and (i.health() or {}).get("role") == "leader"]


def stop_all(procs) -> None:
    for p in procs:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        if p is None:
            continue
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


class Unavailable(Exception):
    """No PostgreSQL server can be started here."""


@contextlib.contextmanager
def postgres_server():
    """The URL of a running PostgreSQL: TASKBOT_TEST_PG, one on 127.0.0.1:5432, or a throwaway cluster
    (initdb + pg_ctl, as the postgres user when running as root) stopped and removed at the end."""
    import glob
    import pathlib
    import pwd
    import shutil
    import tempfile

    url = os.environ.get("TASKBOT_TEST_PG")
    if not url:
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=0.3).close()
            url = "postgresql://postgres@127.0.0.1:5432/postgres"
        except OSError:
            url = None
    if url:
        yield url
        return
    found = shutil.which("initdb") or sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found if isinstance(found, str) else (found[-1] if found else None)
    if initdb is None:
        raise Unavailable("no PostgreSQL server (set TASKBOT_TEST_PG=postgresql://..., or run scripts/system-deps)")
    bindir, user = os.path.dirname(initdb), None
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no postgres user to run a server as") from None
    data = pathlib.Path(tempfile.mkdtemp(prefix="taskbot-pg-"))  # not under pytest's root-only tmp dir
    if user is not None:
        shutil.chown(data, user.pw_uid, user.pw_gid)
    run_as = (lambda cmd: ["runuser", "-u", "postgres", "--", *cmd]) if user else (lambda cmd: cmd)
    port = free_port()
    try:
        subprocess.run(run_as([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                       check=True, capture_output=True, timeout=120)
        subprocess.run(run_as([os.path.join(bindir, "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l",
                               str(data / "log"), "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 "
                               "-c max_connections=200", "start"]), check=True, capture_output=True, timeout=120)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(run_as([os.path.join(bindir, "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(data, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server_url: str):
    """A new empty database on the server, dropped at the end: its URL."""
    import uuid

    import psycopg2

    name = f"taskbot_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(server_url, connect_timeout=10)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.split("?", 1)[0].rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def carried_clock(clock0: datetime, real0: float) -> datetime:
    """The application clock an instance started now should read: clock0 plus the real time since real0."""
    return clock0 + timedelta(seconds=time.time() - real0)


__all__ = ["Emulator", "Instance", "ROOT", "TOKEN", "Unavailable", "carried_clock", "fresh_database", "postgres_server", "free_port", "http_json", "leaders", "roles",
           "stop_all", "wait_until"]

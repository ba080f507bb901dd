"""Fixtures shared by the test modules: a real PostgreSQL server for the whole session."""

from __future__ import annotations

import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest


def _pg_url() -> str | None:
    url = os.environ.get("TASKBOT_TEST_PG")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.3).close()
    except OSError:
        return None
    return "postgresql://postgres@127.0.0.1:5432/postgres"


def _initdb() -> str | None:
    """PostgreSQL's initdb when the server is installed (Debian keeps it off PATH)."""
    found = shutil.which("initdb") or sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _unavailable(why: str):
    """Skip, except in CI, where a missing PostgreSQL is a broken setup (scripts/system-deps installs it)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def postgres_url():
    """A running PostgreSQL: TASKBOT_TEST_PG, one on 127.0.0.1:5432, or a throwaway cluster started here."""
    url = _pg_url()
    if url is not None:
        yield url
        return
    initdb = _initdb()
    if initdb is None:
        _unavailable("no PostgreSQL server (set TASKBOT_TEST_PG=postgresql://..., or run scripts/system-deps)")
    bindir = os.path.dirname(initdb)
    user = None
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no postgres user to run a server as")
    data = pathlib.Path(tempfile.mkdtemp(prefix="taskbot-pg-"))  # not under pytest's root-only tmp dir
    if user is not None:
        shutil.chown(data, user.pw_uid, user.pw_gid)
    run_as = (lambda cmd: ["runuser", "-u", "postgres", "--", *cmd]) if user else (lambda cmd: cmd)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run(run_as([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True, timeout=120)
    subprocess.run(run_as([os.path.join(bindir, "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l",
                           str(data / "log"), "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 "
                           "-c max_connections=200", "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(run_as([os.path.join(bindir, "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def pg_database(postgres_url):
    """A fresh, empty database on the session's server (dropped afterwards): its postgresql:// URL."""
    import psycopg2

    name = f"taskbot_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg2.connect(postgres_url, connect_timeout=10)
    except psycopg2.Error as exc:
        _unavailable(f"cannot connect to PostgreSQL: {exc}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

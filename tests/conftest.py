"""Fixtures shared by the test modules: a real PostgreSQL server for the whole session."""

from __future__ import annotations

import os

import pytest

from .cluster import Unavailable, fresh_database, postgres_server


def _unavailable(why: str):
    """Skip, except in CI, where a missing PostgreSQL is a broken setup (scripts/system-deps installs it)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def postgres_url():
    """A running PostgreSQL: TASKBOT_TEST_PG, one on 127.0.0.1:5432, or a throwaway cluster started here."""
    try:
        with postgres_server() as url:
            yield url
    except Unavailable as exc:
        _unavailable(str(exc))


@pytest.fixture
def pg_database(postgres_url):
    """A fresh, empty database on the session's server (dropped afterwards): its postgresql:// URL."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _unavailable("no PostgreSQL driver (pip install psycopg2-binary)")
    with fresh_database(postgres_url) as url:
        yield url

"""The test PostgreSQL server started by `scripts/services/postgres.sh`: its URL, and throwaway databases."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.helpers import ROOT

URL_ENV = "PEPTALK_TEST_POSTGRES_URL"
URL_FILE = ROOT / "var" / "test-postgres.url"
# Captured at import, before tests/conftest.py clears every PEPTALK_* variable.
_FROM_ENV = os.environ.get(URL_ENV)


def configured_url() -> str | None:
    """`PEPTALK_TEST_POSTGRES_URL`, else the URL the service script wrote, else None."""
    if _FROM_ENV:
        return _FROM_ENV
    if URL_FILE.is_file():
        return URL_FILE.read_text().strip() or None
    return None


def unavailable(reason: str) -> NoReturn:
    """Fails the test: PostgreSQL is part of the test command (`scripts/test.sh` starts it), never optional."""
    message = f"PostgreSQL is not available: {reason}. Start it with `bash scripts/services/postgres.sh`."
    pytest.fail(message, pytrace=False)


def server_url() -> str:
    url = configured_url()
    if url is None:
        unavailable(f"neither {URL_ENV} nor {URL_FILE.relative_to(ROOT)} gives its URL")
    engine = create_engine(url, pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means the server is not usable
        unavailable(f"{make_url(url).render_as_string()} refused: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
    return url


@contextlib.contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """A new, empty database on the server at `url`, dropped afterwards; yields its URL."""
    name = f"peptalk_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            _drop(admin, name)
        finally:
            admin.dispose()


def _drop(admin: Engine, name: str, *, attempts: int = 10) -> None:
    """Drops `name`, retrying while a server process the test role may not end (autovacuum, under load) is on it."""
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))

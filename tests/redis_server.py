"""The test Redis started by `scripts/services/redis.sh`: its URL. Its absence fails the test (never a skip)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import ROOT

URL_ENV = "PEPTALK_TEST_REDIS_URL"
URL_FILE = ROOT / "var" / "test-redis.url"
# Captured at import, before tests/conftest.py clears every PEPTALK_* variable.
_FROM_ENV = os.environ.get(URL_ENV)


def configured_url() -> str | None:
    """`PEPTALK_TEST_REDIS_URL`, else the URL the service script wrote, else None."""
    if _FROM_ENV:
        return _FROM_ENV
    if URL_FILE.is_file():
        return URL_FILE.read_text().strip() or None
    return None


def server_url() -> str:
    """The URL of a Redis that answers PING; fails the test otherwise."""
    import redis

    url = configured_url()
    hint = "Start it with `bash scripts/services/redis.sh`."
    if url is None:
        pytest.fail(f"Redis is not configured: neither {URL_ENV} nor {URL_FILE.relative_to(ROOT)} gives its URL. "
                    f"{hint}", pytrace=False)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} does not answer: {exc}. {hint}", pytrace=False)
    finally:
        client.close()
    return url

"""The PostgreSQL fixture's contract: a missing server fails the test, wherever it runs (never a skip)."""

from __future__ import annotations

import pytest

from tests import postgres


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_server_fails_the_test(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(postgres, "_FROM_ENV", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(pytest.fail.Exception, match="(?s)PostgreSQL is not available.*scripts/services/postgres.sh"):
        postgres.server_url()

"""The PostgreSQL fixture's contract: a missing server fails the test in CI and skips it elsewhere."""

from __future__ import annotations

import pytest

from tests import postgres


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_server_fails_in_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch, ci: str,
                                                        outcome: type[BaseException]) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(postgres, "_FROM_ENV", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(outcome, match="(?s)PostgreSQL is not available.*scripts/services/postgres.sh"):
        postgres.server_url()

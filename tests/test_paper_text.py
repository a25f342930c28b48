"""The tests that compare with the SLaM paper find its text, and fail (not skip) under the test command without it."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.paper as paper


def test_the_paper_is_found_beside_the_clone() -> None:
    assert "SLAM METHODOLOGY AND TOOL" in paper.paper_text()


@pytest.mark.parametrize(("required", "outcome"), [(True, pytest.fail.Exception), (False, pytest.skip.Exception)])
def test_a_missing_paper_fails_under_the_test_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      required: bool, outcome: type[BaseException]) -> None:
    monkeypatch.setattr(paper, "CANDIDATES", [tmp_path / "shared" / "slam-paper.txt"])
    monkeypatch.setattr(paper, "REQUIRE_SERVICES", required)
    paper._find.cache_clear()
    try:
        with pytest.raises(outcome, match="slam-paper.txt"):
            paper.paper_text()
    finally:
        paper._find.cache_clear()

"""The SLaM paper's text (`shared/slam-paper.txt`, in or beside the clone) for the tests that compare with it.

Without the file a test fails under the test command (`PEPTALK_TEST_REQUIRE_SERVICES=1`, as in CI, where shared/
sits beside the clone) and is skipped, saying why, elsewhere.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.helpers import ROOT

# In the clone, beside it (CI and the team's worktrees), or beside the main checkout of a nested worktree.
CANDIDATES = [folder / "shared" / "slam-paper.txt" for folder in (ROOT, ROOT.parent, ROOT.parent.parent)]
# Typography the paper's text uses where our files use plain ASCII.
TYPOGRAPHY = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


@lru_cache(maxsize=1)
def _find() -> Path | None:
    return next((path for path in CANDIDATES if path.is_file()), None)


def paper_text() -> str:
    """The paper's full text; a clear failure (under the test command) or skip when it is not there."""
    path = _find()
    if path is None:
        message = ("the SLaM paper's text is missing: expected shared/slam-paper.txt in or beside the clone "
                   f"(looked at {', '.join(str(candidate) for candidate in CANDIDATES)})")
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path.read_text(encoding="utf-8")


def paragraph_after(text: str, lead_in: str) -> str:
    """The paragraph (up to the next blank line) after the paragraph that contains `lead_in`."""
    start = text.index(lead_in)
    rest = text[text.index("\n\n", start) + 2:]
    return rest.split("\n\n", 1)[0]


def lines(text: str) -> list[str]:
    """`text`'s non-empty lines with their surrounding whitespace stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def squash(text: str) -> str:
    """`text` with every run of whitespace made one space (for matching the paper's reflowed prose)."""
    return re.sub(r"\s+", " ", text).strip()


def plain(text: str) -> tuple[str, dict[str, int]]:
    """`text` with the paper's typographic quotes made ASCII, and how many of each character were replaced."""
    counts = {char: text.count(char) for char in TYPOGRAPHY if char in text}
    for char, ascii_char in TYPOGRAPHY.items():
        text = text.replace(char, ascii_char)
    return text, counts

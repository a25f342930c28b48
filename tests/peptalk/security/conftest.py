"""These tests exercise the HTTP edge: the semantic cache is off (its own tests cover it) and data stays in tmp."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from peptalk.settings import Settings


@pytest.fixture
def make_settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        return make_settings(**({"cache_enabled": False, "data_dir": tmp_path / "data"} | overrides))

    return build

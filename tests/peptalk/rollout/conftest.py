"""A migrated SQLite database holding both the shadow log and the rollout tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peptalk.rollout.store import RolloutStore
from peptalk.shadow import SqlShadowStore


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[RolloutStore, SqlShadowStore]]:
    store = RolloutStore.from_url(f"sqlite:///{tmp_path / 'peptalk.db'}")
    store.migrate()
    yield store, SqlShadowStore(store.engine)
    store.close()

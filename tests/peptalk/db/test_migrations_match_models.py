"""The Alembic migrations build exactly the tables the SQLAlchemy models describe, per branch, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from peptalk.db import make_engine, sqlite_url, upgrade
from peptalk.db.migrate import alembic_config


def _models() -> dict[str, MetaData]:
    """Each migration branch and the models its tables must match."""
    from evaluation.probe_store import metadata as probes
    from evaluation.rating.store import metadata as ratings
    from peptalk.cache.sql_store import metadata as cache
    from peptalk.rollout.store import metadata as rollout
    from peptalk.shadow.store import metadata as shadow

    return {"shadow": shadow, "probes": probes, "ratings": ratings, "cache": cache, "rollout": rollout}


def _branches(engine: Engine) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return {label for revision in script.walk_revisions() for label in revision.branch_labels}


def _drift(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [change for change in compare_metadata(context, metadata)
                if not (change[0] == "remove_table" and change[1].name == "alembic_version")]


def _combined(metadatas: list[MetaData]) -> MetaData:
    combined = MetaData()
    for metadata in metadatas:
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Makes empty databases of one dialect."""
    made: list[Engine] = []
    if request.param == "sqlite":
        def make() -> Engine:
            made.append(make_engine(sqlite_url(tmp_path / f"db{len(made)}.sqlite")))
            return made[-1]
        yield make
    else:
        from tests import postgres

        url = postgres.server_url()
        with contextlib.ExitStack() as stack:
            def make() -> Engine:
                made.append(make_engine(stack.enter_context(postgres.throwaway_database(url))))
                return made[-1]
            yield make
    for engine in made:
        engine.dispose()


def test_every_branch_has_models(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "peptalk.db"))
    assert _branches(engine) == set(_models())


@pytest.mark.parametrize("branch", sorted(_models()))
def test_a_branch_alone_builds_its_models(new_database: Callable[[], Engine], branch: str) -> None:
    engine = new_database()
    upgrade(engine, f"{branch}@head")
    assert _drift(engine, _models()[branch]) == []


def test_every_head_builds_every_model(new_database: Callable[[], Engine]) -> None:
    engine = new_database()
    upgrade(engine)
    assert _drift(engine, _combined(list(_models().values()))) == []


def test_the_check_sees_a_model_the_migrations_lack(new_database: Callable[[], Engine]) -> None:
    from sqlalchemy import Column, Integer, String, Table

    engine = new_database()
    upgrade(engine)
    extended = _combined(list(_models().values()))
    Table("not_migrated", extended, Column("id", Integer, primary_key=True))
    next(iter(extended.tables.values())).append_column(Column("added_later", String(8)))
    kinds = sorted(change[0] if isinstance(change, tuple) else change[0][0] for change in _drift(engine, extended))
    assert kinds == ["add_column", "add_table"]

"""Alembic environment: runs migrations on the engine handed over by `peptalk.db.migrate`."""

from __future__ import annotations

from alembic import context

from peptalk.db.engine import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.begin() as connection:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()

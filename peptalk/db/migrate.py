"""Schema migrations with Alembic, run from code (no alembic.ini): `upgrade(engine)` brings every table up to date.

Each feature keeps its own migration branch (`branch_labels=("shadow",)` and so on, `down_revision=None`
for its first revision) in `peptalk/db/migrations/versions/`, and `upgrade` applies all heads.

Evaluation's tables (branches `probes` and `ratings`) migrate from here too, not from the evaluation package,
on purpose: serving and evaluation share one database and one `alembic_version` table, and Alembic refuses to
upgrade a database whose recorded revisions it cannot locate. With evaluation's revisions elsewhere, a serving
replica (which never imports evaluation: see the import contracts) would fail to start on any database a probe
or the rating UI had migrated. Moving them out needs a version table of their own (`version_table=`), and a
one-off move of the rows already recorded in deployed databases. The revision files import only Alembic and
SQLAlchemy, so keeping them here adds no dependency to serving.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("peptalk.db").joinpath("migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Applies every pending migration of every feature branch."""
    command.upgrade(alembic_config(engine), revision)


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty before the first upgrade)."""
    if not inspect(engine).has_table("alembic_version"):
        return set()
    with engine.connect() as connection:
        from sqlalchemy import text

        return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}

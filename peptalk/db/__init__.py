"""peptalk's database: engines and migrations shared by the shadow log, probes and ratings."""

from peptalk.db.engine import make_engine, sqlite_url
from peptalk.db.migrate import current_revisions, upgrade

__all__ = ["current_revisions", "make_engine", "sqlite_url", "upgrade"]

"""Human blind ratings: a lock row that serialises assignment across every process on one database (issue 19).

Revision ID: ratings_0002
Revises: ratings_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ratings_0002"
down_revision = "ratings_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    locks = op.create_table(
        "rating_locks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("taken", sa.Integer, nullable=False),
    )
    op.bulk_insert(locks, [{"name": "assign", "taken": 0}])


def downgrade() -> None:
    op.drop_table("rating_locks")

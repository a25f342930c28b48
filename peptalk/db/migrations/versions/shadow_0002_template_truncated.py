"""shadow traffic: the prompt template's version per pair, and whether each call hit the token limit

Revision ID: shadow_0002
Revises: shadow_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "shadow_0002"
down_revision = "shadow_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shadow_pairs", sa.Column("template_version", sa.String(64)))
    op.add_column("shadow_calls", sa.Column("truncated", sa.Boolean))


def downgrade() -> None:
    with op.batch_alter_table("shadow_calls") as batch:
        batch.drop_column("truncated")
    with op.batch_alter_table("shadow_pairs") as batch:
        batch.drop_column("template_version")

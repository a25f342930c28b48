"""semantic cache: the shared cache entries (one row per cached answer) and the online audit log

Revision ID: cache_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cache_0001"
down_revision = None
branch_labels = ("cache",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cache_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(160), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("canonical", sa.JSON, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("vectors", sa.LargeBinary, nullable=False),
        sa.Column("summary", sa.LargeBinary, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_cache_entries_key_content", "cache_entries", ["key", "content_hash"])
    op.create_index("ix_cache_entries_last_used_at", "cache_entries", ["last_used_at"])
    op.create_index("ix_cache_entries_created_at", "cache_entries", ["created_at"])
    op.create_table(
        "cache_audits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("scope", sa.String(160), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("stored_request", sa.JSON, nullable=False),
        sa.Column("new_request", sa.JSON, nullable=False),
        sa.Column("cached_text", sa.Text, nullable=False),
        sa.Column("fresh_text", sa.Text),
        sa.Column("fresh_model", sa.String(256)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_cache_audits_created_at", "cache_audits", ["created_at"])


def downgrade() -> None:
    op.drop_table("cache_audits")
    op.drop_index("ix_cache_entries_created_at", table_name="cache_entries")
    op.drop_index("ix_cache_entries_last_used_at", table_name="cache_entries")
    op.drop_index("ix_cache_entries_key_content", table_name="cache_entries")
    op.drop_table("cache_entries")

"""shadow traffic: the comparison log (one pair per mirrored call, one row per model call)

Revision ID: shadow_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "shadow_0001"
down_revision = None
branch_labels = ("shadow",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_pairs",
        sa.Column("pair_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
    )
    op.create_index("ix_shadow_pairs_request_id", "shadow_pairs", ["request_id"])
    op.create_index("ix_shadow_pairs_created_at", "shadow_pairs", ["created_at"])
    op.create_table(
        "shadow_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pair_id", sa.String(64), sa.ForeignKey("shadow_pairs.pair_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("response", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("latency_s", sa.Float),
        sa.Column("ttft_s", sa.Float),
        sa.Column("input_tokens", sa.Integer),
        sa.Column("output_tokens", sa.Integer),
        sa.Column("cache_hit", sa.Boolean, nullable=False),
        sa.Column("usage_source", sa.String(16)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("pair_id", "position", name="uq_shadow_calls_pair_position"),
    )
    op.create_index("ix_shadow_calls_pair_id", "shadow_calls", ["pair_id"])
    op.create_index("ix_shadow_calls_model", "shadow_calls", ["model"])


def downgrade() -> None:
    op.drop_table("shadow_calls")
    op.drop_table("shadow_pairs")

"""Human blind ratings: raters, assignments, submissions and per-response scores.

Revision ID: ratings_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ratings_0001"
down_revision = None
branch_labels = ("ratings",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating_raters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rating_assignments",
        sa.Column("rater", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(512), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rating_assignments_unit", "rating_assignments", ["unit_id"])
    op.create_table(
        "rating_submissions",
        sa.Column("rater", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(512), primary_key=True),
        sa.Column("prompt_id", sa.String(256), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("preference", sa.String(256), nullable=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rating_scores",
        sa.Column("rater", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(512), primary_key=True),
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("prompt_id", sa.String(256), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("criteria", sa.JSON, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rating_scores_prompt_model", "rating_scores", ["prompt_id", "model"])


def downgrade() -> None:
    op.drop_table("rating_scores")
    op.drop_table("rating_submissions")
    op.drop_index("ix_rating_assignments_unit", table_name="rating_assignments")
    op.drop_table("rating_assignments")
    op.drop_table("rating_raters")

"""rollout: every candidate call counted (rollout_calls), each order's outcome and the human labels on verdicts

Revision ID: rollout_0002
Revises: rollout_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "rollout_0002"
down_revision = "rollout_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollout_calls",  # one row per process flush: how the candidate's calls in it ended
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("candidate_model", sa.String(256), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),  # timeouts included
        sa.Column("timeouts", sa.Integer, nullable=False),
        sa.Column("empty_answers", sa.Integer, nullable=False),  # no error, no text
    )
    op.create_index("ix_rollout_calls_at", "rollout_calls", ["at"])
    with op.batch_alter_table("rollout_verdicts") as batch:
        batch.add_column(sa.Column("candidate_first_outcome", sa.String(8)))  # the order's own reading
        batch.add_column(sa.Column("primary_first_outcome", sa.String(8)))
        batch.add_column(sa.Column("human_labels", sa.Text))  # human outcomes of the pair, comma-separated


def downgrade() -> None:
    with op.batch_alter_table("rollout_verdicts") as batch:
        batch.drop_column("human_labels")
        batch.drop_column("primary_first_outcome")
        batch.drop_column("candidate_first_outcome")
    op.drop_table("rollout_calls")

"""rollout: rollouts (stage, status), their transitions with evidence, and pairwise judge verdicts

Revision ID: rollout_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "rollout_0001"
down_revision = None
branch_labels = ("rollout",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("candidate_model", sa.String(256), nullable=False),
        sa.Column("primary_model", sa.String(256), nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("stage_index", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rollout_transitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.Integer, sa.ForeignKey("rollouts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_stage", sa.String(64)),
        sa.Column("to_stage", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
    )
    op.create_index("ix_rollout_transitions_rollout_id", "rollout_transitions", ["rollout_id"])
    op.create_table(
        "rollout_verdicts",
        sa.Column("pair_id", sa.String(64), primary_key=True),
        sa.Column("candidate_model", sa.String(256), primary_key=True),
        sa.Column("primary_model", sa.String(256), nullable=False),
        sa.Column("pair_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(8)),  # win | tie | loss for the candidate; NULL: not judged (see problem)
        sa.Column("consistent", sa.Boolean),  # both orders gave the same verdict
        sa.Column("problem", sa.String(64)),
        sa.Column("raw_candidate_first", sa.Text),
        sa.Column("raw_primary_first", sa.Text),
        sa.Column("judge_model", sa.String(256), nullable=False),
        sa.Column("prompt_version", sa.String(32), nullable=False),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("human_agree", sa.Integer),  # human pairwise ratings of this pair that agree with the verdict
        sa.Column("human_total", sa.Integer),  # human pairwise ratings of this pair (candidate vs primary)
    )
    op.create_index("ix_rollout_verdicts_pair_created_at", "rollout_verdicts", ["pair_created_at"])
    op.create_index("ix_rollout_verdicts_judged_at", "rollout_verdicts", ["judged_at"])


def downgrade() -> None:
    op.drop_table("rollout_verdicts")
    op.drop_table("rollout_transitions")
    op.drop_table("rollouts")

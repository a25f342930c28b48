"""Probe runs and their timed calls (`peptalk probe`, the diurnal latency measurement).

Revision ID: probes_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "probes_0001"
down_revision = None
branch_labels = ("probes",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probe_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("models", sa.JSON, nullable=False),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("warmup", sa.Integer, nullable=False),
        sa.Column("measured", sa.Integer, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
    )
    op.create_table(
        "probe_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("probe_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("phase", sa.String(8), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_s", sa.Float, nullable=True),
        sa.Column("ttft_s", sa.Float, nullable=True),
        sa.Column("input_tokens", sa.Integer, nullable=True),
        sa.Column("output_tokens", sa.Integer, nullable=True),
        sa.Column("response_chars", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_probe_calls_run_slot", "probe_calls", ["run_id", "slot"])
    op.create_index("ix_probe_calls_model_started", "probe_calls", ["model", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_probe_calls_model_started", table_name="probe_calls")
    op.drop_index("ix_probe_calls_run_slot", table_name="probe_calls")
    op.drop_table("probe_calls")
    op.drop_table("probe_runs")

"""The probe tables (`probe_runs`, `probe_calls`; migration branch `probes`) and their reads and writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Engine

from evaluation.records import CallRecord

Phase = Literal["warmup", "measured"]
RunStatus = Literal["running", "finished", "stopped", "failed"]

metadata = sa.MetaData()
probe_runs = sa.Table(
    "probe_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("models", sa.JSON, nullable=False),
    sa.Column("interval_s", sa.Float, nullable=False),
    sa.Column("warmup", sa.Integer, nullable=False),
    sa.Column("measured", sa.Integer, nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
)
probe_calls = sa.Table(
    "probe_calls", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("probe_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("slot", sa.Integer, nullable=False),
    sa.Column("phase", sa.String(8), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("latency_s", sa.Float),
    sa.Column("ttft_s", sa.Float),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("response_chars", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Index("ix_probe_calls_run_slot", "run_id", "slot"),
    sa.Index("ix_probe_calls_model_started", "model", "started_at"),
)


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class ProbeCall:
    """One timed call of a probe slot."""

    run_id: int
    slot: int
    phase: Phase
    seq: int
    model: str
    started_at: dt.datetime
    latency_s: float | None = None
    ttft_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    response_chars: int | None = None
    error: str | None = None

    def to_call_record(self) -> CallRecord:
        return CallRecord(model=self.model, error=self.error, latency_s=self.latency_s, ttft_s=self.ttft_s,
                          input_tokens=self.input_tokens, output_tokens=self.output_tokens,
                          started_at=self.started_at, prompt_id=f"probe-run-{self.run_id}", repeat=self.seq,
                          source="probe")


class ProbeStore:
    """Reads and writes probe runs; the schema comes from the Alembic branch `probes`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start_run(self, *, models: list[str], interval_s: float, warmup: int, measured: int,
                  request: dict[str, Any], started_at: dt.datetime) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(probe_runs.insert().values(
                started_at=started_at, status="running", models=models, interval_s=interval_s,
                warmup=warmup, measured=measured, request=request))
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish_run(self, run_id: int, status: RunStatus, finished_at: dt.datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(probe_runs.update().where(probe_runs.c.id == run_id)
                               .values(status=status, finished_at=finished_at))

    def add(self, call: ProbeCall) -> None:
        with self.engine.begin() as connection:
            connection.execute(probe_calls.insert().values(**call.__dict__))

    def run(self, run_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(probe_runs).where(probe_runs.c.id == run_id)).mappings().first()
        return dict(row) if row else None

    def latest_run_id(self) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.max(probe_runs.c.id))).scalar()

    def calls(self, *, run_id: int | None = None, phase: Phase | None = "measured") -> list[ProbeCall]:
        """Calls in slot order, of one run or of all runs; measured ones only by default."""
        query = sa.select(probe_calls).order_by(probe_calls.c.run_id, probe_calls.c.slot, probe_calls.c.id)
        if run_id is not None:
            query = query.where(probe_calls.c.run_id == run_id)
        if phase is not None:
            query = query.where(probe_calls.c.phase == phase)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [ProbeCall(**{**{key: value for key, value in row.items() if key != "id"},
                             "started_at": utc(row["started_at"])}) for row in rows]

    def call_records(self, *, run_id: int | None = None) -> list[CallRecord]:
        """The measured calls as `CallRecord`s (source `probe`), for the latency analysis and the report."""
        return [call.to_call_record() for call in self.calls(run_id=run_id)]

"""The rollout tables on SQLAlchemy Core (SQLite or PostgreSQL): rollouts, transitions and verdicts.

Every change is a compare-and-set on the rollout's `version`, so several controllers (one per app process)
can run at once and only one of them makes each transition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (JSON, Boolean, Column, DateTime, Engine, Float, ForeignKey, Integer, MetaData, String, Table,
                        Text, func, insert, select, update)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from peptalk.db import make_engine, upgrade
from peptalk.rollout.base import Actor, CallTally, Rollout, Status, Transition, TransitionKind, Verdict
from peptalk.rollout.errors import ConflictError, RolloutStoreError
from peptalk.rollout.plan import RolloutPlan

# Mirrors migrations rollout_0001 and rollout_0002; change both together (with a new revision).
metadata = MetaData()
rollouts = Table(
    "rollouts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("candidate_model", String(256), nullable=False),
    Column("primary_model", String(256), nullable=False),
    Column("plan", JSON, nullable=False),
    Column("stage_index", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("stage_entered_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
transitions = Table(
    "rollout_transitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("from_stage", String(64)),
    Column("to_stage", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("actor", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
)
verdicts = Table(
    "rollout_verdicts", metadata,
    Column("pair_id", String(64), primary_key=True),
    Column("candidate_model", String(256), primary_key=True),
    Column("primary_model", String(256), nullable=False),
    Column("pair_created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("judged_at", DateTime(timezone=True), nullable=False, index=True),
    Column("outcome", String(8)),
    Column("consistent", Boolean),
    Column("problem", String(64)),
    Column("raw_candidate_first", Text),
    Column("raw_primary_first", Text),
    Column("judge_model", String(256), nullable=False),
    Column("prompt_version", String(32), nullable=False),
    Column("calls", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("human_agree", Integer),
    Column("human_total", Integer),
    Column("candidate_first_outcome", String(8)),
    Column("primary_first_outcome", String(8)),
    Column("human_labels", Text),
)
calls = Table(
    "rollout_calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("candidate_model", String(256), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("calls", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("timeouts", Integer, nullable=False),
    Column("empty_answers", Integer, nullable=False),
)


def utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC; naive times (SQLite returns those) are taken as UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _rollout(row: Any) -> Rollout:
    return Rollout(id=row.id, plan=RolloutPlan.model_validate(row.plan), stage_index=row.stage_index,
                   status=row.status, version=row.version, stage_entered_at=utc(row.stage_entered_at),
                   created_at=utc(row.created_at))


def _transition(row: Any) -> Transition:
    return Transition(id=row.id, rollout_id=row.rollout_id, at=utc(row.at), kind=row.kind, from_stage=row.from_stage,
                      to_stage=row.to_stage, status=row.status, actor=row.actor, reason=row.reason,
                      evidence=row.evidence or {})


def _verdict(row: Any) -> Verdict:
    return Verdict(pair_id=row.pair_id, candidate=row.candidate_model, primary=row.primary_model,
                   pair_created_at=utc(row.pair_created_at), judged_at=utc(row.judged_at), outcome=row.outcome,
                   consistent=row.consistent, problem=row.problem, raw_candidate_first=row.raw_candidate_first,
                   raw_primary_first=row.raw_primary_first, judge_model=row.judge_model,
                   prompt_version=row.prompt_version, calls=row.calls, cost_usd=row.cost_usd,
                   human_agree=row.human_agree, human_total=row.human_total,
                   candidate_first_outcome=row.candidate_first_outcome, primary_first_outcome=row.primary_first_outcome,
                   human_labels=tuple(row.human_labels.split(",")) if row.human_labels else ())


class RolloutStore:
    """Reads and changes rollouts, their transitions and the judge's verdicts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> RolloutStore:
        return cls(make_engine(url))

    def migrate(self) -> None:
        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise RolloutStoreError(f"cannot migrate {self.engine.url.render_as_string()}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # --- rollouts ---
    def current(self) -> Rollout | None:
        """The newest rollout that is not superseded, or None."""
        query = select(rollouts).where(rollouts.c.status != "superseded").order_by(rollouts.c.id.desc()).limit(1)
        try:
            with self.engine.connect() as connection:
                row = connection.execute(query).first()
        except SQLAlchemyError as exc:
            raise RolloutStoreError(f"reading the current rollout failed: {exc}") from exc
        return None if row is None else _rollout(row)

    def get(self, rollout_id: int) -> Rollout | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(rollouts).where(rollouts.c.id == rollout_id)).first()
        return None if row is None else _rollout(row)

    def create(self, plan: RolloutPlan, *, actor: Actor, reason: str, now: dt.datetime | None = None) -> Rollout:
        """Stores a new rollout at its first stage (superseding any current one) and its `start` transition."""
        now = utc(now or now_utc())
        try:
            with self.engine.begin() as connection:
                for row in connection.execute(select(rollouts).where(rollouts.c.status != "superseded")).all():
                    connection.execute(update(rollouts).where(rollouts.c.id == row.id).values(
                        status="superseded", version=row.version + 1, updated_at=now))
                    self._log(connection, row.id, now, "supersede", None, _rollout(row).stage.name, "superseded",
                              actor, f"superseded by a new rollout of {plan.candidate}", {})
                inserted = connection.execute(insert(rollouts).values(
                    candidate_model=plan.candidate, primary_model=plan.primary, plan=plan.model_dump(mode="json"),
                    stage_index=0, status="active", version=1, stage_entered_at=now, created_at=now,
                    updated_at=now)).inserted_primary_key
                assert inserted is not None
                rollout_id = int(inserted[0])
                self._log(connection, rollout_id, now, "start", None, plan.stages[0].name, "active", actor, reason, {})
        except SQLAlchemyError as exc:
            raise RolloutStoreError(f"storing the rollout failed: {exc}") from exc
        created = self.get(int(rollout_id))
        assert created is not None
        return created

    def transition(self, rollout: Rollout, *, kind: TransitionKind, to_stage: int, status: Status, actor: Actor,
                   reason: str, evidence: dict[str, Any] | None = None, now: dt.datetime | None = None,
                   restart_clock: bool = False) -> Rollout:
        """Moves `rollout` (as read, at its version) to `to_stage`/`status` and logs why; `ConflictError` if changed since.

        A new stage, or `restart_clock` (`resume`), starts the stage's clock and evidence afresh.
        """
        now = utc(now or now_utc())
        values: dict[str, Any] = {"stage_index": to_stage, "status": status, "version": rollout.version + 1,
                                  "updated_at": now}
        if to_stage != rollout.stage_index or restart_clock:
            values["stage_entered_at"] = now
        try:
            with self.engine.begin() as connection:
                changed = connection.execute(update(rollouts).where(rollouts.c.id == rollout.id,
                                                                    rollouts.c.version == rollout.version)
                                             .values(**values)).rowcount
                if changed != 1:
                    raise ConflictError(f"rollout {rollout.id} changed since version {rollout.version}")
                self._log(connection, rollout.id, now, kind, rollout.stage.name, rollout.plan.stages[to_stage].name,
                          status, actor, reason, evidence or {})
        except SQLAlchemyError as exc:
            raise RolloutStoreError(f"storing the transition failed: {exc}") from exc
        updated = self.get(rollout.id)
        assert updated is not None
        return updated

    @staticmethod
    def _log(connection: Any, rollout_id: int, at: dt.datetime, kind: str, from_stage: str | None, to_stage: str,
             status: str, actor: str, reason: str, evidence: dict[str, Any]) -> None:
        connection.execute(insert(transitions).values(rollout_id=rollout_id, at=at, kind=kind, from_stage=from_stage,
                                                      to_stage=to_stage, status=status, actor=actor, reason=reason,
                                                      evidence=evidence))

    def history(self, rollout_id: int | None = None) -> list[Transition]:
        """Every transition of `rollout_id` (default: of every rollout), oldest first."""
        query = select(transitions).order_by(transitions.c.id)
        if rollout_id is not None:
            query = query.where(transitions.c.rollout_id == rollout_id)
        with self.engine.connect() as connection:
            return [_transition(row) for row in connection.execute(query)]

    # --- verdicts ---
    def add_verdicts(self, items: Sequence[Verdict]) -> int:
        """Stores verdicts; one already stored for the same pair and candidate is kept. Returns how many were new."""
        added = 0
        for verdict in items:
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(verdicts).values(
                        pair_id=verdict.pair_id, candidate_model=verdict.candidate, primary_model=verdict.primary,
                        pair_created_at=utc(verdict.pair_created_at), judged_at=utc(verdict.judged_at),
                        outcome=verdict.outcome, consistent=verdict.consistent, problem=verdict.problem,
                        raw_candidate_first=verdict.raw_candidate_first, raw_primary_first=verdict.raw_primary_first,
                        judge_model=verdict.judge_model, prompt_version=verdict.prompt_version, calls=verdict.calls,
                        cost_usd=verdict.cost_usd, candidate_first_outcome=verdict.candidate_first_outcome,
                        primary_first_outcome=verdict.primary_first_outcome))
                added += 1
            except IntegrityError:
                continue  # another judge worker got there first
            except SQLAlchemyError as exc:
                raise RolloutStoreError(f"storing a verdict failed: {exc}") from exc
        return added

    def verdicts(self, candidate: str, *, since: dt.datetime | None = None,
                 until: dt.datetime | None = None) -> list[Verdict]:
        """The candidate's verdicts on pairs created in [since, until), in the order they were judged."""
        query = select(verdicts).where(verdicts.c.candidate_model == candidate)
        if since is not None:
            query = query.where(verdicts.c.pair_created_at >= utc(since))
        if until is not None:
            query = query.where(verdicts.c.pair_created_at < utc(until))
        with self.engine.connect() as connection:
            return [_verdict(row) for row in connection.execute(query.order_by(verdicts.c.judged_at, verdicts.c.pair_id))]

    def set_human_labels(self, candidate: str, labels: Mapping[str, tuple[str, ...]]) -> None:
        """Stores, per pair id, the human raters' outcomes; the agreement counts follow from the verdict."""
        with self.engine.begin() as connection:
            for pair_id, outcomes in labels.items():
                row = connection.execute(select(verdicts.c.outcome).where(
                    verdicts.c.pair_id == pair_id, verdicts.c.candidate_model == candidate)).first()
                if row is None:
                    continue
                connection.execute(update(verdicts).where(verdicts.c.pair_id == pair_id,
                                                          verdicts.c.candidate_model == candidate)
                                   .values(human_agree=sum(label == row.outcome for label in outcomes),
                                           human_total=len(outcomes), human_labels=",".join(outcomes)))

    # --- every candidate call, counted ---
    def add_tally(self, tally: CallTally) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(calls).values(
                    candidate_model=tally.candidate, at=utc(tally.at), calls=tally.calls, errors=tally.errors,
                    timeouts=tally.timeouts, empty_answers=tally.empty_answers))
        except SQLAlchemyError as exc:
            raise RolloutStoreError(f"storing the call tally failed: {exc}") from exc

    def tallies(self, candidate: str, *, since: dt.datetime, until: dt.datetime) -> list[CallTally]:
        """The candidate's call tallies flushed in [since, until), oldest first."""
        query = (select(calls).where(calls.c.candidate_model == candidate, calls.c.at >= utc(since),
                                     calls.c.at < utc(until)).order_by(calls.c.at, calls.c.id))
        with self.engine.connect() as connection:
            return [CallTally(candidate=row.candidate_model, at=utc(row.at), calls=row.calls, errors=row.errors,
                              timeouts=row.timeouts, empty_answers=row.empty_answers)
                    for row in connection.execute(query)]

    def judged_pair_ids(self, candidate: str, pair_ids: Iterable[str]) -> set[str]:
        ids = list(pair_ids)
        if not ids:
            return set()
        with self.engine.connect() as connection:
            return set(connection.scalars(select(verdicts.c.pair_id).where(verdicts.c.candidate_model == candidate,
                                                                          verdicts.c.pair_id.in_(ids))))

    def judge_spend(self, *, since: dt.datetime) -> tuple[int, float]:
        """Judge calls made and dollars spent on verdicts judged at or after `since` (every candidate)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(func.coalesce(func.sum(verdicts.c.calls), 0),
                                            func.coalesce(func.sum(verdicts.c.cost_usd), 0.0))
                                     .where(verdicts.c.judged_at >= utc(since))).one()
        return int(row[0]), float(row[1])

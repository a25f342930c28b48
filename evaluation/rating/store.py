"""Ratings in peptalk's shared database (SQLAlchemy Core; tables made by the `ratings` Alembic branch)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from evaluation.rating.errors import RatingStoreError
from peptalk.db import upgrade

metadata = sa.MetaData()

raters_table = sa.Table(
    "rating_raters", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
assignments_table = sa.Table(
    "rating_assignments", metadata,
    sa.Column("rater", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.String(512), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_rating_assignments_unit", "unit_id"),
)
# Mirrors migration ratings_0002: one row per lock; updating a row holds it until the transaction ends.
locks_table = sa.Table(
    "rating_locks", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("taken", sa.Integer, nullable=False),
)
ASSIGN_LOCK = "assign"
submissions_table = sa.Table(
    "rating_submissions", metadata,
    sa.Column("rater", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.String(512), primary_key=True),
    sa.Column("prompt_id", sa.String(256), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("preference", sa.String(256), nullable=True),  # pairwise: the preferred model, or "tie"
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
scores_table = sa.Table(
    "rating_scores", metadata,
    sa.Column("rater", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.String(512), primary_key=True),
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("prompt_id", sa.String(256), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("criteria", sa.JSON, nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_rating_scores_prompt_model", "prompt_id", "model"),
)

SaveOutcome = Literal["created", "updated", "duplicate"]
TIE = "tie"


@dataclass(frozen=True)
class ResponseScore:
    """One rater's score of one response: 0-10 overall, per criterion in pairwise mode, and a comment."""

    model: str
    score: float
    criteria: dict[str, int] = field(default_factory=dict)
    comment: str | None = None


@dataclass(frozen=True)
class Submission:
    """One submitted rating form: every response of one unit, by one rater."""

    rater: str
    unit_id: str
    prompt_id: str
    mode: str
    nonce: str
    scores: tuple[ResponseScore, ...]
    preference: str | None = None  # pairwise: the preferred model, or TIE


@dataclass(frozen=True)
class ScoreRow:
    """A stored score with its unit's pairwise preference, as the export and the progress page read it."""

    prompt_id: str
    unit_id: str
    model: str
    rater: str
    mode: str
    score: float
    criteria: dict[str, Any]
    comment: str | None
    preference: str | None
    updated_at: dt.datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RatingStore:
    """Raters, assignments and ratings; every write is idempotent."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def migrate(self) -> None:
        """Creates or upgrades every table of every feature (the `ratings` branch among them)."""
        upgrade(self.engine)

    # Raters

    def issue_token(self, name: str) -> str:
        """Registers `name` (or rotates its token) and returns the new sign-in token; only its hash is kept."""
        token = secrets.token_urlsafe(18)
        with self.engine.begin() as connection:
            exists = connection.execute(sa.select(raters_table.c.name).where(raters_table.c.name == name)).first()
            if exists:
                connection.execute(raters_table.update().where(raters_table.c.name == name)
                                   .values(token_hash=hash_token(token)))
            else:
                connection.execute(raters_table.insert().values(name=name, token_hash=hash_token(token),
                                                                created_at=_now()))
        return token

    def rater_for_token(self, token: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(raters_table.c.name)
                                      .where(raters_table.c.token_hash == hash_token(token))).scalar()

    def ensure_rater(self, name: str) -> None:
        """Registers a rater who signed in by name."""
        try:
            with self.engine.begin() as connection:
                if connection.execute(sa.select(raters_table.c.name).where(raters_table.c.name == name)).first():
                    return
                connection.execute(raters_table.insert().values(name=name, token_hash=None, created_at=_now()))
        except IntegrityError:
            pass  # registered concurrently

    def raters(self) -> list[tuple[str, bool]]:
        """Every rater's name, and whether they have a token."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(raters_table.c.name, raters_table.c.token_hash)
                                      .order_by(raters_table.c.name))
            return [(name, token_hash is not None) for name, token_hash in rows]

    # Assignments

    @staticmethod
    def _assigned_units(connection: Connection, rater: str) -> list[str]:
        rows = connection.execute(sa.select(assignments_table.c.unit_id)
                                  .where(assignments_table.c.rater == rater).order_by(assignments_table.c.seq))
        return [unit_id for (unit_id,) in rows]

    @staticmethod
    def _unit_loads(connection: Connection) -> Counter[str]:
        rows = connection.execute(sa.select(assignments_table.c.unit_id, sa.func.count())
                                  .group_by(assignments_table.c.unit_id))
        return Counter({unit_id: count for unit_id, count in rows})

    def assigned_units(self, rater: str) -> list[str]:
        """The units assigned to `rater`, in the order they were assigned."""
        with self.engine.connect() as connection:
            return self._assigned_units(connection, rater)

    def unit_loads(self) -> Counter[str]:
        """How many raters each unit is assigned to."""
        with self.engine.connect() as connection:
            return self._unit_loads(connection)

    def assign(self, rater: str, unit_ids: Sequence[str], *, raters_per_item: int, items_per_rater: int) -> list[str]:
        """Tops up `rater`'s assignment (see `assign.choose_units`) and returns all their units in order.

        Correct with any number of app processes on one database: the first statement takes the assignment
        lock row (a row lock on PostgreSQL, the database write lock on SQLite) until commit, so the loads read
        next cannot change before this rater's units are inserted. Concurrent sign-ins queue on it briefly.
        """
        from evaluation.rating.assign import choose_units

        with self.engine.begin() as connection:
            taken = connection.execute(locks_table.update().where(locks_table.c.name == ASSIGN_LOCK)
                                       .values(taken=locks_table.c.taken + 1)).rowcount
            if taken != 1:
                raise RatingStoreError("the rating_locks table lacks its `assign` row: run the migrations")
            already = self._assigned_units(connection, rater)
            chosen = choose_units(rater, unit_ids, load=self._unit_loads(connection), already=already,
                                  raters_per_item=raters_per_item, items_per_rater=items_per_rater)
            if chosen:
                now = _now()
                connection.execute(assignments_table.insert(), [
                    {"rater": rater, "unit_id": unit_id, "seq": len(already) + offset, "created_at": now}
                    for offset, unit_id in enumerate(chosen)])
        return already + chosen

    # Ratings

    def save(self, submission: Submission) -> SaveOutcome:
        """Stores a submission; the same nonce twice is a no-op, a new nonce replaces the rater's earlier rating."""
        key = (submissions_table.c.rater == submission.rater) & (submissions_table.c.unit_id == submission.unit_id)
        now = _now()
        try:
            with self.engine.begin() as connection:
                previous = connection.execute(sa.select(submissions_table.c.nonce).where(key)).first()
                if previous is not None and previous.nonce == submission.nonce:
                    return "duplicate"
                values = {"prompt_id": submission.prompt_id, "mode": submission.mode,
                          "preference": submission.preference, "nonce": submission.nonce, "updated_at": now}
                if previous is None:
                    connection.execute(submissions_table.insert().values(
                        rater=submission.rater, unit_id=submission.unit_id, created_at=now, **values))
                else:
                    connection.execute(submissions_table.update().where(key).values(**values))
                    connection.execute(scores_table.delete().where(
                        (scores_table.c.rater == submission.rater) & (scores_table.c.unit_id == submission.unit_id)))
                connection.execute(scores_table.insert(), [
                    {"rater": submission.rater, "unit_id": submission.unit_id, "model": score.model,
                     "prompt_id": submission.prompt_id, "mode": submission.mode, "score": score.score,
                     "criteria": score.criteria or None, "comment": score.comment, "updated_at": now}
                    for score in submission.scores])
        except IntegrityError:
            return "duplicate"  # the same form raced itself; the first one won
        return "created" if previous is None else "updated"

    def rated_units(self, rater: str) -> set[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(submissions_table.c.unit_id)
                                      .where(submissions_table.c.rater == rater))
            return {unit_id for (unit_id,) in rows}

    def score_rows(self, *, rater: str | None = None, unit_id: str | None = None) -> list[ScoreRow]:
        """Every stored score (optionally of one rater or unit), with its submission's preference."""
        query = (sa.select(scores_table, submissions_table.c.preference)
                 .join(submissions_table, (submissions_table.c.rater == scores_table.c.rater)
                       & (submissions_table.c.unit_id == scores_table.c.unit_id))
                 .order_by(scores_table.c.prompt_id, scores_table.c.unit_id, scores_table.c.rater,
                           scores_table.c.model))
        if rater is not None:
            query = query.where(scores_table.c.rater == rater)
        if unit_id is not None:
            query = query.where(scores_table.c.unit_id == unit_id)
        with self.engine.connect() as connection:
            return [ScoreRow(prompt_id=row.prompt_id, unit_id=row.unit_id, model=row.model, rater=row.rater,
                             mode=row.mode, score=row.score, criteria=row.criteria or {}, comment=row.comment,
                             preference=row.preference, updated_at=row.updated_at)
                    for row in connection.execute(query)]

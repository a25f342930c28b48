"""The comparison log on SQLAlchemy Core: SQLite (WAL) by default, PostgreSQL by URL, same code for both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (JSON, Boolean, Column, DateTime, Engine, Float, ForeignKey, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, delete, func, insert, inspect, select, tuple_)
from sqlalchemy.exc import SQLAlchemyError

from peptalk.db import make_engine, upgrade
from peptalk.records import CallRecord, ShadowExportRow
from peptalk.shadow.base import CallRole, ModelStats, ShadowStore
from peptalk.shadow.errors import ShadowStoreError

# Mirrors migrations shadow_0001 and shadow_0002; change both together (with a new revision).
metadata = MetaData()
shadow_pairs = Table(
    "shadow_pairs", metadata,
    Column("pair_id", String(64), primary_key=True),
    Column("request_id", String(128), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("user_id", String(128), nullable=False),
    Column("request", JSON, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("template_version", String(64)),
)
shadow_calls = Table(
    "shadow_calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pair_id", String(64), ForeignKey("shadow_pairs.pair_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # 0: the primary; 1..n: the candidates in policy order
    Column("role", String(16), nullable=False),
    Column("model", String(256), nullable=False, index=True),
    Column("response", Text),
    Column("error", Text),
    Column("latency_s", Float),
    Column("ttft_s", Float),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("cache_hit", Boolean, nullable=False),
    Column("usage_source", String(16)),
    Column("started_at", DateTime(timezone=True)),
    Column("truncated", Boolean),
    UniqueConstraint("pair_id", "position", name="uq_shadow_calls_pair_position"),
)
PAGE = 500


def clean(value: Any) -> Any:
    """Text a database accepts: no NUL characters and no lone surrogates, however the model garbled it."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item) for item in value]
    return value


def to_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """UTC with tzinfo; naive times (SQLite gives those back) are taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0..1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _call_row(pair_id: str, position: int, record: CallRecord) -> dict[str, Any]:
    return {
        "pair_id": pair_id, "position": position, "role": "primary" if position == 0 else "candidate",
        "model": clean(record.model)[:256], "response": clean(record.response), "error": clean(record.error),
        "latency_s": record.latency_s, "ttft_s": record.ttft_s, "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens, "cache_hit": bool(record.cache_hit),
        "usage_source": record.usage_source, "started_at": to_utc(record.started_at),
        "truncated": bool(record.truncated),
    }


def _call_record(row: Any) -> CallRecord:
    return CallRecord(model=row.model, response=row.response, error=row.error, latency_s=row.latency_s,
                      ttft_s=row.ttft_s, input_tokens=row.input_tokens, output_tokens=row.output_tokens,
                      cache_hit=row.cache_hit, started_at=to_utc(row.started_at), source="shadow",
                      usage_source=row.usage_source, truncated=bool(row.truncated))


class SqlShadowStore(ShadowStore):
    """`ShadowStore` on any SQLAlchemy engine peptalk supports (SQLite in WAL mode, PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> SqlShadowStore:
        return cls(make_engine(url))

    def migrate(self) -> None:
        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise ShadowStoreError(f"cannot migrate {self.engine.url.render_as_string()}: {exc}") from exc

    def write(self, rows: Sequence[ShadowExportRow]) -> int:
        unique: dict[str, ShadowExportRow] = {}
        for row in rows:
            if not row.pair_id:
                raise ValueError(f"shadow row of request {row.request_id} has no pair_id")
            unique.setdefault(row.pair_id, row)
        if not unique:
            return 0
        try:
            with self.engine.begin() as connection:
                stored = set(connection.scalars(select(shadow_pairs.c.pair_id)
                                                .where(shadow_pairs.c.pair_id.in_(list(unique)))))
                fresh = [row for pair_id, row in unique.items() if pair_id not in stored]
                if fresh:
                    connection.execute(insert(shadow_pairs), [
                        {"pair_id": row.pair_id, "request_id": clean(row.request_id)[:128],
                         "created_at": to_utc(row.created_at), "user_id": clean(row.user_id)[:128],
                         "request": clean(row.request), "prompt": clean(row.prompt),
                         "template_version": row.template_version}
                        for row in fresh])
                    connection.execute(insert(shadow_calls), [
                        _call_row(row.pair_id or "", position, record)
                        for row in fresh for position, record in enumerate([row.primary, *row.candidates])])
        except SQLAlchemyError as exc:
            raise ShadowStoreError(f"writing {len(unique)} shadow pairs failed: {exc}") from exc
        return len(fresh)

    @staticmethod
    def _since(since: dt.datetime | None) -> Any:
        return shadow_pairs.c.created_at >= to_utc(since) if since is not None else True

    def read(self, *, since: dt.datetime | None = None) -> Iterator[ShadowExportRow]:
        after: tuple[dt.datetime, str] | None = None
        order = (shadow_pairs.c.created_at, shadow_pairs.c.pair_id)
        while True:
            query = select(shadow_pairs).where(self._since(since)).order_by(*order).limit(PAGE)
            if after is not None:
                query = query.where(tuple_(*order) > tuple_(*after))
            with self.engine.connect() as connection:
                pairs = connection.execute(query).all()
                if not pairs:
                    return
                ids = [pair.pair_id for pair in pairs]
                calls: dict[str, list[Any]] = {pair_id: [] for pair_id in ids}
                for call in connection.execute(select(shadow_calls).where(shadow_calls.c.pair_id.in_(ids))
                                               .order_by(shadow_calls.c.pair_id, shadow_calls.c.position)):
                    calls[call.pair_id].append(call)
            for pair in pairs:
                records = [_call_record(call) for call in calls[pair.pair_id]]
                if not records or calls[pair.pair_id][0].position != 0:
                    raise ShadowStoreError(f"shadow pair {pair.pair_id} has no primary call")
                yield ShadowExportRow(pair_id=pair.pair_id, request_id=pair.request_id,
                                      created_at=to_utc(pair.created_at) or pair.created_at, user_id=pair.user_id,
                                      request=pair.request, prompt=pair.prompt, primary=records[0],
                                      candidates=records[1:], template_version=pair.template_version)
            after = (pairs[-1].created_at, pairs[-1].pair_id)

    def count(self, *, since: dt.datetime | None = None) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(shadow_pairs).where(self._since(since))) or 0)

    def stats(self, *, since: dt.datetime | None = None) -> list[ModelStats]:
        query = (select(shadow_calls.c.role, shadow_calls.c.model, shadow_calls.c.error, shadow_calls.c.latency_s,
                        shadow_calls.c.ttft_s, shadow_calls.c.output_tokens)
                 .join(shadow_pairs, shadow_pairs.c.pair_id == shadow_calls.c.pair_id).where(self._since(since)))
        groups: dict[tuple[CallRole, str], list[Any]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                groups.setdefault((row.role, row.model), []).append(row)
        result = []
        for (role, model), rows in sorted(groups.items(), key=lambda item: (item[0][0] != "primary", item[0][1])):
            ok = [row for row in rows if row.error is None]
            latencies = [row.latency_s for row in ok if row.latency_s is not None]
            ttfts = [row.ttft_s for row in ok if row.ttft_s is not None]
            tokens = [row.output_tokens for row in ok if row.output_tokens is not None]
            result.append(ModelStats(
                role=role, model=model, calls=len(rows), errors=len(rows) - len(ok),
                latency_p50_s=percentile(latencies, 0.5), latency_p95_s=percentile(latencies, 0.95),
                latency_p99_s=percentile(latencies, 0.99), ttft_p50_s=percentile(ttfts, 0.5),
                mean_output_tokens=sum(tokens) / len(tokens) if tokens else None))
        return result

    def prune(self, older_than: dt.datetime) -> int:
        cutoff = to_utc(older_than)
        old = select(shadow_pairs.c.pair_id).where(shadow_pairs.c.created_at < cutoff)
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(shadow_calls).where(shadow_calls.c.pair_id.in_(old)))
                return connection.execute(delete(shadow_pairs).where(shadow_pairs.c.created_at < cutoff)).rowcount
        except SQLAlchemyError as exc:
            raise ShadowStoreError(f"pruning shadow pairs failed: {exc}") from exc

    def delete_users(self, stored_user_ids: Sequence[str]) -> int:
        wanted = [user_id for user_id in dict.fromkeys(stored_user_ids) if user_id]
        if not wanted:
            return 0
        theirs = select(shadow_pairs.c.pair_id).where(shadow_pairs.c.user_id.in_(wanted))
        try:
            with self.engine.begin() as connection:
                if not inspect(connection).has_table(shadow_pairs.name):
                    return 0  # the log was never created: nothing stored
                connection.execute(delete(shadow_calls).where(shadow_calls.c.pair_id.in_(theirs)))
                return connection.execute(delete(shadow_pairs).where(shadow_pairs.c.user_id.in_(wanted))).rowcount
        except SQLAlchemyError as exc:
            raise ShadowStoreError(f"deleting a user's shadow pairs failed: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

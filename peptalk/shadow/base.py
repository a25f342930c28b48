"""The comparison log's interface: where mirrored pairs are stored, read back, summarised and pruned."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from peptalk.records import ShadowExportRow

CallRole = Literal["primary", "candidate"]


@dataclass(frozen=True)
class ModelStats:
    """One model's share of the log, in one role: volume, errors and latency percentiles."""

    role: CallRole
    model: str
    calls: int
    errors: int
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_p99_s: float | None
    ttft_p50_s: float | None
    mean_output_tokens: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


class ShadowStore(abc.ABC):
    """A durable log of primary/candidate pairs (`ShadowExportRow`s, keyed by `pair_id`)."""

    @abc.abstractmethod
    def migrate(self) -> None:
        """Creates or upgrades the tables the store needs."""

    @abc.abstractmethod
    def write(self, rows: Sequence[ShadowExportRow]) -> int:
        """Commits `rows` in one transaction; rows whose `pair_id` is already stored are skipped.

        Returns how many rows were new. Once it returns, those rows are durable.
        """

    @abc.abstractmethod
    def read(self, *, since: dt.datetime | None = None) -> Iterator[ShadowExportRow]:
        """Every stored pair created at or after `since`, oldest first."""

    @abc.abstractmethod
    def count(self, *, since: dt.datetime | None = None) -> int:
        """How many pairs were created at or after `since`."""

    @abc.abstractmethod
    def stats(self, *, since: dt.datetime | None = None) -> list[ModelStats]:
        """Per role and model: calls, errors and latency percentiles."""

    @abc.abstractmethod
    def prune(self, older_than: dt.datetime) -> int:
        """Deletes pairs created before `older_than`; returns how many."""

    @abc.abstractmethod
    def delete_users(self, stored_user_ids: Sequence[str]) -> int:
        """Deletes every pair (and its calls) stored under one of these user ids; returns how many pairs."""

    def close(self) -> None:
        """Releases connections."""

"""The SLO gate: reads Locust's stats CSV and checks p95 latency, error rate and throughput against a YAML file."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loadtest.errors import ResultsError, SloFileError

HTTP_TYPES = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
LIMIT_KEYS = ("p95_ms", "max_error_rate", "min_rps")


@dataclass(frozen=True)
class Limits:
    """Thresholds; `None` leaves a metric unchecked."""

    p95_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None


@dataclass(frozen=True)
class Slo:
    """Overall limits over the HTTP request rows, plus limits per Locust row name (e.g. `stream: first token`)."""

    overall: Limits
    endpoints: dict[str, Limits] = field(default_factory=dict)


@dataclass(frozen=True)
class StatsRow:
    """One row of `<prefix>_stats.csv`."""

    type: str
    name: str
    requests: int
    failures: int
    p95_ms: float
    rps: float


@dataclass(frozen=True)
class Check:
    """One threshold against what was measured."""

    scope: str
    metric: str
    observed: float
    threshold: float
    passed: bool


def _limits(raw: Any, where: str) -> Limits:
    if not isinstance(raw, dict):
        raise SloFileError(f"{where} must be a mapping of {', '.join(LIMIT_KEYS)}")
    unknown = sorted(set(raw) - set(LIMIT_KEYS) - {"endpoints"})
    if unknown:
        raise SloFileError(f"{where}: unknown key(s) {unknown}; known: {list(LIMIT_KEYS)}")
    values: dict[str, float] = {}
    for key in LIMIT_KEYS:
        if raw.get(key) is None:
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SloFileError(f"{where}.{key} must be a number >= 0, got {value!r}")
        values[key] = float(value)
    if values.get("max_error_rate", 0.0) > 1:
        raise SloFileError(f"{where}.max_error_rate is a fraction in [0, 1], got {values['max_error_rate']}")
    return Limits(**values)


def load_slo(path: Path) -> Slo:
    """Parses an SLO YAML file; `SloFileError` says what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SloFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SloFileError(f"{path} is not valid YAML: {exc}") from exc
    overall = _limits(raw, str(path.name))
    endpoints_raw = raw.get("endpoints") or {}
    if not isinstance(endpoints_raw, dict):
        raise SloFileError("endpoints must map a Locust row name to its limits")
    endpoints = {str(name): _limits(limits, f"endpoints[{name!r}]") for name, limits in endpoints_raw.items()}
    if overall == Limits() and not endpoints:
        raise SloFileError(f"{path} sets no threshold")
    return Slo(overall, endpoints)


def stats_csv(results: Path) -> Path:
    """The `*_stats.csv` Locust wrote into `results`."""
    if not results.is_dir():
        raise ResultsError(f"results folder {results} does not exist")
    found = sorted(results.glob("*_stats.csv"))
    if not found:
        raise ResultsError(f"no Locust *_stats.csv in {results} (was Locust run with --csv?)")
    return found[0]


def read_stats(path: Path) -> list[StatsRow]:
    """Every request row of Locust's stats CSV, the `Aggregated` row left out."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [
                StatsRow(type=row["Type"], name=row["Name"], requests=int(row["Request Count"]),
                         failures=int(row["Failure Count"]), p95_ms=float(row["95%"] if row["95%"] != "N/A" else 0),
                         rps=float(row["Requests/s"]))
                for row in csv.DictReader(handle) if row.get("Name") != "Aggregated"
            ]
    except (KeyError, ValueError) as exc:
        raise ResultsError(f"{path} is not a Locust stats CSV: {exc}") from exc
    return rows


def _check(scope: str, rows: list[StatsRow], limits: Limits) -> list[Check]:
    requests = sum(row.requests for row in rows)
    checks = []
    if limits.p95_ms is not None:
        worst = max((row.p95_ms for row in rows if row.requests), default=float("inf"))
        checks.append(Check(scope, "p95_ms", worst, limits.p95_ms, worst <= limits.p95_ms))
    if limits.max_error_rate is not None:
        rate = sum(row.failures for row in rows) / requests if requests else 1.0
        checks.append(Check(scope, "error_rate", rate, limits.max_error_rate, rate <= limits.max_error_rate))
    if limits.min_rps is not None:
        rps = sum(row.rps for row in rows)
        checks.append(Check(scope, "rps", rps, limits.min_rps, rps >= limits.min_rps))
    return checks


def evaluate(rows: list[StatsRow], slo: Slo) -> list[Check]:
    """Overall limits over the HTTP rows (p95: the worst row's); then each named row's own limits.

    A row named in the SLO but absent from the results fails: no traffic is not a pass.
    """
    checks = _check("overall", [row for row in rows if row.type in HTTP_TYPES], slo.overall)
    for name, limits in slo.endpoints.items():
        checks += _check(name, [row for row in rows if row.name == name], limits)
    return checks

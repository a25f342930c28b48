"""What the report reads: `peptalk eval run` outputs (scores.jsonl, agreement.jsonl, calls.jsonl), human ratings, timed calls and the probe tables.

Every input is optional. A missing or unreadable one becomes a note on its section, never an exception.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.call_sources import load_calls, load_shadow_calls
from evaluation.errors import RecordFileError
from evaluation.records import CallRecord

SCALE_MAX = {"0-1": 1.0, "0-10": 10.0, "0-100": 100.0}
HUMAN = "human"


@dataclass(frozen=True)
class Score:
    """One evaluator's (or one human's) score of one model's answer to one prompt."""

    evaluator: str
    prompt_id: str
    model: str
    score: float | None
    scale: str = "0-10"
    parsed: bool = True
    rater: str | None = None
    judge_preset: str | None = None  # the judge preset that produced it (`slam@<hash>`), for judge scores

    @property
    def normalised(self) -> float | None:
        """The score on 0-1, whatever its scale."""
        return None if self.score is None else self.score / SCALE_MAX.get(self.scale, 10.0)


@dataclass
class ReportSources:
    """Paths of every input; `eval_dir` supplies the standard file names the explicit paths leave out."""

    eval_dir: Path | None = None
    scores: Path | None = None
    agreement: Path | None = None
    humans: Path | None = None
    calls: list[Path] = field(default_factory=list)
    shadow: list[Path] = field(default_factory=list)
    probe_db: str | None = None
    prices: Path | None = None
    hosting: Path | None = None  # YAML {model: usd_per_hour} for self-hosted node prices

    def resolved(self, explicit: Path | None, name: str) -> Path | None:
        if explicit is not None:
            return explicit
        if self.eval_dir is not None and (self.eval_dir / name).exists():
            return self.eval_dir / name
        return None

    def call_files(self) -> list[Path]:
        default = self.resolved(None, "calls.jsonl")
        return list(self.calls) or ([default] if default else [])


@dataclass
class ReportData:
    """Everything loaded, with notes on what was missing or unreadable, per report section."""

    scores: list[Score] = field(default_factory=list)
    agreement: list[dict[str, Any]] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    hosting: dict[str, float] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)  # section -> files read
    notes: dict[str, list[str]] = field(default_factory=dict)  # section -> problems

    def note(self, section: str, message: str) -> None:
        self.notes.setdefault(section, []).append(message)

    def used(self, section: str, source: str) -> None:
        self.sources.setdefault(section, []).append(source)

    @property
    def evaluators(self) -> list[str]:
        names = sorted({score.evaluator for score in self.scores if score.evaluator != HUMAN})
        return ([HUMAN] if any(score.evaluator == HUMAN for score in self.scores) else []) + names


def _jsonl_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"line {number} is not a JSON object")
            rows.append(row)
    return rows


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return number if number == number else None  # NaN counts as missing


def read_scores(path: Path) -> list[Score]:
    """`scores.jsonl` rows `{evaluator, prompt_id, model, score, scale, parsed, raw}`."""
    scores = []
    for row in _jsonl_rows(path):
        score = _number(row.get("score"))
        parsed = bool(row.get("parsed", score is not None)) and score is not None
        scores.append(Score(str(row["evaluator"]), str(row["prompt_id"]), str(row["model"]),
                            score if parsed else None, str(row.get("scale", "0-10")), parsed,
                            judge_preset=row.get("judge_preset")))
    return scores


def read_human_ratings(path: Path) -> list[Score]:
    """Human ratings `(prompt_id, model, rater, score)` on 0-10, from CSV or JSONL."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows: list[dict[str, Any]] = list(csv.DictReader(handle))
    else:
        rows = _jsonl_rows(path)
    ratings = []
    for row in rows:
        score = _number(row.get("score"))
        ratings.append(Score(HUMAN, str(row["prompt_id"]), str(row["model"]), score, "0-10", score is not None,
                             rater=str(row.get("rater", ""))))
    return ratings


READ_ERRORS = (OSError, ValueError, KeyError, TypeError, RecordFileError)


def load_report_data(sources: ReportSources) -> ReportData:
    """Reads every input that is there; each failure is a note on its section."""
    data = ReportData()
    for section, name, explicit, reader in (
        ("quality", "scores.jsonl", sources.scores, read_scores),
        ("quality", "human ratings", sources.humans, read_human_ratings),
    ):
        path = sources.resolved(explicit, name)
        if path is None:
            data.note(section, f"no {name} given")
            continue
        try:
            data.scores.extend(reader(path))
            data.used(section, str(path))
        except READ_ERRORS as exc:
            data.note(section, f"{path}: unreadable ({type(exc).__name__}: {exc})")
    agreement = sources.resolved(sources.agreement, "agreement.jsonl")
    if agreement is not None:
        try:
            data.agreement = _jsonl_rows(agreement)
            data.used("agreement", str(agreement))
        except READ_ERRORS as exc:
            data.note("agreement", f"{agreement}: unreadable ({type(exc).__name__}: {exc})")
    _load_calls(sources, data)
    _load_hosting(sources, data)
    return data


def _load_calls(sources: ReportSources, data: ReportData) -> None:
    for path, loader in [(path, load_calls) for path in sources.call_files()] + \
                        [(path, load_shadow_calls) for path in sources.shadow]:
        try:
            data.calls.extend(loader(path))
            data.used("latency", str(path))
        except READ_ERRORS as exc:
            data.note("latency", f"{path}: unreadable ({exc})")
    if sources.probe_db:
        data.calls.extend(_probe_calls(sources.probe_db, data))
    if not data.calls:
        data.note("latency", "no timed calls (give calls.jsonl, a shadow export or the probe database)")


def _probe_calls(url: str, data: ReportData) -> list[CallRecord]:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from evaluation.probe_store import ProbeStore
    from peptalk.db import make_engine

    engine = None
    try:
        engine = make_engine(url)
        if not inspect(engine).has_table("probe_calls"):
            data.note("latency", f"{engine.url.render_as_string()}: no probe tables")
            return []
        records = ProbeStore(engine).call_records()
        data.used("latency", f"probes in {engine.url.render_as_string()}")
        return records
    except (SQLAlchemyError, OSError, ValueError) as exc:
        data.note("latency", f"probe database unreadable ({type(exc).__name__}: {exc})")
        return []
    finally:
        if engine is not None:
            engine.dispose()


def _load_hosting(sources: ReportSources, data: ReportData) -> None:
    if sources.hosting is None:
        return
    import yaml

    try:
        raw: Any = yaml.safe_load(sources.hosting.read_text(encoding="utf-8")) or {}
        data.hosting = {str(model): float(price) for model, price in dict(raw.get("models", raw)).items()}
        data.used("cost", str(sources.hosting))
    except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError) as exc:
        data.note("cost", f"{sources.hosting}: unreadable ({type(exc).__name__}: {exc})")

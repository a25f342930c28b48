"""Typed errors of the offline evaluation; callers branch on the type, never on the message."""

from __future__ import annotations

# The price table is a leaf that serving shares; its errors are defined there and re-exported here.
from peptalk.errors import PriceTableError, UnknownPriceError


class EvaluationError(Exception):
    """Base of every evaluation error."""


class DatasetError(EvaluationError, ValueError):
    """A dataset or shadow-export file is missing or malformed (the message names the line)."""


class HumanRatingsError(EvaluationError, ValueError):
    """A human-ratings file is missing or malformed (the message names the row)."""


class JudgeError(EvaluationError):
    """The judge model could not be called, even after the bounded retries."""


class MetricUnavailable(EvaluationError):
    """A similarity metric cannot run here (its model or endpoint cannot be had); `reason` says why."""

    def __init__(self, metric: str, reason: str) -> None:
        super().__init__(f"{metric} is unavailable: {reason}")
        self.metric = metric
        self.reason = reason


class CostInputError(EvaluationError, ValueError):
    """A cost-model input is out of range (a negative count, a zero throughput ...)."""


class RecordFileError(EvaluationError, ValueError):
    """An input file of records (calls, shadow exports, scores) cannot be read."""

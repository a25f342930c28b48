"""Typed errors of the offline evaluation; callers branch on the type, never on the message."""

from __future__ import annotations


class EvaluationError(Exception):
    """Base of every evaluation error."""


class CostInputError(EvaluationError, ValueError):
    """A cost-model input is out of range (a negative count, a zero throughput ...)."""


class UnknownPriceError(EvaluationError, KeyError):
    """The price table has no entry for the named API model."""

    def __init__(self, model: str, known: list[str]) -> None:
        super().__init__(model)
        self.model = model
        self.known = known

    def __str__(self) -> str:
        return f"no price for model {self.model!r}; the price table has: {', '.join(self.known) or 'nothing'}"


class PriceTableError(EvaluationError, ValueError):
    """A price table file is missing, unreadable or malformed."""


class RecordFileError(EvaluationError, ValueError):
    """An input file of records (calls, shadow exports, scores) cannot be read."""

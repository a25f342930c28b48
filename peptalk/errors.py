"""Typed errors of peptalk's own leaf modules; callers branch on the type, never on the message."""

from __future__ import annotations


class PeptalkError(Exception):
    """Base of the errors defined here."""


class PriceTableError(PeptalkError, ValueError):
    """A price table file is missing, unreadable or malformed."""


class UnknownPriceError(PeptalkError, KeyError):
    """The price table has no entry for the named API model."""

    def __init__(self, model: str, known: list[str]) -> None:
        super().__init__(model)
        self.model = model
        self.known = known

    def __str__(self) -> str:
        return f"no price for model {self.model!r}; the price table has: {', '.join(self.known) or 'nothing'}"

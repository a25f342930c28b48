"""Typed errors of the serving package (the router's own are in `router.errors`); callers branch on the type."""

from __future__ import annotations


class PepTalkError(Exception):
    """Base of peptalk's serving errors."""


class PriceTableError(PepTalkError, ValueError):
    """A price table file is missing, unreadable or malformed."""


class UnknownPriceError(PepTalkError, KeyError):
    """The price table has no entry for the named API model."""

    def __init__(self, model: str, known: list[str]) -> None:
        super().__init__(model)
        self.model = model
        self.known = known

    def __str__(self) -> str:
        return f"no price for model {self.model!r}; the price table has: {', '.join(self.known) or 'nothing'}"


class NotStarted(PepTalkError):
    """A call reached peptalk before its services were started, or after they stopped."""


class BlockingCallOnEventLoop(PepTalkError):
    """A blocking call (`PepTalk.invoke`, `with PepTalk(...)`) was made on a thread that runs an event loop."""


class MetricsClash(PepTalkError):
    """A name among peptalk's metrics is already taken in the registry they were to be exposed in."""

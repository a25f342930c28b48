"""Typed errors of the serving package (the router's own are in `router.errors`)."""

from __future__ import annotations


class PepTalkError(Exception):
    """Base of peptalk's serving errors."""


class NotStarted(PepTalkError):
    """A call reached peptalk before its services were started, or after they stopped."""


class BlockingCallOnEventLoop(PepTalkError):
    """A blocking call (`PepTalk.invoke`, `with PepTalk(...)`) was made on a thread that runs an event loop."""


class MetricsClash(PepTalkError):
    """A name among peptalk's metrics is already taken in the registry they were to be exposed in."""

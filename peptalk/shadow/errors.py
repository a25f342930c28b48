"""Typed errors of shadow traffic; callers branch on the type, never on the message."""

from __future__ import annotations

from router.errors import ConfigError


class ShadowError(Exception):
    """Base of every shadow-traffic error."""


class ShadowConfigError(ShadowError, ConfigError):
    """The shadow policy names something the router does not know, or is otherwise unusable."""


class ShadowStoreError(ShadowError):
    """The comparison log could not be read or written."""

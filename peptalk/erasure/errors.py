"""Typed errors of erasure."""

from __future__ import annotations


class ErasureError(Exception):
    """Base class of every erasure error."""


class InvalidUserId(ErasureError, ValueError):
    """The user id is not one the app could have stored."""

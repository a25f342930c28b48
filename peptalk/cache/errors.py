"""Typed errors of the semantic cache."""

from __future__ import annotations


class CacheError(Exception):
    """Base class of every semantic-cache error."""


class SnapshotError(CacheError):
    """A saved cache snapshot is missing a part, unreadable, or inconsistent (index against metadata)."""

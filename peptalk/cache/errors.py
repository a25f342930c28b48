"""Typed errors of the semantic cache."""

from __future__ import annotations


class CacheError(Exception):
    """Base class of every semantic-cache error."""


class CacheStoreError(CacheError):
    """The cache's database cannot be migrated, read or written."""

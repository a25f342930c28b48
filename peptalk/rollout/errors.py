"""Typed errors of the rollout; callers branch on the type, never on the message."""

from __future__ import annotations


class RolloutError(Exception):
    """Base of every rollout error."""


class PlanError(RolloutError):
    """The rollout plan file is missing, not YAML, or breaks a rule; `key` names the offending key."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class RolloutStateError(RolloutError):
    """The requested command does not fit the rollout's state (no active rollout, nothing to approve, ...)."""


class RolloutStoreError(RolloutError):
    """The rollout tables could not be read or written."""


class ConflictError(RolloutStoreError):
    """Another process changed the rollout first (optimistic concurrency); re-read and decide again."""

"""Shadow traffic: mirror sampled requests to candidate models off the hot path, and log each pair."""

from peptalk.shadow.base import ModelStats, ShadowStore
from peptalk.shadow.errors import ShadowConfigError, ShadowError, ShadowStoreError
from peptalk.shadow.layer import ShadowJob, ShadowLayer
from peptalk.shadow.policy import ShadowPolicy
from peptalk.shadow.store import SqlShadowStore
from peptalk.shadow.writer import BatchWriter

__all__ = [
    "BatchWriter",
    "ModelStats",
    "ShadowConfigError",
    "ShadowError",
    "ShadowJob",
    "ShadowLayer",
    "ShadowPolicy",
    "ShadowStore",
    "ShadowStoreError",
    "SqlShadowStore",
]

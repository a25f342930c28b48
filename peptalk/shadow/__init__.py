"""Shadow traffic: mirror sampled requests to candidate models off the hot path, and log each pair."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peptalk.lazy import lazy_exports
from peptalk.shadow.settings import ShadowSettings

if TYPE_CHECKING:
    from peptalk.shadow.base import ModelStats, ShadowStore
    from peptalk.shadow.errors import ShadowConfigError, ShadowError, ShadowStoreError
    from peptalk.shadow.layer import ShadowJob, ShadowLayer
    from peptalk.shadow.policy import ShadowPolicy
    from peptalk.shadow.store import SqlShadowStore
    from peptalk.shadow.writer import BatchWriter

_EXPORTS = {
    "ModelStats": "peptalk.shadow.base",
    "ShadowStore": "peptalk.shadow.base",
    "ShadowConfigError": "peptalk.shadow.errors",
    "ShadowError": "peptalk.shadow.errors",
    "ShadowStoreError": "peptalk.shadow.errors",
    "ShadowJob": "peptalk.shadow.layer",
    "ShadowLayer": "peptalk.shadow.layer",
    "ShadowPolicy": "peptalk.shadow.policy",
    "SqlShadowStore": "peptalk.shadow.store",
    "BatchWriter": "peptalk.shadow.writer",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["ShadowSettings", *_EXPORTS]  # the eager names, then the lazy ones

"""Builds the shadow layer from the settings (or nothing, when no candidate is configured)."""

from __future__ import annotations

from peptalk.settings import Settings
from peptalk.shadow.layer import ShadowLayer
from peptalk.shadow.policy import ShadowPolicy
from peptalk.shadow.store import SqlShadowStore
from router.call import ChatLayer
from router.router import Router


def shadow_layer(settings: Settings, inner: ChatLayer, router: Router) -> ShadowLayer | None:
    """`ShadowLayer` over `inner` when `PEPTALK_SHADOW_CANDIDATES` names any; the engine connects lazily."""
    policy = ShadowPolicy.from_settings(settings)
    if not policy.enabled:
        return None
    return ShadowLayer(inner, router, policy=policy, store=SqlShadowStore.from_url(settings.resolved_database_url()))

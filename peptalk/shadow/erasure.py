"""Erasure of one user's shadow pairs, found through the same salted hash that stored them (issue 19)."""

from __future__ import annotations

import asyncio

from peptalk.shadow.base import ShadowStore
from peptalk.shadow.layer import ShadowLayer
from peptalk.shadow.policy import ShadowPolicy


class ShadowUserData:
    """`Forgettable` over the comparison log: committed pairs in the store, and (in a serving process) pending ones."""

    name = "shadow_pairs"

    def __init__(self, store: ShadowStore, policy: ShadowPolicy, layer: ShadowLayer | None = None) -> None:
        self.store = store
        self.policy = policy
        self.layer = layer

    def stored_ids(self, user_id: str) -> set[str]:
        """How the log may hold this user: the salted hash, and the raw id (rows logged while hashing was off)."""
        return {self.policy.stored_user_id(user_id), user_id}

    async def forget_user(self, user_id: str) -> int:
        stored = self.stored_ids(user_id)
        dropped = await self.layer.forget_pending(stored) if self.layer is not None else 0
        return dropped + await asyncio.to_thread(self.store.delete_users, sorted(stored))

"""What every store of personal data implements so that one user's data can be erased (issue 19)."""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

# The request schema's rule for `user_id` (peptalk/schema.py): erasure accepts exactly the ids the app stores.
USER_ID = re.compile(r"^[A-Za-z0-9_.@:+\-]{1,128}$")


@runtime_checkable
class Forgettable(Protocol):
    """A store holding data per app user, able to delete all of one user's data."""

    name: str  # what the store holds, as erasure reports name it ("shadow_pairs", "cache_entries", ...)

    async def forget_user(self, user_id: str) -> int:
        """Deletes everything stored for `user_id`; returns how many records went."""
        ...

"""Erases one user's data from every store that holds personal data, and says how much went where."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from peptalk.erasure.base import USER_ID, Forgettable
from peptalk.erasure.errors import InvalidUserId


@dataclass(frozen=True)
class ErasureReport:
    """How many records of one user each store deleted."""

    user_id: str
    deleted: dict[str, int]


def checked_user_id(user_id: str) -> str:
    if not USER_ID.fullmatch(user_id):
        raise InvalidUserId(f"user_id {user_id!r} is not a valid user id (1-128 of A-Z a-z 0-9 _ . @ : + -)")
    return user_id


async def forget_user(user_id: str, stores: Sequence[Forgettable]) -> ErasureReport:
    """Runs every store's `forget_user`, in order; a store that fails stops the erasure with its error."""
    checked_user_id(user_id)
    deleted: dict[str, int] = {}
    for store in stores:
        deleted[store.name] = deleted.get(store.name, 0) + await store.forget_user(user_id)
    return ErasureReport(user_id=user_id, deleted=deleted)

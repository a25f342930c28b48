"""The admin endpoint the host backend calls to erase one user: `DELETE /admin/users/{user_id}` with an admin key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Header, Path

from peptalk.erasure.base import Forgettable
from peptalk.erasure.service import forget_user
from peptalk.erasure.stores import serving_stores
from peptalk.security.admin import check_admin_key

if TYPE_CHECKING:
    from peptalk.service import PepTalk

ADMIN_PREFIX = "/admin/"


def erasure_routes(peptalk: PepTalk) -> APIRouter:
    """`DELETE /admin/users/{user_id}` over `peptalk`'s stores (found when first asked, after the stack is built)."""
    routes = APIRouter(prefix="/admin", tags=["admin"])
    stores: list[Forgettable] = []

    @routes.delete("/users/{user_id}")
    async def erase_user(
        user_id: Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:+\-]+$")],
        x_admin_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Deletes everything stored for `user_id`: shadow pairs, cache entries, rate-limit counters."""
        check_admin_key(peptalk.settings.admin_api_keys, x_admin_key)
        if not stores:
            stores.extend(serving_stores(peptalk))
        report = await forget_user(user_id, stores)
        return {"user_id": report.user_id, "deleted": report.deleted}

    return routes

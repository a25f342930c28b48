"""The admin endpoint the host backend calls to erase one user: `DELETE /admin/users/{user_id}` with an admin key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request

from peptalk.erasure.service import forget_user
from peptalk.erasure.stores import serving_stores
from peptalk.security.admin import check_admin_key

ADMIN_PREFIX = "/admin/"
routes = APIRouter(prefix="/admin", tags=["admin"])


@routes.delete("/users/{user_id}")
async def erase_user(
    request: Request,
    user_id: Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:+\-]+$")],
    x_admin_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Deletes everything stored for `user_id`: shadow pairs, cache entries, rate-limit counters."""
    check_admin_key(request, x_admin_key)
    state = request.app.state
    if getattr(state, "erasure_stores", None) is None:
        state.erasure_stores = serving_stores(state, state.settings)
    report = await forget_user(user_id, state.erasure_stores)
    return {"user_id": report.user_id, "deleted": report.deleted}

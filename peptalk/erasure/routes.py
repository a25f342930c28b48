"""The admin endpoint the host backend calls to erase one user: `DELETE /admin/users/{user_id}` with an admin key."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Request

from peptalk.erasure.service import forget_user
from peptalk.erasure.stores import serving_stores

ADMIN_PREFIX = "/admin/"
ADMIN_KEY_HEADER = "X-Admin-Key"
routes = APIRouter(prefix="/admin", tags=["admin"])


def check_admin_key(request: Request, presented: str | None) -> None:
    """401 without a configured admin key; 403 when no admin key is configured at all (the endpoint is off)."""
    keys = [key.get_secret_value().encode() for key in request.app.state.settings.admin_api_keys
            if key.get_secret_value()]
    if not keys:
        raise HTTPException(403, detail="the admin endpoints are off: set PEPTALK_ADMIN_API_KEYS to enable them")
    if presented is None or not any([hmac.compare_digest(presented.encode(), key) for key in keys]):
        raise HTTPException(401, detail=f"{'missing' if presented is None else 'invalid'} admin key: send one of "
                                        f"PEPTALK_ADMIN_API_KEYS in the {ADMIN_KEY_HEADER} header",
                            headers={"WWW-Authenticate": f'ApiKey header="{ADMIN_KEY_HEADER}"'})


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

"""The admin key check shared by every admin route (erasure, rollout status): `X-Admin-Key` against PEPTALK_ADMIN_API_KEYS."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from fastapi import HTTPException
from pydantic import SecretStr

ADMIN_KEY_HEADER = "X-Admin-Key"


def check_admin_key(admin_api_keys: Sequence[SecretStr], presented: str | None) -> None:
    """401 without a valid admin key; 403 when no admin key is configured at all (the admin routes are off)."""
    keys = [key.get_secret_value().encode() for key in admin_api_keys if key.get_secret_value()]
    if not keys:
        raise HTTPException(403, detail="the admin endpoints are off: set PEPTALK_ADMIN_API_KEYS to enable them")
    if presented is None or not any([hmac.compare_digest(presented.encode(), key) for key in keys]):
        raise HTTPException(401, detail=f"{'missing' if presented is None else 'invalid'} admin key: send one of "
                                        f"PEPTALK_ADMIN_API_KEYS in the {ADMIN_KEY_HEADER} header",
                            headers={"WWW-Authenticate": f'ApiKey header="{ADMIN_KEY_HEADER}"'})

"""API keys: outside dev mode every endpoint but the exempt ones needs a configured key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from peptalk.security.asgi import CLIENT_KEY, Receive, Send, header, send_json

API_KEY_HEADER = "X-API-Key"
EXEMPT_PATHS = frozenset({"/healthz"})
ADMIN_PREFIX = "/admin/"  # the admin endpoints check their own, separate keys (peptalk/erasure/routes.py)


def key_id(key: str) -> str:
    """A short, stable, non-secret name for a key (for rate-limit buckets and logs)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def presented_key(scope: dict[str, Any]) -> str | None:
    """The key from `X-API-Key`, or from `Authorization: Bearer <key>` (what Prometheus scrapers can send)."""
    key = header(scope, API_KEY_HEADER)
    if key:
        return key
    authorization = header(scope, "authorization") or ""
    scheme, _, token = authorization.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


class ApiKeyMiddleware:
    """ASGI middleware: 401 unless the request carries one of `keys`; records which key it was."""

    def __init__(self, app: Any, *, keys: Iterable[str], exempt: frozenset[str] = EXEMPT_PATHS) -> None:
        self.app = app
        self._keys = [key.encode() for key in keys if key]
        self.exempt = exempt

    def _matches(self, presented: str) -> bool:
        candidate = presented.encode()
        # Compare against every key in constant time, so timing does not reveal which prefix matched.
        return any([hmac.compare_digest(candidate, key) for key in self._keys])

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        presented = presented_key(scope)
        if presented is None or not self._matches(presented):
            reason = "missing" if presented is None else "invalid"
            await send_json(send, 401, {"detail": f"{reason} API key: send a configured key in the "
                                                  f"{API_KEY_HEADER} header (or Authorization: Bearer)"},
                            headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'})
            return
        scope[CLIENT_KEY] = f"key:{key_id(presented)}"
        await self.app(scope, receive, send)

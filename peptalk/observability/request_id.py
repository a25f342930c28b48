"""Request ids: taken from `X-Request-ID` or generated, set for the whole request, returned in the response."""

from __future__ import annotations

import re
import uuid
from typing import Any

from router.call import current_request_id

HEADER = "x-request-id"
# A caller's id is kept only when it is short and plain, so it cannot forge log lines or headers.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

Scope = dict[str, Any]


def accepted_request_id(value: str | None) -> str:
    """The caller's id when it is acceptable, else a fresh one."""
    if value and _ACCEPTED.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """ASGI middleware: sets `router.call.current_request_id` per request and echoes it as `X-Request-ID`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((value.decode("latin-1") for name, value in scope["headers"] if name == HEADER.encode()), None)
        request_id = accepted_request_id(incoming)
        token = current_request_id.set(request_id)

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != HEADER.encode()]
                message = {**message, "headers": [*headers, (HEADER.encode(), request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


"""Checks LangServe request envelopes before LangServe does: its schema lets through shapes its handlers crash on.

Found by fuzzing (`tests/test_fuzz_openapi.py`): a body that is not UTF-8, `"config": null`, `"kwargs"` that is
not an object, and `"inputs": null` each made LangServe answer 500. Here `null` for an optional key means
"absent", and every other wrong shape gets a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from peptalk.security.asgi import Receive, Send, replaying, send_json
from peptalk.security.parsed import ParsedRequest, in_scope, parsed_request

NULLABLE_KEYS = ("config", "kwargs")


class EnvelopeError(ValueError):
    """The request envelope has a wrong shape; `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def checked(parsed: ParsedRequest) -> dict[str, Any] | None:
    """The payload with `null` optional keys dropped, `None` when it needs no change; `EnvelopeError` when wrong."""
    if not parsed.utf8:
        raise EnvelopeError("body", "the request body is not UTF-8 text")
    if not parsed.is_json:
        return None  # LangServe answers malformed JSON with a 422 itself
    payload, endpoint = parsed.payload, parsed.endpoint
    if not isinstance(payload, dict):
        raise EnvelopeError("body", "the request body must be a JSON object")
    present = {key: value for key, value in payload.items() if not (key in NULLABLE_KEYS and value is None)}
    if "kwargs" in present and not isinstance(present["kwargs"], dict):
        raise EnvelopeError("kwargs", "`kwargs` must be an object")
    config = present.get("config")
    if endpoint == "batch":
        if not isinstance(present.get("inputs"), list):
            raise EnvelopeError("inputs", "`inputs` must be a list of inputs")
        configs = config if isinstance(config, list) else [config]
        if "config" in present and not all(isinstance(item, dict) for item in configs):
            raise EnvelopeError("config", "`config` must be an object or a list of objects")
    elif "config" in present and not isinstance(config, dict):
        raise EnvelopeError("config", "`config` must be an object")
    return None if len(present) == len(payload) else present


class EnvelopeMiddleware:
    """ASGI middleware: a 422 for a wrong envelope on the generation endpoints, instead of LangServe's 500."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        parsed = parsed_request(scope)  # None: not a generating request (`ParseRequestMiddleware` is outside)
        if parsed is None:
            await self.app(scope, receive, send)
            return
        try:
            fixed = checked(parsed)
        except EnvelopeError as exc:
            await send_json(send, 422, {"detail": [{"loc": ["body", exc.field], "msg": str(exc),
                                                    "type": "envelope"}]})
            return
        if fixed is not None:
            parsed = parsed.with_payload(fixed)
            scope, receive = in_scope(scope, parsed), replaying(parsed.body, receive)
        await self.app(scope, receive, send)

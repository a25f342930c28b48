"""Checks LangServe request envelopes before LangServe does: its schema lets through shapes its handlers crash on.

Found by fuzzing (`tests/test_fuzz_openapi.py`): a body that is not UTF-8, `"config": null`, `"kwargs"` that is
not an object, and `"inputs": null` each made LangServe answer 500. Here `null` for an optional key means
"absent", and every other wrong shape gets a 422 naming the field.
"""

from __future__ import annotations

import json
import re
from typing import Any

from peptalk.security.asgi import BodyTooLarge, Receive, Send, read_body, replaying, send_json
from peptalk.security.rate_limit import GENERATION_ENDPOINTS

NULLABLE_KEYS = ("config", "kwargs")


class EnvelopeError(ValueError):
    """The request envelope has a wrong shape; `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def envelope_path_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}/(?:c/[^/]+/)?(?P<endpoint>{'|'.join(GENERATION_ENDPOINTS)})$")


def checked(body: bytes, endpoint: str) -> bytes | None:
    """The body with `null` optional keys dropped, `None` when it needs no change; `EnvelopeError` when wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvelopeError("body", "the request body is not UTF-8 text") from None
    try:
        payload = json.loads(text)
    except ValueError:
        return None  # LangServe answers malformed JSON with a 422 itself
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
    return None if len(present) == len(payload) else json.dumps(present).encode()


class EnvelopeMiddleware:
    """ASGI middleware: a 422 for a wrong envelope on the generation endpoints, instead of LangServe's 500."""

    def __init__(self, app: Any, *, prefix: str, max_body_bytes: int) -> None:
        self.app = app
        self.pattern = envelope_path_pattern(prefix)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        match = self.pattern.match(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, limit=self.max_body_bytes)
            fixed = checked(body, match["endpoint"])
        except BodyTooLarge as exc:
            await send_json(send, 413, {"detail": str(exc)})
            return
        except EnvelopeError as exc:
            await send_json(send, 422, {"detail": [{"loc": ["body", exc.field], "msg": str(exc),
                                                    "type": "envelope"}]})
            return
        if fixed is not None:
            body = fixed
            headers = [(name, value) for name, value in scope["headers"] if name != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await self.app(scope, replaying(body, receive), send)

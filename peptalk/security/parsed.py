"""Each request to the chain's generating endpoints is read, matched and parsed once, here, for every layer.

`ParseRequestMiddleware` (outside the rate limiter, the envelope check and the exact-hit fast path) reads the
body, matches the route and parses the JSON, and leaves a `ParsedRequest` in the ASGI scope. Those layers,
and the dependency in front of LangServe's endpoints (`peptalk.endpoints`), read it from there; the
dependency also hands LangServe the parsed body, so LangServe does not parse it again.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from peptalk.security.asgi import BodyTooLarge, Receive, Send, read_body, replaying, send_json

Endpoint = Literal["invoke", "batch", "stream", "stream_log", "stream_events"]
# LangServe's generating endpoints, also under a config hash (`/peptalk/c/<hash>/invoke`).
GENERATION_ENDPOINTS: tuple[Endpoint, ...] = get_args(Endpoint)
SCOPE_KEY = "peptalk.parsed_request"  # where the middleware leaves the `ParsedRequest` in the ASGI scope
NOT_JSON: Any = object()  # `ParsedRequest.payload` of a body that is not UTF-8 JSON


@dataclass(frozen=True)
class ParsedRequest:
    """A POST to one of the chain's generating endpoints: its route, its body, and the body's JSON value."""

    endpoint: Endpoint
    config_hash: str | None  # the `/c/{config_hash}/` segment of the path, when present
    body: bytes
    payload: Any  # the parsed JSON (any JSON value), or `NOT_JSON`
    utf8: bool = True  # False: the body is not UTF-8 text (so `payload` is `NOT_JSON`)

    @classmethod
    def of(cls, endpoint: Endpoint, config_hash: str | None, body: bytes) -> ParsedRequest:
        """Parses `body` (the one parse of this request)."""
        try:
            text = body.decode("utf-8-sig")  # decoded once; a UTF-8 BOM is fine, as for Starlette's `Request.json()`
        except UnicodeDecodeError:
            return cls(endpoint, config_hash, body, NOT_JSON, utf8=False)
        try:
            payload = json.loads(text)
        except ValueError:
            payload = NOT_JSON
        return cls(endpoint, config_hash, body, payload)

    @property
    def is_json(self) -> bool:
        return self.payload is not NOT_JSON

    @property
    def inputs(self) -> list[Any] | None:
        """The inputs the body asks for (`inputs` of a batch, else `[input]`); None when it names none."""
        payload = self.payload
        if not isinstance(payload, dict):
            return None
        if isinstance(payload.get("inputs"), list):
            return list(payload["inputs"])
        return [payload["input"]] if "input" in payload else None

    def with_payload(self, payload: dict[str, Any]) -> ParsedRequest:
        """This request with its JSON replaced by `payload` (and the body re-encoded to match)."""
        return dataclasses.replace(self, body=json.dumps(payload).encode(), payload=payload)


def parsed_request(scope: Mapping[str, Any]) -> ParsedRequest | None:
    """The request's `ParsedRequest`; None for anything but a POST to a generating endpoint of the chain."""
    parsed = scope.get(SCOPE_KEY)
    return parsed if isinstance(parsed, ParsedRequest) else None


def in_scope(scope: dict[str, Any], parsed: ParsedRequest) -> dict[str, Any]:
    """`scope` carrying `parsed`, with its content-length header set to `parsed.body`'s."""
    headers = [(name, value) for name, value in scope.get("headers", []) if name != b"content-length"]
    return {**scope, SCOPE_KEY: parsed, "headers": [*headers, (b"content-length", str(len(parsed.body)).encode())]}


def route_pattern(chain_path: str) -> re.Pattern[str]:
    """Matches the generating endpoints of the chain served at `chain_path`, with or without a config hash."""
    return re.compile(rf"^{re.escape(chain_path)}/(?:c/(?P<config_hash>[^/]+)/)?"
                      rf"(?P<endpoint>{'|'.join(GENERATION_ENDPOINTS)})$")


class ParseRequestMiddleware:
    """ASGI middleware: reads and parses a generating request once (413 past the size limit), for the layers within."""

    def __init__(self, app: Any, *, chain_path: str, max_body_bytes: int) -> None:
        self.app = app
        self.pattern = route_pattern(chain_path)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        match = self.pattern.match(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, limit=self.max_body_bytes)
        except BodyTooLarge as exc:
            await send_json(send, 413, {"detail": str(exc)})
            return
        endpoint: Endpoint = match["endpoint"]  # type: ignore[assignment]  # the pattern only matches these
        parsed = ParsedRequest.of(endpoint, match["config_hash"], body)
        await self.app({**scope, SCOPE_KEY: parsed}, replaying(body, receive), send)

"""Rate limiting of the generation endpoints per API key (or client address) and per `user_id`."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

from peptalk.security.asgi import CLIENT_KEY, BodyTooLarge, Receive, Send, read_body, replaying, send_json
from peptalk.security.buckets import Refusal
from peptalk.security.limiter import Charge, RateLimiter

# LangServe's generating endpoints, also under a config hash (`/peptalk/c/<hash>/invoke`).
GENERATION_ENDPOINTS = ("invoke", "batch", "stream", "stream_log", "stream_events")
_USER_ID = re.compile(r"^[A-Za-z0-9_.@:+\-]{1,128}$")  # the schema's rule; others get a 422 from the app anyway


def generation_path_pattern(prefix: str) -> re.Pattern[str]:
    """Matches the generating endpoints of the chain served at `prefix`."""
    return re.compile(rf"^{re.escape(prefix)}/(?:c/[^/]+/)?(?:{'|'.join(GENERATION_ENDPOINTS)})$")


def requested_users(body: bytes) -> tuple[int, Counter[str]]:
    """How many inputs a LangServe body asks for, and how many of them per `user_id`."""
    try:
        payload = json.loads(body)
    except ValueError:
        return 1, Counter()
    if not isinstance(payload, dict):
        return 1, Counter()
    if isinstance(payload.get("inputs"), list):
        inputs = payload["inputs"]
    elif "input" in payload:
        inputs = [payload["input"]]
    else:
        return 1, Counter()
    users = Counter(item["user_id"] for item in inputs
                    if isinstance(item, dict) and isinstance(item.get("user_id"), str) and _USER_ID.match(item["user_id"]))
    return max(1, len(inputs)), users


def client_identity(scope: dict[str, Any]) -> str:
    """The API key's id when one was checked, else the client's address."""
    if CLIENT_KEY in scope:
        return str(scope[CLIENT_KEY])
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


def refusal_body(refusal: Refusal, retry_after: int) -> dict[str, Any]:
    who = "this API key" if refusal.scope == "key" else f"user {refusal.identity!r}"
    if math.isinf(refusal.retry_after_s):
        detail = f"the request asks for more than {who}'s limit of {refusal.per_minute} per minute; split the batch"
    else:
        detail = f"rate limit of {refusal.per_minute} requests per minute exceeded for {who}; retry after {retry_after} s"
    return {"detail": detail, "limit": refusal.scope, "per_minute": refusal.per_minute, "retry_after_s": retry_after}


class RateLimitMiddleware:
    """ASGI middleware: a 429 with `Retry-After` when a key's or a user's bucket is empty.

    A batch costs one token per input, for its key and for each input's user. Where the tokens are counted
    (in this process, or in Redis for every replica) is the `limiter`'s business.
    """

    def __init__(self, app: Any, *, prefix: str, limiter: RateLimiter, max_body_bytes: int) -> None:
        self.app = app
        self.pattern = generation_path_pattern(prefix)
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not self.pattern.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, limit=self.max_body_bytes)
        except BodyTooLarge as exc:
            await send_json(send, 413, {"detail": str(exc)})
            return
        inputs, users = requested_users(body)
        charges = [Charge("key", client_identity(scope), inputs)]
        charges += [Charge("user", user, count) for user, count in users.items()]
        refusal = await self.limiter.admit(charges)
        if refusal is not None:
            retry_after = 60 if math.isinf(refusal.retry_after_s) else max(1, math.ceil(refusal.retry_after_s))
            await send_json(send, 429, refusal_body(refusal, retry_after), headers={"Retry-After": str(retry_after)})
            return
        await self.app(scope, replaying(body, receive), send)
